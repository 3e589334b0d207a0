// HTTP/1.x request head parsing. See http.h for the contract, limits and RFC sections.
//
// The bytes are viewed as a std::string_view capped at kMaxHttpHeaderBytes and read
// only through bounds-checked indices (i < text.size()) and substr(); checks run in
// stream order, so the first fault found is the same for every longer stream.

#include "classifiers/http.h"

#include <algorithm>

#include "classifiers/byte_reader.h"

namespace vigie {
namespace {

constexpr uint32_t kMaxPort = 65535;

constexpr HttpParseResult Ok() { return {ParseStatus::kOk, HttpMalformed::kNone}; }
constexpr HttpParseResult NeedMore() { return {ParseStatus::kNeedMore, HttpMalformed::kNone}; }
constexpr HttpParseResult Bad(HttpMalformed e) { return {ParseStatus::kMalformed, e}; }

constexpr bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// tchar (RFC 9110 §5.6.2).
constexpr bool IsTchar(char c) {
  if (IsAlpha(c) || IsDigit(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// unreserved / sub-delims (RFC 3986 §2.2-2.3) plus '%' of pct-encoded: the bytes of a
// reg-name or IPv4address (RFC 3986 §3.2.2). Escapes are not decoded.
constexpr bool IsRegNameChar(char c) {
  if (IsAlpha(c) || IsDigit(c)) return true;
  switch (c) {
    case '-': case '.': case '_': case '~':                                          // unreserved
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':  // sub-delims
    case ',': case ';': case '=':
    case '%':
      return true;
    default:
      return false;
  }
}

// Request-target bytes: anything but CTL, SP and DEL (obs-text tolerated).
constexpr bool IsTargetChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f;
}

constexpr char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr bool IsWs(char c) { return c == ' ' || c == '\t'; }

bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != lower[i]) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

enum class Scan : uint8_t { kOk, kNeedMore, kBad };

// method (SP / HTAB) at the start of `text`: sets *method_len on kOk.
Scan ScanMethod(std::string_view text, size_t* method_len) {
  size_t i = 0;
  while (i < text.size() && IsTchar(text[i])) {
    if (++i > kMaxHttpMethodBytes) return Scan::kBad;
  }
  if (i == text.size()) return Scan::kNeedMore;
  if (i == 0 || !IsWs(text[i])) return Scan::kBad;
  *method_len = i;
  return Scan::kOk;
}

// A line end at text[i]: CRLF or a bare LF (RFC 9112 §2.2). Sets *next past it.
// kBad for a CR not followed by LF, or any other byte.
Scan ScanLineEnd(std::string_view text, size_t i, size_t* next) {
  if (i >= text.size()) return Scan::kNeedMore;
  if (text[i] == '\n') {
    *next = i + 1;
    return Scan::kOk;
  }
  if (text[i] != '\r') return Scan::kBad;
  if (i + 1 >= text.size()) return Scan::kNeedMore;
  if (text[i + 1] != '\n') return Scan::kBad;
  *next = i + 2;
  return Scan::kOk;
}

struct HostPort {
  std::string_view host;
  uint16_t port = 0;
  bool has_port = false;
};

// uri-host [":" port] (RFC 3986 §3.2.2-3.2.3, RFC 9110 §7.2). An empty input is a
// valid empty host; a non-empty input needs a non-empty host. IP-literal brackets
// are stripped from the reported host.
bool SplitHostPort(std::string_view v, HostPort* hp) {
  *hp = HostPort{};
  if (v.empty()) return true;
  std::string_view rest;
  if (v.front() == '[') {
    // IP-literal = "[" ( IPv6address / IPv6addrz / IPvFuture ) "]": bytes checked
    // loosely (hex digits, ':', '.', 'v', zone "%25..." all fit this set).
    const size_t close = v.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    hp->host = v.substr(1, close - 1);
    for (char c : hp->host) {
      if (!IsRegNameChar(c) && c != ':') return false;
    }
    rest = v.substr(close + 1);
  } else {
    const size_t colon = v.find(':');
    hp->host = v.substr(0, colon);
    if (hp->host.empty()) return false;
    for (char c : hp->host) {
      if (!IsRegNameChar(c)) return false;
    }
    if (colon != std::string_view::npos) rest = v.substr(colon);
  }
  if (rest.empty()) return true;
  if (rest.front() != ':') return false;
  rest.remove_prefix(1);
  if (rest.empty()) return true;  // port = *DIGIT: "host:" has no port (RFC 3986 §3.2.3)
  uint32_t port = 0;
  for (char c : rest) {
    if (!IsDigit(c)) return false;
    port = port * 10 + static_cast<uint32_t>(c - '0');
    if (port > kMaxPort) return false;
  }
  hp->port = static_cast<uint16_t>(port);
  hp->has_port = true;
  return true;
}

// Classifies the request-target (RFC 9112 §3.2) and, for absolute-form and
// authority-form, extracts its host. Returns false if the target is invalid.
bool ParseTarget(std::string_view method, std::string_view target, bool* has_target_host,
                 HostPort* target_host, bool* absolute_form) {
  *has_target_host = false;
  *absolute_form = false;
  if (method == "CONNECT") {  // authority-form only, port required (RFC 9110 §9.3.6)
    if (target.find('@') != std::string_view::npos) return false;
    if (!SplitHostPort(target, target_host) || target_host->host.empty() || !target_host->has_port) {
      return false;
    }
    *has_target_host = true;
    return true;
  }
  if (target.front() == '/') return true;  // origin-form
  if (target == "*") return method == "OPTIONS";
  // absolute-form: scheme "://" authority [path-abempty] ["?" query] (RFC 3986 §3).
  size_t i = 0;
  if (!IsAlpha(target[0])) return false;
  while (i < target.size() && (IsAlpha(target[i]) || IsDigit(target[i]) || target[i] == '+' ||
                               target[i] == '-' || target[i] == '.')) {
    ++i;
  }
  if (target.substr(i, 3) != "://") return false;
  std::string_view authority = target.substr(i + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) return false;  // userinfo (RFC 9110 §4.2.4)
  if (!SplitHostPort(authority, target_host) || target_host->host.empty()) return false;
  *has_target_host = true;
  *absolute_form = true;
  return true;
}

}  // namespace

const char* HttpMalformedName(HttpMalformed e) {
  switch (e) {
    case HttpMalformed::kNone:
      return "none";
    case HttpMalformed::kNotHttp:
      return "not_http";
    case HttpMalformed::kTooLarge:
      return "too_large";
    case HttpMalformed::kBadRequestLine:
      return "bad_request_line";
    case HttpMalformed::kBadHeader:
      return "bad_header";
    case HttpMalformed::kNoHost:
      return "no_host";
    case HttpMalformed::kDuplicateHost:
      return "duplicate_host";
    case HttpMalformed::kBadChunk:
      return "bad_chunk";
  }
  return "unknown";
}

bool LooksLikeHttpRequest(absl::Span<const uint8_t> prefix) {
  std::string_view text = ByteReader::AsChars(prefix).substr(0, kMaxHttpHeaderBytes);
  while (!text.empty() && (text.front() == '\r' || text.front() == '\n')) text.remove_prefix(1);
  size_t method_len = 0;
  return ScanMethod(text, &method_len) == Scan::kOk;
}

namespace {

// Splits a comma-separated list (RFC 9110 §5.6.1) and calls f on each OWS-trimmed
// element (empty elements included, as they appear).
template <typename F>
void ForEachListItem(std::string_view v, F f) {
  for (;;) {
    const size_t comma = v.find(',');
    f(TrimOws(v.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    v.remove_prefix(comma + 1);
  }
}

// Content-Length (RFC 9110 §8.6): 1*DIGIT, or a list of identical values.
// Sets flags for repeats, conflicts and bad values; *len is the first value.
void ReadContentLength(std::string_view value, bool seen_before, uint64_t* len, bool* have, uint8_t* flags) {
  if (seen_before) *flags |= kHttpFramingDuplicateContentLength;
  ForEachListItem(value, [&](std::string_view item) {
    if (item.empty()) {
      *flags |= kHttpFramingBadContentLength;
      return;
    }
    uint64_t v = 0;
    for (char c : item) {
      if (!IsDigit(c) || v > (kMaxHttpContentLength - static_cast<uint64_t>(c - '0')) / 10) {
        *flags |= kHttpFramingBadContentLength;
        return;
      }
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!*have) {
      *len = v;
      *have = true;
    } else if (v != *len) {
      *flags |= kHttpFramingConflictingContentLength;
    } else {
      *flags |= kHttpFramingDuplicateContentLength;
    }
  });
}

// Transfer-Encoding (RFC 9112 §6.1): codings in order, parameters after ';'
// ignored. Tracks whether the last coding is chunked and whether chunked appears
// elsewhere (applied twice, or not last: both faulty framing for a request).
void ReadTransferEncoding(std::string_view value, bool* last_chunked, bool* chunked_not_last) {
  ForEachListItem(value, [&](std::string_view item) {
    item = TrimOws(item.substr(0, item.find(';')));
    if (item.empty()) return;  // empty list elements are ignored (RFC 9110 §5.6.1)
    if (*last_chunked) *chunked_not_last = true;
    *last_chunked = EqualsIgnoreCase(item, "chunked");
  });
}

}  // namespace

HttpParseResult ParseHttpRequest(absl::Span<const uint8_t> stream, HttpRequestInfo* out) {
  *out = HttpRequestInfo{};
  const std::string_view text = ByteReader::AsChars(stream).substr(0, kMaxHttpHeaderBytes);
  // Out of bytes before the head ends: wait, unless the cap is what stopped us.
  const HttpParseResult short_result =
      stream.size() >= kMaxHttpHeaderBytes ? Bad(HttpMalformed::kTooLarge) : NeedMore();

  // --- empty lines before the request-line (RFC 9112 §2.2; nginx sw_start skips CR and LF) ---
  size_t start = 0;
  while (start < text.size() && (text[start] == '\r' || text[start] == '\n')) ++start;
  out->leading_bytes = start;
  if (start == text.size()) return short_result;

  // --- request-line (RFC 9112 §3), whitespace runs between the words ---
  size_t method_len = 0;
  switch (ScanMethod(text.substr(start), &method_len)) {
    case Scan::kOk:
      break;
    case Scan::kNeedMore:
      return short_result;
    case Scan::kBad:
      return Bad(HttpMalformed::kNotHttp);
  }
  size_t i = start + method_len;
  while (i < text.size() && IsWs(text[i])) ++i;
  if (i == text.size()) return short_result;
  const size_t target_start = i;
  while (i < text.size() && IsTargetChar(text[i])) ++i;
  if (i == text.size()) return short_result;
  if (!IsWs(text[i]) || i == target_start) return Bad(HttpMalformed::kBadRequestLine);
  const std::string_view target = text.substr(target_start, i - target_start);
  while (i < text.size() && IsWs(text[i])) ++i;
  // HTTP-version: "HTTP/" 1*DIGIT(=1) "." 1*kMaxHttpMinorDigits DIGIT (nginx reads
  // multi-digit numbers, e.g. "HTTP/01.1" and "HTTP/1.10").
  for (char expected : std::string_view("HTTP/")) {
    if (i >= text.size()) return short_result;
    if (text[i] != expected) return Bad(HttpMalformed::kBadRequestLine);
    ++i;
  }
  uint32_t major = 0;
  size_t digits = 0;
  while (i < text.size() && IsDigit(text[i])) {
    if (++digits > kMaxHttpVersionDigits) return Bad(HttpMalformed::kBadRequestLine);
    major = major * 10 + static_cast<uint32_t>(text[i++] - '0');
  }
  if (i >= text.size()) return short_result;
  if (digits == 0 || major != 1 || text[i] != '.') return Bad(HttpMalformed::kBadRequestLine);
  ++i;
  uint32_t minor = 0;
  digits = 0;
  while (i < text.size() && IsDigit(text[i])) {
    if (++digits > kMaxHttpVersionDigits) return Bad(HttpMalformed::kBadRequestLine);
    minor = minor * 10 + static_cast<uint32_t>(text[i++] - '0');
  }
  if (i >= text.size()) return short_result;
  if (digits == 0) return Bad(HttpMalformed::kBadRequestLine);
  while (i < text.size() && IsWs(text[i])) ++i;  // nginx sw_spaces_after_digit
  const auto version_minor = static_cast<uint8_t>(minor > 255 ? 255 : minor);
  size_t pos = 0;
  switch (ScanLineEnd(text, i, &pos)) {
    case Scan::kOk:
      break;
    case Scan::kNeedMore:
      return short_result;
    case Scan::kBad:
      return Bad(HttpMalformed::kBadRequestLine);
  }
  out->method = text.substr(start, method_len);
  out->target = target;
  out->version_minor = version_minor;
  bool has_target_host = false;
  HostPort target_host;
  if (!ParseTarget(out->method, target, &has_target_host, &target_host, &out->absolute_form)) {
    return Bad(HttpMalformed::kBadRequestLine);
  }

  // Every host a server may read, first the reported one.
  auto add_host = [out](std::string_view h) {
    for (size_t k = 0; k < out->host_count; ++k) {
      if (SameName(out->host_names[k], h)) return;  // the same name again is no ambiguity
    }
    if (out->host_count > 0) out->host_ambiguous = true;
    if (out->host_count < kMaxHttpHostNames) {
      out->host_names[out->host_count++] = h;
    } else {
      out->hosts_capped = true;
    }
  };
  // The reported host: the target's when it has one (RFC 9112 §3.2.2), else Host's.
  HostPort header_host;
  auto report_host = [&] {
    const HostPort& hp = has_target_host ? target_host : header_host;
    out->host = hp.host;
    out->port = hp.port;
    out->has_port = hp.has_port;
  };
  report_host();
  if (has_target_host) add_host(target_host.host);

  bool have_cl = false, seen_cl = false, seen_te = false, last_chunked = false, chunked_not_last = false;
  uint8_t flags = 0;

  // --- field lines (RFC 9112 §5) until the empty line ---
  for (;;) {
    if (pos >= text.size()) return short_result;
    if (text[pos] == '\r' || text[pos] == '\n') {
      size_t end = 0;
      switch (ScanLineEnd(text, pos, &end)) {
        case Scan::kOk:
          break;
        case Scan::kNeedMore:
          return short_result;
        case Scan::kBad:
          return Bad(HttpMalformed::kBadHeader);
      }
      out->header_bytes = end;
      // Body framing (RFC 9112 §6.3): Transfer-Encoding overrides Content-Length.
      if (seen_te) {
        if (seen_cl) flags |= kHttpFramingContentLengthAndChunked;
        if (!last_chunked || chunked_not_last) flags |= kHttpFramingBadTransferEncoding;
        if (version_minor == 0) flags |= kHttpFramingTransferEncodingInHttp10;  // RFC 9112 §6.1: faulty
        out->framing = last_chunked ? HttpBodyFraming::kChunked : HttpBodyFraming::kUnknown;
      } else if (seen_cl) {
        const bool usable = have_cl && !(flags & (kHttpFramingBadContentLength | kHttpFramingConflictingContentLength));
        out->framing = usable ? HttpBodyFraming::kContentLength : HttpBodyFraming::kUnknown;
      } else {
        out->framing = HttpBodyFraming::kNone;
      }
      out->framing_flags = flags;
      out->framing_ambiguous = flags != 0;
      if (version_minor >= 1 && !out->has_host_header) return Bad(HttpMalformed::kNoHost);
      return Ok();
    }
    // A second Host field is judged at its colon (RFC 9112 §3.2: servers MUST
    // answer 400, and nginx, Apache and Go do, then close: nothing after it is
    // served, so the walk of the connection can stop here).
    if (out->has_host_header) {
      size_t n = pos;
      while (n < text.size() && IsTchar(text[n])) ++n;
      if (n < text.size() && text[n] == ':' && EqualsIgnoreCase(text.substr(pos, n - pos), "host")) {
        out->host_ambiguous = true;
        return Bad(HttpMalformed::kDuplicateHost);
      }
    }
    // The line's extent first: a line is judged only once it is whole.
    size_t k = pos;
    while (k < text.size() && text[k] != '\r' && text[k] != '\n') {
      if (text[k] == '\0') return Bad(HttpMalformed::kBadHeader);  // NUL: RFC 9110 §5.5, nginx 400
      ++k;
    }
    size_t next = 0;
    switch (ScanLineEnd(text, k, &next)) {
      case Scan::kOk:
        break;
      case Scan::kNeedMore:
        return short_result;
      case Scan::kBad:
        return Bad(HttpMalformed::kBadHeader);
    }
    const std::string_view line = text.substr(pos, k - pos);
    pos = next;
    // field-name: a token directly followed by ':'. Anything else (obs-fold or
    // whitespace-led line, whitespace before the colon, no colon, empty name) is
    // ignored, as nginx does by default (ignore_invalid_headers), and counted;
    // when what it names looks like Host or a framing field, another server may
    // read it: its reading is reported as an ambiguity.
    size_t j = 0;
    while (j < line.size() && IsTchar(line[j])) ++j;
    if (j == 0 || j == line.size() || line[j] != ':') {
      if (out->ignored_lines < UINT16_MAX) ++out->ignored_lines;
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string_view odd_name = TrimOws(line.substr(0, colon));
      const std::string_view odd_value = TrimOws(line.substr(colon + 1));
      if (EqualsIgnoreCase(odd_name, "host")) {
        HostPort hp;
        if (SplitHostPort(odd_value, &hp) && !hp.host.empty()) add_host(hp.host);
        out->host_ambiguous = true;
      } else if (EqualsIgnoreCase(odd_name, "content-length") || EqualsIgnoreCase(odd_name, "transfer-encoding")) {
        flags |= kHttpFramingOddFieldLine;
      }
      continue;
    }
    const std::string_view name = line.substr(0, j);
    const std::string_view value = TrimOws(line.substr(j + 1));
    if (EqualsIgnoreCase(name, "host")) {
      HostPort hp;
      if (!SplitHostPort(value, &hp)) return Bad(HttpMalformed::kBadHeader);
      header_host = hp;
      out->host_header = value;
      out->has_host_header = true;
      report_host();
      if (!hp.host.empty()) add_host(hp.host);
    } else if (EqualsIgnoreCase(name, "content-length")) {
      ReadContentLength(value, seen_cl, &out->content_length, &have_cl, &flags);
      seen_cl = true;
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      if (seen_te) flags |= kHttpFramingDuplicateTransferEncoding;
      ReadTransferEncoding(value, &last_chunked, &chunked_not_last);
      seen_te = true;
    }
  }
}

namespace {

enum ChunkPhase : uint8_t {
  kChunkSize = 0,     // hex digits of chunk-size (at least one)
  kChunkExt,          // after the size: BWS, chunk-ext, up to the line end
  kChunkSizeLf,       // CR seen after the size line, LF wanted
  kChunkData,         // `left` data bytes to skip
  kChunkDataCr,       // CRLF (or LF) after the data
  kChunkDataLf,
  kTrailerLineStart,  // start of a trailer field line, or of the final empty line
  kTrailerLine,       // inside a trailer line
  kTrailerLf,         // CR seen at the end of a trailer line
  kFinalLf,           // CR of the final empty line seen
  kChunkDone,
};

constexpr int HexValue(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

HttpChunkedResult SkipChunkedBody(HttpChunkedState* st, absl::Span<const uint8_t> bytes) {
  ByteReader r(bytes);
  auto bad = [&] {
    st->phase = kChunkDone;
    return HttpChunkedResult{ParseStatus::kMalformed, HttpMalformed::kBadChunk, r.offset()};
  };
  while (!r.empty()) {
    if (st->phase == kChunkDone) return {ParseStatus::kOk, HttpMalformed::kNone, r.offset()};  // called after the end
    if (st->phase == kChunkData) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(st->left, r.remaining()));
      r.Skip(take);
      st->left -= take;
      st->body_bytes += take;
      if (st->left == 0) st->phase = kChunkDataCr;
      continue;
    }
    const uint8_t c = r.ReadU8();
    switch (st->phase) {
      case kChunkSize: {
        const int h = HexValue(c);
        if (h >= 0) {
          if (st->left > (kMaxHttpChunkSize >> 4)) return bad();
          st->left = (st->left << 4) | static_cast<uint64_t>(h);
          st->size_digits = 1;
          break;
        }
        if (st->size_digits == 0) return bad();
        if (c == ';' || c == ' ' || c == '\t') {
          st->phase = kChunkExt;
        } else if (c == '\r') {
          st->phase = kChunkSizeLf;
        } else if (c == '\n') {
          st->phase = st->left == 0 ? kTrailerLineStart : kChunkData;
        } else {
          return bad();
        }
        break;
      }
      case kChunkExt:  // chunk-ext bytes are skipped as they come (no buffering, no cap needed)
        if (c == '\r') {
          st->phase = kChunkSizeLf;
        } else if (c == '\n') {
          st->phase = st->left == 0 ? kTrailerLineStart : kChunkData;
        } else if (c == '\0') {
          return bad();
        }
        break;
      case kChunkSizeLf:
        if (c != '\n') return bad();
        st->phase = st->left == 0 ? kTrailerLineStart : kChunkData;
        break;
      case kChunkDataCr:
        if (c == '\r') {
          st->phase = kChunkDataLf;
        } else if (c == '\n') {
          st->phase = kChunkSize, st->size_digits = 0, ++st->chunks;
        } else {
          return bad();
        }
        break;
      case kChunkDataLf:
        if (c != '\n') return bad();
        st->phase = kChunkSize, st->size_digits = 0, ++st->chunks;
        break;
      case kTrailerLineStart:
        if (c == '\r') {
          st->phase = kFinalLf;
        } else if (c == '\n') {
          st->phase = kChunkDone;
          return {ParseStatus::kOk, HttpMalformed::kNone, r.offset()};
        } else {
          st->phase = kTrailerLine;
        }
        break;
      case kTrailerLine:
        if (c == '\r') {
          st->phase = kTrailerLf;
        } else if (c == '\n') {
          st->phase = kTrailerLineStart;
        } else if (c == '\0') {
          return bad();
        }
        break;
      case kTrailerLf:
        if (c != '\n') return bad();
        st->phase = kTrailerLineStart;
        break;
      case kFinalLf:
        if (c != '\n') return bad();
        st->phase = kChunkDone;
        return {ParseStatus::kOk, HttpMalformed::kNone, r.offset()};
      default:
        return bad();
    }
  }
  return {ParseStatus::kNeedMore, HttpMalformed::kNone, r.offset()};
}

}  // namespace vigie
