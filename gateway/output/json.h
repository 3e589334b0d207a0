// The one JSON writer: decision lines, `vigie lookup` lines and the
// --summary-json figures of replay and run are all written through it, so
// escaping and layout are the same everywhere.
//
// JsonWriter appends compact JSON (no spaces, no newline) to a caller's
// string and places the commas itself. Strings from the wire go through
// AppendJsonString: every line is valid JSON and valid UTF-8 whatever bytes
// the packet held (quotes and backslashes escaped, control bytes, DEL and bytes
// that are not part of a valid UTF-8 sequence become \u00XX).
//
// Limits: nesting up to kMaxJsonDepth (the formats here use 3).
// Thread safety: a writer belongs to the thread that formats; no shared state.
// Allocation: only the output string grows (reuse it to avoid allocating).
#ifndef VIGIE_GATEWAY_OUTPUT_JSON_H_
#define VIGIE_GATEWAY_OUTPUT_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace vigie {

// Appends `s` to `out` as a JSON string (with quotes).
void AppendJsonString(std::string_view s, std::string* out);

// Deepest object/array nesting a writer tracks (one bit per level).
inline constexpr int kMaxJsonDepth = 32;

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  // An object member's name; the value call follows.
  JsonWriter& Key(std::string_view k);
  JsonWriter& String(std::string_view s);
  // One string value written from two parts without building it: `s`
  // escaped as above, then `plain_tail` as is (printable ASCII with no '"'
  // or '\\', e.g. ":42").
  JsonWriter& String(std::string_view s, std::string_view plain_tail);
  JsonWriter& Uint(uint64_t v);
  JsonWriter& Int(int64_t v);
  JsonWriter& Bool(bool b);
  JsonWriter& Null();
  // A number with `decimals` digits after the point (e.g. seconds).
  JsonWriter& Fixed(double v, int decimals);
  // A value already formatted as JSON (a nested line, a quoted timestamp).
  JsonWriter& Raw(std::string_view json);

  // Member shorthands.
  JsonWriter& Field(std::string_view k, std::string_view s) { return Key(k).String(s); }
  JsonWriter& Field(std::string_view k, const char* s) { return Key(k).String(s); }
  JsonWriter& Field(std::string_view k, uint64_t v) { return Key(k).Uint(v); }
  JsonWriter& Field(std::string_view k, bool b) { return Key(k).Bool(b); }
  JsonWriter& FieldOrNull(std::string_view k, bool present, std::string_view s) {
    Key(k);
    return present ? String(s) : Null();
  }

  std::string* out() const { return out_; }

 private:
  JsonWriter& Open(char c);
  JsonWriter& Close(char c);
  void BeforeValue();

  std::string* out_;
  int depth_ = 0;
  uint32_t has_items_ = 0;  // bit d: the container at depth d already holds an item
  bool after_key_ = false;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_OUTPUT_JSON_H_
