#include "classifiers/byte_reader.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace vigie {
namespace {

using Bytes = std::vector<uint8_t>;

TEST(ByteReaderTest, ReadsBigEndianIntegers) {
  const Bytes b = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a};
  ByteReader r(b);
  EXPECT_EQ(r.ReadU8(), 0x01);
  EXPECT_EQ(r.ReadU16(), 0x0203);
  EXPECT_EQ(r.ReadU24(), 0x040506u);
  EXPECT_EQ(r.ReadU32(), 0x0708090au);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.offset(), 10u);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteReaderTest, OverrunIsStickyAndReturnsZero) {
  const Bytes b = {0xff, 0xee, 0xdd};
  ByteReader r(b);
  EXPECT_EQ(r.ReadU32(), 0u);  // 4 > 3
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.ReadU8(), 0u);  // even though a byte existed before the failure
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.ReadBytes(0).empty());
  EXPECT_FALSE(r.Skip(0));
}

TEST(ByteReaderTest, EachWidthFailsOneByteShort) {
  for (size_t width : {1u, 2u, 3u, 4u}) {
    const Bytes b(width - 1, 0xaa);  // exact-size heap copy: ASan catches any over-read
    ByteReader r(b);
    switch (width) {
      case 1: EXPECT_EQ(r.ReadU8(), 0u); break;
      case 2: EXPECT_EQ(r.ReadU16(), 0u); break;
      case 3: EXPECT_EQ(r.ReadU24(), 0u); break;
      case 4: EXPECT_EQ(r.ReadU32(), 0u); break;
    }
    EXPECT_FALSE(r.ok()) << width;
  }
}

TEST(ByteReaderTest, EmptyInput) {
  ByteReader r(absl::Span<const uint8_t>{});
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.PeekU8(), 0u);
  EXPECT_TRUE(r.ok());  // peeking does not fail
  EXPECT_EQ(r.ReadVarint(), 0u);
  EXPECT_FALSE(r.ok());
}

// RFC 9000 Appendix A.1 sample variable-length integer decodings.
TEST(ByteReaderTest, VarintRfc9000Examples) {
  struct Case {
    Bytes wire;
    uint64_t value;
  };
  const Case cases[] = {
      {{0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}, 151288809941952652ull},
      {{0x9d, 0x7f, 0x3e, 0x7d}, 494878333},
      {{0x7b, 0xbd}, 15293},
      {{0x25}, 37},
      {{0x40, 0x25}, 37},  // non-minimal encodings are allowed
      {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, (1ull << 62) - 1},
  };
  for (const Case& c : cases) {
    ByteReader r(c.wire);
    EXPECT_EQ(r.ReadVarint(), c.value);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.empty());
  }
}

TEST(ByteReaderTest, VarintTruncated) {
  for (const Bytes& b : {Bytes{0x40}, Bytes{0x80, 0, 0}, Bytes{0xc0, 0, 0, 0, 0, 0, 0}}) {
    ByteReader r(b);
    EXPECT_EQ(r.ReadVarint(), 0u);
    EXPECT_FALSE(r.ok());
  }
}

TEST(ByteReaderTest, SkipAndReadBytes) {
  const Bytes b = {1, 2, 3, 4, 5};
  ByteReader r(b);
  EXPECT_TRUE(r.Skip(1));
  const absl::Span<const uint8_t> two = r.ReadBytes(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0], 2);
  EXPECT_EQ(two[1], 3);
  EXPECT_EQ(two.data(), b.data() + 1);  // a view, not a copy
  EXPECT_EQ(r.remaining(), 2u);
  EXPECT_FALSE(r.Skip(3));
  EXPECT_FALSE(r.ok());
}

TEST(ByteReaderTest, PrefixedSubReaders) {
  //               len8 [a  b]  len16   [c  d  e]  tail
  const Bytes b = {2, 'a', 'b', 0, 3, 'c', 'd', 'e', 9};
  ByteReader r(b);
  ByteReader s8 = r.ReadPrefixed8();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(s8.size(), 2u);
  EXPECT_EQ(s8.ReadU8(), 'a');
  EXPECT_EQ(s8.offset(), 1u);  // sub-reader offsets start at 0
  ByteReader s16 = r.ReadPrefixed16();
  EXPECT_EQ(ByteReader::AsChars(s16.rest()), "cde");
  EXPECT_EQ(r.ReadU8(), 9);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.empty());
  // Reading past the end of a sub-reader fails it, not the parent.
  s8.ReadU16();
  EXPECT_FALSE(s8.ok());
  EXPECT_TRUE(r.ok());
}

TEST(ByteReaderTest, PrefixedOverrunFailsBoth) {
  const Bytes b = {5, 'a', 'b'};
  ByteReader r(b);
  ByteReader sub = r.ReadPrefixed8();
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(sub.ok());
  EXPECT_TRUE(sub.empty());
  EXPECT_EQ(sub.ReadU8(), 0u);

  const Bytes c = {0x00, 0x00, 0x01, 'x'};
  ByteReader r24(c);
  ByteReader s24 = r24.ReadPrefixed24();
  EXPECT_TRUE(r24.ok());
  EXPECT_EQ(s24.ReadU8(), 'x');
}

TEST(ByteReaderTest, FailExhausts) {
  const Bytes b = {1, 2};
  ByteReader r(b);
  r.Fail();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteReaderTest, CopyIsIndependentCursor) {
  const Bytes b = {1, 2, 3};
  ByteReader r(b);
  ByteReader peek = r;
  EXPECT_EQ(peek.ReadU16(), 0x0102);
  EXPECT_EQ(r.offset(), 0u);
  EXPECT_EQ(r.PeekU8(), 1);
}

}  // namespace
}  // namespace vigie
