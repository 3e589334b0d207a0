// The receiver's reading of ambiguous TCP bytes (flow.h): Linux's overlap
// rule, the urgent byte, segments the server may drop, and the alternate
// reading each leaves for the pipeline to decide too.
#include "gateway/flow/flow_test_util.h"

namespace vigie {
namespace {

Bytes Alt(StreamHarness& h) {
  absl::Span<const uint8_t> a = h.table_.AltContiguous(h.flow_);
  return Bytes(a.begin(), a.end());
}

Bytes Patched(Bytes b, size_t from, size_t to, uint8_t v) {
  std::fill(b.begin() + from, b.begin() + to, v);
  return b;
}

TEST(TcpOverlapTest, LongerSegmentAtTheSameStartReplacesAQueuedOne) {
  StreamHarness h;
  Bytes s = StreamBytes(64), decoy = Patched(s, 0, 64, 0xD0);
  h.At(decoy, 40, 8);                    // queued [40, 48)
  h.At(s, 40, 24);                       // same start, longer: replaces it
  EXPECT_EQ(h.counters_.Get(Counter::k_tcp_overlap_conflicts), 1u);
  EXPECT_EQ(h.At(s, 0, 40), s);          // the later segment's bytes
  Bytes alt = Alt(h);                    // the other reading: the first bytes
  EXPECT_EQ(alt, Patched(s, 40, 48, 0xD0));
  EXPECT_EQ(h.flow_->alt.why, kAltOverlap);
}

TEST(TcpOverlapTest, SameRangeAgainKeepsTheFirst) {
  StreamHarness h;
  Bytes s = StreamBytes(64), decoy = Patched(s, 0, 64, 0xD0);
  h.At(s, 40, 24);
  h.At(decoy, 40, 24);                   // all its bytes present: dropped
  EXPECT_EQ(h.At(s, 0, 40), s);
  EXPECT_EQ(Alt(h), Patched(s, 40, 64, 0xD0));
}

TEST(TcpOverlapTest, SegmentStartingInsideAQueuedRunLosesTheOverlap) {
  StreamHarness h;
  Bytes s = StreamBytes(64), decoy = Patched(s, 0, 64, 0xD0);
  h.At(s, 32, 16);                       // queued [32, 48)
  h.At(decoy, 40, 24);                   // starts inside: [40, 48) stays, [48, 64) is new
  EXPECT_EQ(h.At(s, 0, 32), Patched(s, 48, 64, 0xD0));
  EXPECT_EQ(Alt(h), Patched(s, 40, 64, 0xD0));
}

TEST(TcpOverlapTest, SegmentStartingBeforeAQueuedRunWinsTheOverlap) {
  StreamHarness h;
  Bytes s = StreamBytes(64), decoy = Patched(s, 0, 64, 0xD0);
  h.At(decoy, 40, 24);                   // queued decoy [40, 64)
  h.At(s, 30, 20);                       // [30, 50): read first, wins [40, 50)
  Bytes got = h.At(s, 0, 30);
  ASSERT_EQ(got.size(), 64u);
  for (size_t i = 0; i < 64; ++i) EXPECT_EQ(got[i], i >= 50 ? 0xD0 : s[i]) << i;
  EXPECT_EQ(Alt(h), Patched(s, 40, 64, 0xD0));
}

TEST(TcpOverlapTest, DeliveredBytesAreKeptAndTheRetransmissionIsTheOtherReading) {
  StreamHarness h;
  Bytes s = StreamBytes(64), decoy = Patched(s, 0, 64, 0xD0);
  h.want_ = 64;
  h.At(s, 0, 32);
  h.At(decoy, 16, 32);                   // [16, 32) delivered: kept; [32, 48) new
  EXPECT_EQ(h.At(s, 48, 16), Patched(s, 32, 48, 0xD0));
  EXPECT_EQ(Alt(h), Patched(s, 16, 48, 0xD0));
}

TEST(TcpOverlapTest, IdenticalRetransmissionsMakeNoAlternate) {
  StreamHarness h;
  Bytes s = StreamBytes(64);
  h.At(s, 20, 30);
  h.At(s, 10, 54);
  EXPECT_EQ(h.At(s, 0, 20), s);
  EXPECT_EQ(h.flow_->alt.buffer, -1);
  EXPECT_EQ(h.counters_.Get(Counter::k_tcp_overlap_conflicts), 0u);
}

// Feeds a segment with receiver metadata.
Bytes SegmentWith(StreamHarness& h, const Bytes& whole, size_t off, size_t len, SegmentMeta m) {
  bool in_place = false;
  absl::Span<const uint8_t> got = h.table_.AddSegment(
      h.flow_, h.base_ + static_cast<uint32_t>(off), false, absl::MakeConstSpan(whole.data() + off, len), m,
      &in_place);
  Bytes out(got.begin(), got.end());
  if (in_place && !got.empty()) {
    EXPECT_TRUE(h.table_.Retain(h.flow_, got));
  }
  return out;
}

TEST(TcpOverlapTest, UrgentByteIsNotInTheStream) {
  StreamHarness h;
  Bytes s = StreamBytes(64);
  SegmentMeta urg;
  urg.urgent = true;
  urg.urgent_ptr = 11;                   // the byte at offset 10 of the segment
  Bytes got = SegmentWith(h, s, 0, 40, urg);
  Bytes want(s.begin(), s.begin() + 40);
  want.erase(want.begin() + 10);
  EXPECT_EQ(got, want);
  // Later bytes follow on, one lower; the alternate keeps the byte inline.
  want = s;
  want.erase(want.begin() + 10);
  EXPECT_EQ(h.At(s, 40, 24), want);
  EXPECT_EQ(Alt(h), s);
  EXPECT_EQ(h.counters_.Get(Counter::k_tcp_urgent), 1u);
}

TEST(TcpOverlapTest, UrgentByteInHeldOutOfOrderBytesIsTakenOut) {
  StreamHarness h;
  Bytes s = StreamBytes(64);
  h.At(s, 30, 20);                       // queued [30, 50)
  SegmentMeta urg;
  urg.urgent = true;
  urg.urgent_ptr = 36;                   // seq 0 + 36 - 1: byte 35, held already
  SegmentWith(h, s, 0, 10, urg);
  Bytes want = s;
  want.erase(want.begin() + 35);
  EXPECT_EQ(h.At(s, 10, 20), Bytes(want.begin(), want.begin() + 49));
  EXPECT_EQ(h.At(s, 50, 14), want);
  EXPECT_EQ(Alt(h), s);
}

TEST(TcpOverlapTest, Md5AndLowTtlSegmentsAreOnlyTheAlternate) {
  for (bool md5 : {true, false}) {
    StreamHarness h;
    // The SYN's TTL is what a segment must not fall below.
    bool in_place;
    Flow* f = h.flow_;
    f->stream = TcpStream();
    SegmentMeta syn;
    syn.ttl = 60;
    h.table_.AddSegment(f, kIsn, true, {}, syn, &in_place);
    Bytes s = StreamBytes(64), decoy = Patched(s, 0, 64, 0xD0);
    SegmentMeta odd;
    odd.ttl = md5 ? 60 : 3;
    odd.md5 = md5;
    EXPECT_TRUE(SegmentWith(h, decoy, 0, 64, odd).empty()) << md5;
    SegmentMeta plain;
    plain.ttl = 60;
    EXPECT_EQ(SegmentWith(h, s, 0, 64, plain), s);
    EXPECT_EQ(Alt(h), decoy);
    EXPECT_EQ(f->alt.why, md5 ? kAltMd5 : kAltTtl);
    EXPECT_EQ(h.counters_.Get(md5 ? Counter::k_tcp_md5_unkeyed : Counter::k_tcp_ttl_suspect), 1u);
  }
}

TEST(TcpOverlapTest, ConstantTtlMakesNoAlternate) {
  StreamHarness h;
  bool in_place;
  h.flow_->stream = TcpStream();
  SegmentMeta m;
  m.ttl = 64;
  h.table_.AddSegment(h.flow_, kIsn, true, {}, m, &in_place);
  Bytes s = StreamBytes(64);
  SegmentWith(h, s, 20, 44, m);
  EXPECT_EQ(SegmentWith(h, s, 0, 20, m), s);
  EXPECT_EQ(h.flow_->alt.buffer, -1);
  EXPECT_EQ(h.counters_.Get(Counter::k_tcp_ttl_suspect), 0u);
}

}  // namespace
}  // namespace vigie
