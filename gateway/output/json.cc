#include "gateway/output/json.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vigie {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t Utf8Len(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t min;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) n = 2, min = 0x80;
  else if ((c & 0xF0) == 0xE0) n = 3, min = 0x800;
  else if ((c & 0xF8) == 0xF0) n = 4, min = 0x10000;
  else return 0;
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      absl::StrAppendFormat(out, "\\u%04x", c);
      ++i;
    } else if (c < 0x80) {
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (size_t n = Utf8Len(s, i); n > 0) {
      out->append(s.substr(i, n));
      i += n;
    } else {
      absl::StrAppendFormat(out, "\\u%04x", c);  // a stray byte, shown as U+00XX
      ++i;
    }
  }
  out->push_back('"');
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ > 0) {
    uint32_t bit = 1u << (depth_ - 1);
    if (has_items_ & bit) out_->push_back(',');
    has_items_ |= bit;
  }
}

JsonWriter& JsonWriter::Open(char c) {
  BeforeValue();
  out_->push_back(c);
  if (depth_ < kMaxJsonDepth) {
    ++depth_;
    has_items_ &= ~(1u << (depth_ - 1));
  }
  return *this;
}

JsonWriter& JsonWriter::Close(char c) {
  if (depth_ > 0) --depth_;
  out_->push_back(c);
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view k) {
  BeforeValue();
  AppendJsonString(k, out_);
  out_->push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view s) {
  BeforeValue();
  AppendJsonString(s, out_);
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view s, std::string_view plain_tail) {
  BeforeValue();
  AppendJsonString(s, out_);
  out_->pop_back();  // the closing quote
  out_->append(plain_tail);
  out_->push_back('"');
  return *this;
}

JsonWriter& JsonWriter::Uint(uint64_t v) {
  BeforeValue();
  absl::StrAppend(out_, v);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t v) {
  BeforeValue();
  absl::StrAppend(out_, v);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool b) {
  BeforeValue();
  out_->append(b ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::Null() {
  BeforeValue();
  out_->append("null");
  return *this;
}

JsonWriter& JsonWriter::Fixed(double v, int decimals) {
  BeforeValue();
  absl::StrAppendFormat(out_, "%.*f", decimals, v);
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_->append(json);
  return *this;
}

}  // namespace vigie
