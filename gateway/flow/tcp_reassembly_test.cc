#include "gateway/flow/flow_test_util.h"

namespace vigie {
namespace {

// ---- TCP reassembly -------------------------------------------------------------------

TEST(TcpReassemblyTest, FirstSegmentIsInPlace) {
  StreamHarness h;
  Bytes s = StreamBytes(100);
  h.want_ = 100;
  bool in_place = false;
  absl::Span<const uint8_t> got = h.table_.AddSegment(h.flow_, h.base_, false, s, &in_place);
  EXPECT_TRUE(in_place);
  EXPECT_EQ(got.data(), s.data());
  EXPECT_EQ(got.size(), 100u);
  EXPECT_EQ(h.table_.buffers_in_use(), 0u);
}

TEST(TcpReassemblyTest, OneBytePerSegment) {
  StreamHarness h;
  Bytes s = StreamBytes(517);
  h.want_ = s.size();
  for (size_t i = 0; i < s.size(); ++i) {
    Bytes got = h.At(s, i, 1);
    ASSERT_EQ(got.size(), i + 1);
    ASSERT_TRUE(std::equal(got.begin(), got.end(), s.begin()));
  }
  EXPECT_EQ(h.flow_->stream.segments, s.size());
  EXPECT_EQ(h.table_.buffers_in_use(), 1u);
}

std::vector<std::pair<size_t, size_t>> Split(size_t total, size_t parts) {
  std::vector<std::pair<size_t, size_t>> v;
  for (size_t i = 0; i < parts; ++i) v.push_back({total * i / parts, total * (i + 1) / parts - total * i / parts});
  return v;
}

TEST(TcpReassemblyTest, AllPermutationsOfFourSegments) {
  Bytes s = StreamBytes(400);
  auto segs = Split(s.size(), 4);
  std::vector<int> order = {0, 1, 2, 3};
  int perms = 0;
  do {
    SCOPED_TRACE(::testing::PrintToString(order));
    StreamHarness h;
    h.want_ = s.size();
    for (size_t k = 0; k < order.size(); ++k) {
      Bytes got = h.At(s, segs[order[k]].first, segs[order[k]].second);
      if (k + 1 < order.size()) {
        EXPECT_LT(got.size(), s.size());
      }
    }
    EXPECT_EQ(h.last_, s);
    ++perms;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(perms, 24);
}

// Regression (missing SYN, earlier segment after a retained later one): the
// earlier bytes must be placed before what is held, not dropped as a
// retransmission.
TEST(TcpReassemblyTest, AllPermutationsOfFourSegmentsWithoutSyn) {
  Bytes s = StreamBytes(400);
  auto segs = Split(s.size(), 4);
  std::vector<int> order = {0, 1, 2, 3};
  do {
    SCOPED_TRACE(::testing::PrintToString(order));
    StreamHarness h(FlowTableOptions{}, /*syn=*/false);
    h.want_ = s.size();
    for (int i : order) h.At(s, segs[i].first, segs[i].second);
    EXPECT_EQ(h.last_, s);
    EXPECT_EQ(h.counters_.Get(Counter::k_tcp_retransmissions), 0u);
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST(TcpReassemblyTest, MissingSynEarlierSegmentBecomesOffsetZero) {
  // Nothing retained yet (the caller dropped the in-place bytes): the earlier
  // segment simply becomes offset 0.
  FlowTableOptions o;
  Counters c;
  FlowTable t(o, &c);
  bool fc, in_place;
  Flow* f = t.Get(Packet(kClient, 1, kServer, 443, kProtoTcp, kTcpAck), 1, &fc);
  Bytes s = StreamBytes(30);
  t.AddSegment(f, 1010, false, absl::MakeConstSpan(s.data() + 10, 20), &in_place);
  EXPECT_TRUE(in_place);
  absl::Span<const uint8_t> got = t.AddSegment(f, 1000, false, absl::MakeConstSpan(s.data(), 10), &in_place);
  EXPECT_TRUE(in_place);
  EXPECT_EQ(Bytes(got.begin(), got.end()), Bytes(s.begin(), s.begin() + 10));
  EXPECT_EQ(f->stream.base_seq, 1000u);
}

TEST(TcpReassemblyTest, MissingSynEarlierSegmentRebasesRetainedBytes) {
  StreamHarness h(FlowTableOptions{}, /*syn=*/false);
  Bytes s = StreamBytes(30);
  h.want_ = 30;
  h.base_ = 5000;
  EXPECT_EQ(h.At(s, 10, 20).size(), 20u);  // taken as offset 0, retained
  Bytes got = h.At(s, 0, 10);               // earlier: rebase
  EXPECT_EQ(got, s);
  EXPECT_EQ(h.flow_->stream.base_seq, 5000u);
}

TEST(TcpReassemblyTest, RandomShufflesOfOneByteSegments) {
  std::mt19937 rng(20240601);
  for (int round = 0; round < 50; ++round) {
    SCOPED_TRACE(round);
    StreamHarness h;
    Bytes s = StreamBytes(300 + rng() % 200, round);
    h.want_ = s.size();
    std::vector<size_t> order(s.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    // Whatever arrives, what is exposed is always a true prefix.
    for (size_t i : order) {
      Bytes got = h.At(s, i, 1);
      ASSERT_TRUE(std::equal(got.begin(), got.end(), s.begin()));
    }
    // Every byte was kept: the whole stream is exposed once the last gap
    // fills, with no retransmission needed.
    EXPECT_EQ(h.last_, s);
    EXPECT_EQ(h.counters_.Get(Counter::k_tcp_retransmissions), 0u);
  }
}

TEST(TcpReassemblyTest, RandomShufflesOfMixedSizeOverlappingSegments) {
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    SCOPED_TRACE(round);
    for (bool syn : {true, false}) {
      SCOPED_TRACE(syn);
      StreamHarness h(FlowTableOptions{}, syn);
      h.base_ = syn ? kIsn + 1 : 9000;
      Bytes s = StreamBytes(1000 + rng() % 3000, round);
      h.want_ = s.size();
      // Segments of 1 to 200 bytes, some overlapping their neighbours.
      std::vector<std::pair<size_t, size_t>> segs;
      for (size_t off = 0; off < s.size();) {
        size_t len = std::min<size_t>(1 + rng() % 200, s.size() - off);
        size_t back = std::min<size_t>(off, rng() % 4 == 0 ? rng() % 30 : 0);
        segs.push_back({off - back, len + back});
        off += len;
      }
      std::shuffle(segs.begin(), segs.end(), rng);
      for (auto [off, len] : segs) {
        Bytes got = h.At(s, off, len);
        // Without a SYN, offset 0 is a guess until the earliest bytes arrive.
        if (syn) {
          ASSERT_TRUE(std::equal(got.begin(), got.end(), s.begin()));
        }
      }
      EXPECT_EQ(h.last_, s);
      EXPECT_EQ(h.counters_.Get(Counter::k_tcp_overlap_conflicts), 0u);
    }
  }
}

TEST(TcpReassemblyTest, RetransmissionWhollyInsideHeldData) {
  StreamHarness h;
  Bytes s = StreamBytes(60);
  h.want_ = 60;
  h.At(s, 0, 20);
  h.At(s, 40, 20);
  EXPECT_TRUE(h.At(s, 0, 20).empty());
  EXPECT_TRUE(h.At(s, 5, 10).empty());
  EXPECT_TRUE(h.At(s, 45, 10).empty());
  EXPECT_EQ(h.counters_.Get(Counter::k_tcp_retransmissions), 3u);
  EXPECT_EQ(h.counters_.Get(Counter::k_tcp_overlap_conflicts), 0u);
  EXPECT_EQ(h.At(s, 20, 20), s);
}

TEST(TcpReassemblyTest, RetransmissionBeforeOffsetZeroWithSyn) {
  StreamHarness h;
  Bytes s = StreamBytes(40);
  h.want_ = 40;
  // Starts 5 bytes before offset 0 (the SYN's sequence number and before).
  Bytes pre(25, 0xEE);
  std::copy(s.begin(), s.begin() + 20, pre.begin() + 5);
  EXPECT_EQ(h.Segment(h.base_ - 5, pre), Bytes(s.begin(), s.begin() + 20));
  EXPECT_TRUE(h.Segment(h.base_ - 10, Bytes(10, 0xEE)).empty());
  EXPECT_EQ(h.counters_.Get(Counter::k_tcp_retransmissions), 1u);
}

TEST(TcpReassemblyTest, OverlapsFollowLinuxAndCountConflicts) {
  StreamHarness h;
  Bytes s = StreamBytes(64);
  h.want_ = 64;
  h.At(s, 0, 16);
  // [8, 32) with [8, 16) differing from bytes already delivered: kept.
  Bytes liar(s.begin() + 8, s.begin() + 32);
  std::fill(liar.begin(), liar.begin() + 8, 0xEE);
  Bytes got = h.Segment(h.base_ + 8, liar);
  EXPECT_EQ(got, Bytes(s.begin(), s.begin() + 32));
  EXPECT_EQ(h.counters_.Get(Counter::k_tcp_overlap_conflicts), 1u);
  // A queued out-of-order range covered by a segment starting lower: the
  // later segment replaces it (tcp_data_queue_ofo).
  h.At(s, 48, 8);
  Bytes liar2(s.begin() + 40, s.begin() + 64);
  std::fill(liar2.begin() + 8, liar2.begin() + 16, 0xEE);  // differs inside the held [48, 56)
  h.Segment(h.base_ + 40, liar2);
  EXPECT_EQ(h.counters_.Get(Counter::k_tcp_overlap_conflicts), 2u);
  Bytes want = s;
  std::fill(want.begin() + 48, want.begin() + 56, 0xEE);
  EXPECT_EQ(h.At(s, 32, 8), want);
  // The same bytes again: a retransmission, no conflict.
  EXPECT_TRUE(h.Segment(h.base_, want).empty());
  EXPECT_EQ(h.counters_.Get(Counter::k_tcp_overlap_conflicts), 2u);
}

TEST(TcpReassemblyTest, SegmentBridgingSeveralHoles) {
  StreamHarness h;
  Bytes s = StreamBytes(100);
  h.want_ = 100;
  h.At(s, 10, 10);
  h.At(s, 30, 10);
  h.At(s, 50, 10);
  EXPECT_EQ(h.flow_->stream.high, 60u);
  EXPECT_TRUE(h.At(s, 15, 40).empty());  // bridges all three, still a gap at [0, 10)
  EXPECT_EQ(h.flow_->stream.contiguous, 0u);
  EXPECT_EQ(h.counters_.Get(Counter::k_tcp_retransmissions), 0u);
  EXPECT_EQ(h.At(s, 0, 10), Bytes(s.begin(), s.begin() + 60));
  EXPECT_EQ(h.At(s, 60, 40), s);
}

TEST(TcpReassemblyTest, ReassemblyCapBoundsTheStream) {
  StreamHarness h;
  Bytes s = StreamBytes(kReassemblyCap + 3000);
  size_t off = 0;
  Bytes got;
  while (off < s.size()) {
    size_t n = std::min<size_t>(1400, s.size() - off);
    Bytes g = h.At(s, off, n);
    if (!g.empty()) got = g;
    EXPECT_LE(g.size(), kReassemblyCap);
    off += n;
  }
  EXPECT_TRUE(h.flow_->stream.cap_hit);
  EXPECT_EQ(h.flow_->stream.contiguous, kReassemblyCap);
  EXPECT_EQ(got, Bytes(s.begin(), s.begin() + kReassemblyCap));
  // A segment wholly beyond the cap is refused.
  EXPECT_TRUE(h.At(s, kReassemblyCap + 100, 10).empty());
  // Out of order beyond the cap, before the stream reached it: not held, and
  // the stream goes on (a stray byte far outside the window must not turn the
  // real hello into a capped, undecidable stream).
  StreamHarness h2;
  Bytes far = StreamBytes(10);
  EXPECT_TRUE(h2.Segment(h2.base_ + kReassemblyCap, far).empty());
  EXPECT_FALSE(h2.flow_->stream.cap_hit);
  EXPECT_EQ(h2.counters_.Get(Counter::k_tcp_beyond_cap), 1u);
  EXPECT_EQ(h2.table_.buffers_in_use(), 0u);
}

TEST(TcpReassemblyTest, FirstSegmentLargerThanTheCapIsCut) {
  StreamHarness h;
  Bytes s = StreamBytes(kReassemblyCap + 10);
  bool in_place;
  absl::Span<const uint8_t> got = h.table_.AddSegment(h.flow_, h.base_, false, s, &in_place);
  EXPECT_TRUE(in_place);
  EXPECT_EQ(got.size(), kReassemblyCap);
  EXPECT_TRUE(h.flow_->stream.cap_hit);
  EXPECT_TRUE(h.table_.Retain(h.flow_, got));
}

// No bound on holes: 1-byte segments in a fully shuffled (seeded) order all
// reassemble; only the cap refuses bytes.
TEST(TcpReassemblyTest, FullyShuffledOneByteSegmentsReassemble) {
  std::mt19937 rng(20261123);
  StreamHarness h;
  Bytes s = StreamBytes(4000);
  h.want_ = s.size();
  std::vector<size_t> order(s.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  if (order.front() == 0) std::swap(order.front(), order.back());  // not in place
  for (size_t k = 0; k + 1 < order.size(); ++k) {
    Bytes got = h.At(s, order[k], 1);
    ASSERT_TRUE(std::equal(got.begin(), got.end(), s.begin()));
    ASSERT_LT(got.size(), s.size());
  }
  EXPECT_EQ(h.At(s, order.back(), 1), s);
  EXPECT_EQ(h.flow_->stream.segments, s.size());
  EXPECT_EQ(h.counters_.Get(Counter::k_tcp_retransmissions), 0u);
  EXPECT_FALSE(h.flow_->stream.cap_hit);
  // A segment starting beyond the cap is refused, without ending the stream.
  StreamHarness h2;
  Bytes big = StreamBytes(kReassemblyCap + 10);
  for (size_t i = 1; i < 200; i += 2) EXPECT_TRUE(h2.At(big, i, 1).empty());
  EXPECT_FALSE(h2.flow_->stream.cap_hit);
  EXPECT_TRUE(h2.At(big, kReassemblyCap + 1, 1).empty());
  EXPECT_FALSE(h2.flow_->stream.cap_hit);
  EXPECT_EQ(h2.flow_->stream.high, 200u);
  // The last byte below the cap is still taken.
  EXPECT_TRUE(h2.At(big, kReassemblyCap - 1, 1).empty());
  EXPECT_EQ(h2.flow_->stream.high, kReassemblyCap);
}

// The bitmap moves with the bytes: a consumed prefix shifts held bits down and
// a released buffer comes back clean for the next stream.
TEST(TcpReassemblyTest, ReleasedBufferIsReusedClean) {
  FlowTableOptions o;
  o.reassembly_buffers = 1;
  StreamHarness h(o);
  Bytes s = StreamBytes(3000);
  h.want_ = s.size();
  for (size_t i = 1; i < s.size(); i += 3) h.At(s, i, 1);
  EXPECT_EQ(h.table_.buffers_in_use(), 1u);
  h.table_.Release(h.flow_);
  EXPECT_EQ(h.table_.buffers_in_use(), 0u);
  // A new stream on the same buffer: nothing it did not send looks held.
  h.flow_->stream = TcpStream{};
  h.Segment(kIsn, {}, true);
  Bytes t = StreamBytes(3000, 5);
  EXPECT_TRUE(h.At(t, 2, 10).empty());
  EXPECT_EQ(h.At(t, 0, 2), Bytes(t.begin(), t.begin() + 12));
  EXPECT_EQ(h.counters_.Get(Counter::k_tcp_retransmissions), 0u);
}

TEST(TcpReassemblyTest, PoolExhausted) {
  FlowTableOptions o;
  o.reassembly_buffers = 1;
  Counters c;
  FlowTable t(o, &c);
  bool fc, in_place;
  Flow* a = t.Get(Packet(kClient, 1, kServer, 443, kProtoTcp, kTcpSyn), 1, &fc);
  Flow* b = t.Get(Packet(kClient, 2, kServer, 443, kProtoTcp, kTcpSyn), 1, &fc);
  a = t.Get(Packet(kClient, 1, kServer, 443, kProtoTcp, kTcpAck), 1, &fc);  // slots may have moved
  t.AddSegment(a, 100, true, {}, &in_place);
  t.AddSegment(b, 200, true, {}, &in_place);
  Bytes s = StreamBytes(20);
  absl::Span<const uint8_t> got = t.AddSegment(a, 101, false, absl::MakeConstSpan(s.data(), 10), &in_place);
  ASSERT_TRUE(in_place);
  EXPECT_TRUE(t.Retain(a, got));
  EXPECT_EQ(t.buffers_in_use(), 1u);
  got = t.AddSegment(b, 201, false, absl::MakeConstSpan(s.data(), 10), &in_place);
  ASSERT_TRUE(in_place);
  EXPECT_FALSE(t.Retain(b, got));
  EXPECT_EQ(c.Get(Counter::k_tcp_reasm_pool_empty), 1u);
  // Out of order on b also needs a buffer.
  EXPECT_TRUE(t.AddSegment(b, 215, false, absl::MakeConstSpan(s.data() + 14, 6), &in_place).empty());
  EXPECT_EQ(c.Get(Counter::k_tcp_reasm_pool_empty), 2u);
  // a keeps working.
  got = t.AddSegment(a, 111, false, absl::MakeConstSpan(s.data() + 10, 10), &in_place);
  EXPECT_EQ(Bytes(got.begin(), got.end()), s);
  // Once a releases its buffer, b can have it.
  t.Release(a);
  EXPECT_EQ(t.buffers_in_use(), 0u);
  got = t.AddSegment(b, 215, false, absl::MakeConstSpan(s.data() + 14, 6), &in_place);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(t.buffers_in_use(), 1u);
}

TEST(TcpReassemblyTest, ConsumeShiftsHeldBytesAndBitmap) {
  StreamHarness h;
  Bytes s = StreamBytes(100);
  h.want_ = 100;
  h.At(s, 0, 30);
  h.At(s, 50, 10);  // a hole at [30, 50)
  h.table_.Consume(h.flow_, 20);
  EXPECT_EQ(h.flow_->stream.contiguous, 10u);
  EXPECT_EQ(h.flow_->stream.base_seq, h.base_ + 20);
  absl::Span<const uint8_t> held = h.table_.Contiguous(h.flow_);
  EXPECT_EQ(Bytes(held.begin(), held.end()), Bytes(s.begin() + 20, s.begin() + 30));
  Bytes got = h.At(s, 30, 20);
  EXPECT_EQ(got, Bytes(s.begin() + 20, s.begin() + 60));
  h.table_.Consume(h.flow_, 40);
  EXPECT_TRUE(h.table_.Contiguous(h.flow_).empty());
  EXPECT_EQ(h.At(s, 60, 40), Bytes(s.begin() + 60, s.end()));
}

TEST(TcpReassemblyTest, ConsumeShiftsScatteredBitsAcrossWords) {
  for (uint32_t n : {1u, 63u, 64u, 65u, 130u, 200u}) {
    SCOPED_TRACE(n);
    StreamHarness h;
    Bytes s = StreamBytes(1000);
    h.want_ = s.size();
    h.At(s, 0, 200);
    for (size_t i = 201; i < 1000; i += 2) h.At(s, i, 1);  // every other byte past 200
    h.table_.Consume(h.flow_, n);
    EXPECT_EQ(h.flow_->stream.contiguous, 200u - n);
    EXPECT_EQ(h.flow_->stream.high, 1000u - n);
    // Filling the gaps completes the rest, bytes and bits in their new place.
    for (size_t i = 200; i < 1000; i += 2) h.At(s, i, 1);
    EXPECT_EQ(h.last_, Bytes(s.begin() + n, s.end()));
    EXPECT_EQ(h.counters_.Get(Counter::k_tcp_retransmissions), 0u);
  }
}

TEST(TcpReassemblyTest, ConsumeInPlaceAdvancesTheBase) {
  StreamHarness h;
  Bytes s = StreamBytes(40);
  h.want_ = 20;  // two 20-byte messages
  bool in_place;
  absl::Span<const uint8_t> got = h.table_.AddSegment(h.flow_, h.base_, false, s, &in_place);
  ASSERT_TRUE(in_place);
  EXPECT_EQ(got.size(), 40u);
  h.table_.Consume(h.flow_, 40);
  Bytes next = StreamBytes(10, 9);
  got = h.table_.AddSegment(h.flow_, h.base_ + 40, false, next, &in_place);
  EXPECT_TRUE(in_place);
  EXPECT_EQ(Bytes(got.begin(), got.end()), next);
}

// Regression: without a SYN, a retransmission of bytes already consumed (a DNS
// message handled in place) was taken as an earlier segment and the stream
// rebased onto it, so the message was handed out a second time.
TEST(TcpReassemblyTest, RetransmissionAfterInPlaceConsumeWithoutSynIsNotReplayed) {
  StreamHarness h(FlowTableOptions{}, /*syn=*/false);
  Bytes s = StreamBytes(40);
  h.want_ = 40;
  bool in_place;
  h.base_ = 7000;
  absl::Span<const uint8_t> got = h.table_.AddSegment(h.flow_, 7000, false, s, &in_place);
  ASSERT_EQ(got.size(), 40u);
  h.table_.Consume(h.flow_, 40);
  got = h.table_.AddSegment(h.flow_, 7000, false, s, &in_place);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(h.counters_.Get(Counter::k_tcp_retransmissions), 1u);
  EXPECT_EQ(h.flow_->stream.base_seq, 7040u);
}

// Regression: the same after the message was reassembled in a buffer. The
// rebase path then read the last held range with none held (index -1) and
// memmoved a garbage length.
TEST(TcpReassemblyTest, RetransmissionAfterBufferedConsumeWithoutSynIsNotReplayed) {
  StreamHarness h(FlowTableOptions{}, /*syn=*/false);
  Bytes s = StreamBytes(40);
  h.want_ = 40;
  h.base_ = 7000;
  h.At(s, 0, 25);
  EXPECT_EQ(h.At(s, 25, 15), s);
  h.table_.Consume(h.flow_, 40);
  EXPECT_TRUE(h.At(s, 25, 15).empty());
  EXPECT_TRUE(h.At(s, 0, 25).empty());
  EXPECT_EQ(h.counters_.Get(Counter::k_tcp_retransmissions), 2u);
  EXPECT_EQ(h.flow_->stream.base_seq, 7040u);
  Bytes next = StreamBytes(12, 3);
  EXPECT_EQ(h.Segment(7040, next), next);
}


}  // namespace
}  // namespace vigie
