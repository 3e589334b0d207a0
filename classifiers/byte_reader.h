// Vigie classifiers: ByteReader, the one bounded cursor over untrusted wire bytes.
//
// Purpose: every parser in classifiers/ reads packet bytes through this class, so
// that bounds checks live in exactly one place (STYLE.md 1; modelled on knot's
// wire_ctx and BoringSSL's CBS).
//
// Contract:
//  - A ByteReader is a view: it does not own the bytes. The span it was built
//    over must outlive the reader and everything returned by ReadBytes() and
//    ReadPrefixed*() (those are views into the same bytes).
//  - Multi-byte integers are big-endian (network order), loaded with memcpy, so
//    no alignment or aliasing assumptions are made.
//  - Errors are sticky: a read that would go past the end sets the error flag,
//    moves the cursor to the end (so every later read fails too), and returns 0,
//    an empty span or an empty failed sub-reader. Parsers may therefore read a
//    whole structure and check ok() once at the end.
//  - Never reads outside the span, never allocates, never throws.
//  - Not thread-safe (it is a cursor); cheap to copy (two words and a flag), and a
//    copy is an independent cursor over the same bytes.
//  - Varints are QUIC variable-length integers (RFC 9000 §16): the two high bits
//    of the first byte give the length 1/2/4/8, the value is at most 2^62-1.

#ifndef VIGIE_CLASSIFIERS_BYTE_READER_H_
#define VIGIE_CLASSIFIERS_BYTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "absl/types/span.h"

namespace vigie {

class ByteReader {
 public:
  ByteReader() = default;
  explicit ByteReader(absl::Span<const uint8_t> data) : data_(data) {}

  uint8_t ReadU8() {
    uint8_t v = 0;
    Load(&v, 1);
    return v;
  }
  uint16_t ReadU16() {
    uint8_t b[2] = {0, 0};
    Load(b, 2);
    return static_cast<uint16_t>((b[0] << 8) | b[1]);
  }
  uint32_t ReadU24() {
    uint8_t b[3] = {0, 0, 0};
    Load(b, 3);
    return (uint32_t{b[0]} << 16) | (uint32_t{b[1]} << 8) | b[2];
  }
  uint32_t ReadU32() {
    uint8_t b[4] = {0, 0, 0, 0};
    Load(b, 4);
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
  }

  // QUIC variable-length integer (RFC 9000 §16). 0 and error on overrun.
  uint64_t ReadVarint() {
    if (!ok_ || pos_ >= data_.size()) {
      Fail();
      return 0;
    }
    const size_t len = size_t{1} << (data_[pos_] >> 6);  // 1, 2, 4 or 8
    uint8_t b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (!Load(b, len)) return 0;
    uint64_t v = b[0] & 0x3f;
    for (size_t i = 1; i < len; ++i) v = (v << 8) | b[i];
    return v;
  }

  // Advances n bytes. Returns ok() afterwards.
  bool Skip(size_t n) {
    if (!Has(n)) {
      Fail();
      return false;
    }
    pos_ += n;
    return true;
  }

  // The next n bytes as a view (empty on overrun).
  absl::Span<const uint8_t> ReadBytes(size_t n) {
    if (!Has(n)) {
      Fail();
      return {};
    }
    absl::Span<const uint8_t> out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

  // Reads a 1-, 2- or 3-byte big-endian length, then returns a reader over that
  // many following bytes and advances past them. On overrun both this reader and
  // the returned one are failed.
  ByteReader ReadPrefixed8() { return Prefixed(ReadU8()); }
  ByteReader ReadPrefixed16() { return Prefixed(ReadU16()); }
  ByteReader ReadPrefixed24() { return Prefixed(ReadU24()); }

  // Reader over the next n bytes (advancing past them); failed on overrun.
  ByteReader ReadSub(size_t n) { return Prefixed(n); }

  // Next byte without consuming it; 0 (without setting the error) at the end.
  uint8_t PeekU8() const { return (ok_ && pos_ < data_.size()) ? data_[pos_] : 0; }

  // The unread bytes, as a view.
  absl::Span<const uint8_t> rest() const { return data_.subspan(pos_); }
  // Bytes viewed as characters (for names on the wire); no copy.
  static std::string_view AsChars(absl::Span<const uint8_t> s) {
    return std::string_view(reinterpret_cast<const char*>(s.data()), s.size());
  }

  size_t remaining() const { return data_.size() - pos_; }
  size_t offset() const { return pos_; }
  size_t size() const { return data_.size(); }
  bool ok() const { return ok_; }
  bool empty() const { return pos_ == data_.size(); }

  // Marks the reader failed (e.g. a semantic check failed) and exhausts it.
  void Fail() {
    ok_ = false;
    pos_ = data_.size();
  }

 private:
  bool Has(size_t n) const { return ok_ && n <= data_.size() - pos_; }

  bool Load(uint8_t* dst, size_t n) {
    if (!Has(n)) {
      Fail();
      return false;
    }
    std::memcpy(dst, data_.data() + pos_, n);
    pos_ += n;
    return true;
  }

  ByteReader Prefixed(size_t n) {
    if (!Has(n)) {
      Fail();
      ByteReader failed;
      failed.ok_ = false;
      return failed;
    }
    ByteReader sub(data_.subspan(pos_, n));
    pos_ += n;
    return sub;
  }

  absl::Span<const uint8_t> data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace vigie

#endif  // VIGIE_CLASSIFIERS_BYTE_READER_H_
