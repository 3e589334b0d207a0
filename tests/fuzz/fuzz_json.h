// Test oracle shared by the fuzz targets that emit JSON (pipeline, eve,
// the TCP/CRYPTO split differentials): a strict parse with nlohmann::json and
// the value each escaping contract promises for a string from the wire.
//
//   Vigie lines (output/json.h AppendJsonString): valid UTF-8 sequences are
//   kept, '"' '\' and control bytes (and DEL) are JSON escapes of the same
//   code point, and a byte that is not part of a valid UTF-8 sequence is
//   U+00XX: the parsed value is the raw bytes with each stray byte replaced
//   by its Latin-1 code point.
//   EVE lines (output/eve.h AppendEveString): a valid UTF-8 string is kept;
//   in one that is not, every byte >= 0x80 is the four characters \xNN.
//
// The UTF-8 check here is written independently of the writers' (RFC 3629
// section 4 table), so the oracle does not share their bugs.
//
// A broken contract aborts (a crash libFuzzer keeps), printing what and the line.
// Test-only, header-only; allocates freely.
#ifndef VIGIE_TESTS_FUZZ_FUZZ_JSON_H_
#define VIGIE_TESTS_FUZZ_FUZZ_JSON_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace vigie::fuzz {

[[noreturn]] inline void Fail(const char* what, std::string_view line) {
  std::fprintf(stderr, "contract broken: %s\n  line: %.*s\n", what, static_cast<int>(line.size()), line.data());
  std::abort();
}

inline void Check(bool ok, const char* what, std::string_view line = {}) {
  if (!ok) Fail(what, line);
}

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629 section 4
// "UTF8-octets" ABNF, case by case), 0 if none.
inline size_t WellFormedUtf8At(std::string_view s, size_t i) {
  const auto at = [&](size_t k, unsigned lo, unsigned hi) {
    if (i + k >= s.size()) return false;
    const unsigned b = static_cast<unsigned char>(s[i + k]);
    return b >= lo && b <= hi;
  };
  const unsigned c = static_cast<unsigned char>(s[i]);
  if (c <= 0x7F) return 1;
  if (c >= 0xC2 && c <= 0xDF) return at(1, 0x80, 0xBF) ? 2 : 0;
  if (c == 0xE0) return at(1, 0xA0, 0xBF) && at(2, 0x80, 0xBF) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return at(1, 0x80, 0xBF) && at(2, 0x80, 0xBF) ? 3 : 0;
  if (c == 0xED) return at(1, 0x80, 0x9F) && at(2, 0x80, 0xBF) ? 3 : 0;
  if (c == 0xF0) return at(1, 0x90, 0xBF) && at(2, 0x80, 0xBF) && at(3, 0x80, 0xBF) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return at(1, 0x80, 0xBF) && at(2, 0x80, 0xBF) && at(3, 0x80, 0xBF) ? 4 : 0;
  if (c == 0xF4) return at(1, 0x80, 0x8F) && at(2, 0x80, 0xBF) && at(3, 0x80, 0xBF) ? 4 : 0;
  return 0;
}

inline bool WellFormedUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = WellFormedUtf8At(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// The value a Vigie line's string must parse to.
inline std::string ExpectedVigieValue(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size();) {
    const size_t n = WellFormedUtf8At(raw, i);
    if (n > 0) {
      out.append(raw.substr(i, n));
      i += n;
      continue;
    }
    const unsigned c = static_cast<unsigned char>(raw[i++]);  // >= 0x80: U+00XX in UTF-8
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
  return out;
}

// The value an EVE line's string must parse to.
inline std::string ExpectedEveValue(std::string_view raw) {
  if (WellFormedUtf8(raw)) return std::string(raw);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : raw) {
    const unsigned c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The text of a JSON line must hold no raw control byte and no DEL (a log
// line a terminal, a syslog relay or a SIEM reads as is), and parse strictly.
inline nlohmann::json ParseLine(std::string_view line) {
  for (const char ch : line) {
    const unsigned c = static_cast<unsigned char>(ch);
    Check(c >= 0x20 && c != 0x7F, "raw control byte or DEL in a JSON line", line);
  }
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/false);
  Check(!j.is_discarded(), "not valid JSON (nlohmann::json::parse, strict)", line);
  Check(j.is_object(), "a line is one JSON object", line);
  return j;
}

// j[key] is a string equal to `expected`.
inline void CheckString(const nlohmann::json& j, const char* key, const std::string& expected, std::string_view line) {
  auto it = j.find(key);
  Check(it != j.end() && it->is_string(), key, line);
  if (it->get_ref<const std::string&>() != expected) {
    std::fprintf(stderr, "field %s: expected %s\n", key, nlohmann::json(expected).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    Fail("a string from the wire does not round-trip", line);
  }
}

}  // namespace vigie::fuzz

#endif  // VIGIE_TESTS_FUZZ_FUZZ_JSON_H_
