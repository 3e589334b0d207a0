#include "gateway/decode/ip_reassembly.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace vigie {
namespace {

using Bytes = std::vector<uint8_t>;

const uint8_t kA4[4] = {10, 0, 0, 1};
const uint8_t kB4[4] = {10, 0, 0, 2};
const uint8_t kA6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const uint8_t kB6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

// A datagram payload whose bytes say where they are.
Bytes Datagram(size_t n, uint8_t salt = 0) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 7 + salt);
  return b;
}

// One fragment as Decode reports it: `data` copied to an exact-size heap buffer
// kept alive by the harness.
struct Frag {
  uint32_t offset;
  Bytes data;
  bool more;
};

class Harness {
 public:
  explicit Harness(int family = 4) : family_(family), r_(&counters_) {}

  // Returns true when the datagram completes; *out then holds it.
  bool Add(const Frag& f, uint32_t id = 77, uint64_t now_us = 1'000'000, uint8_t proto = 17,
           const uint8_t* src = nullptr) {
    DecodedPacket p;
    if (family_ == 4) {
      p.src = IpAddress::V4(src ? src : kA4);
      p.dst = IpAddress::V4(kB4);
    } else {
      p.src = IpAddress::V6(src ? src : kA6);
      p.dst = IpAddress::V6(kB6);
    }
    auto buf = std::make_unique<uint8_t[]>(f.data.size() + 1);
    if (!f.data.empty()) std::memcpy(buf.get(), f.data.data(), f.data.size());
    p.frag.id = id;
    p.frag.offset = f.offset;
    p.frag.more = f.more;
    p.frag.proto = proto;
    p.frag.data = absl::MakeConstSpan(buf.get(), f.data.size());
    p.l4_proto = proto;
    ReassembledDatagram whole;
    bool done = r_.Add(p, now_us, &whole);
    if (done) {
      out.assign(whole.payload.begin(), whole.payload.end());
      alt.assign(whole.alternate.begin(), whole.alternate.end());
      alt_lost = whole.alternate_lost;
      out_proto = whole.proto;
    }
    return done;
  }

  Counters counters_;
  int family_;
  IpReassembler r_;
  Bytes out;
  Bytes alt;  // the last-wins reading, when it differs
  bool alt_lost = false;
  uint8_t out_proto = 0;
};

// Cuts `d` into fragments of `size` bytes (a multiple of 8).
std::vector<Frag> Cut(const Bytes& d, size_t size) {
  std::vector<Frag> v;
  for (size_t off = 0; off < d.size(); off += size) {
    size_t n = std::min(size, d.size() - off);
    v.push_back({static_cast<uint32_t>(off), Bytes(d.begin() + off, d.begin() + off + n), off + n < d.size()});
  }
  return v;
}

class IpReassemblyTest : public ::testing::TestWithParam<int> {};

TEST_P(IpReassemblyTest, InOrder) {
  Harness h(GetParam());
  Bytes d = Datagram(100);
  auto frags = Cut(d, 24);
  for (size_t i = 0; i < frags.size(); ++i) {
    bool done = h.Add(frags[i]);
    EXPECT_EQ(done, i + 1 == frags.size()) << i;
  }
  EXPECT_EQ(h.out, d);
  EXPECT_EQ(h.out_proto, 17);
  EXPECT_EQ(h.r_.trains(), 0u);
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_reassembled), 1u);
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_fragments), frags.size());
}

TEST_P(IpReassemblyTest, Reversed) {
  Harness h(GetParam());
  Bytes d = Datagram(200);
  auto frags = Cut(d, 32);
  std::reverse(frags.begin(), frags.end());
  for (size_t i = 0; i < frags.size(); ++i) EXPECT_EQ(h.Add(frags[i]), i + 1 == frags.size()) << i;
  EXPECT_EQ(h.out, d);
}

TEST_P(IpReassemblyTest, LastFragmentFirst) {
  Harness h(GetParam());
  Bytes d = Datagram(70);
  auto frags = Cut(d, 16);
  EXPECT_FALSE(h.Add(frags.back()));
  for (size_t i = 0; i + 1 < frags.size(); ++i) EXPECT_EQ(h.Add(frags[i]), i + 2 == frags.size()) << i;
  EXPECT_EQ(h.out, d);
}

TEST_P(IpReassemblyTest, ConflictingOverlapIsReadFirstAndLastWins) {
  Harness h(GetParam());
  Bytes d = Datagram(64);
  // [0,32) real bytes, then [16,48) with different bytes in [16,32), then [48,64).
  EXPECT_FALSE(h.Add({0, Bytes(d.begin(), d.begin() + 32), true}));
  Bytes liar(d.begin() + 16, d.begin() + 48);
  std::fill(liar.begin(), liar.begin() + 16, 0xEE);
  EXPECT_FALSE(h.Add({16, liar, true}));
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_fragment_conflicts), 1u);
  EXPECT_EQ(h.r_.alternates_in_use(), 1u);
  EXPECT_TRUE(h.Add({48, Bytes(d.begin() + 48, d.end()), false}));
  EXPECT_EQ(h.out, d);  // first received wins
  Bytes last = d;       // last received wins
  std::fill(last.begin() + 16, last.begin() + 32, 0xEE);
  EXPECT_EQ(h.alt, last);
  EXPECT_FALSE(h.alt_lost);
  EXPECT_EQ(h.r_.alternates_in_use(), 0u);  // given back
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_fragment_conflicts), 1u);
}

TEST_P(IpReassemblyTest, ConflictingOverlapLastFragmentFirst) {
  // The liar arrives first and covers a later honest fragment wholly.
  Harness h(GetParam());
  Bytes d = Datagram(48);
  Bytes liar(d.begin() + 8, d.begin() + 40);
  liar[5] ^= 0xFF;
  EXPECT_FALSE(h.Add({8, liar, true}));
  EXPECT_FALSE(h.Add({16, Bytes(d.begin() + 16, d.begin() + 24), true}));  // agrees: no conflict yet
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_fragment_conflicts), 0u);
  EXPECT_FALSE(h.Add({8, Bytes(d.begin() + 8, d.begin() + 16), true}));   // differs at 13
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_fragment_conflicts), 1u);
  EXPECT_FALSE(h.Add({0, Bytes(d.begin(), d.begin() + 8), true}));
  EXPECT_TRUE(h.Add({40, Bytes(d.begin() + 40, d.end()), false}));
  Bytes first = d;
  first[13] ^= 0xFF;
  EXPECT_EQ(h.out, first);
  EXPECT_EQ(h.alt, d);
}

TEST_P(IpReassemblyTest, IdenticalOverlapIsNoConflict) {
  Harness h(GetParam());
  Bytes d = Datagram(64);
  EXPECT_FALSE(h.Add({0, Bytes(d.begin(), d.begin() + 32), true}));
  EXPECT_FALSE(h.Add({16, Bytes(d.begin() + 16, d.begin() + 48), true}));
  EXPECT_TRUE(h.Add({40, Bytes(d.begin() + 40, d.end()), false}));
  EXPECT_EQ(h.out, d);
  EXPECT_TRUE(h.alt.empty());
  EXPECT_FALSE(h.alt_lost);
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_fragment_conflicts), 0u);
  EXPECT_EQ(h.r_.alternates_in_use(), 0u);
}

TEST_P(IpReassemblyTest, ConflictThatComesBackLeavesOneReading) {
  // A, then B over it, then A again: first-wins and last-wins agree.
  Harness h(GetParam());
  Bytes d = Datagram(32);
  Bytes b(d.begin(), d.begin() + 16);
  b[3] ^= 1;
  EXPECT_FALSE(h.Add({0, Bytes(d.begin(), d.begin() + 16), true}));
  EXPECT_FALSE(h.Add({0, b, true}));
  EXPECT_FALSE(h.Add({0, Bytes(d.begin(), d.begin() + 16), true}));
  EXPECT_TRUE(h.Add({16, Bytes(d.begin() + 16, d.end()), false}));
  EXPECT_EQ(h.out, d);
  EXPECT_TRUE(h.alt.empty());
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_fragment_conflicts), 1u);
}

TEST_P(IpReassemblyTest, AlternatesAreBoundedAndALostOneIsReported) {
  Harness h(GetParam());
  Bytes d = Datagram(32);
  Bytes liar(d.begin(), d.begin() + 16);
  liar[0] ^= 1;
  // kMaxFragmentAlternates conflicting trains hold every alternate buffer...
  for (uint32_t id = 0; id < kMaxFragmentAlternates; ++id) {
    EXPECT_FALSE(h.Add({0, Bytes(d.begin(), d.begin() + 16), true}, id));
    EXPECT_FALSE(h.Add({0, liar, true}, id));
  }
  EXPECT_EQ(h.r_.alternates_in_use(), kMaxFragmentAlternates);
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_frag_alt_lost), 0u);
  // ...so one more conflict cannot be read the other way: reported, counted.
  EXPECT_FALSE(h.Add({0, Bytes(d.begin(), d.begin() + 16), true}, 500));
  EXPECT_FALSE(h.Add({0, liar, true}, 500));
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_frag_alt_lost), 1u);
  EXPECT_TRUE(h.Add({16, Bytes(d.begin() + 16, d.end()), false}, 500));
  EXPECT_EQ(h.out, d);
  EXPECT_TRUE(h.alt.empty());
  EXPECT_TRUE(h.alt_lost);
  // A train completing gives its buffer back; a train dropped too.
  EXPECT_TRUE(h.Add({16, Bytes(d.begin() + 16, d.end()), false}, 0));
  EXPECT_FALSE(h.alt_lost);
  EXPECT_EQ(h.r_.alternates_in_use(), kMaxFragmentAlternates - 1);
  EXPECT_FALSE(h.Add({0, Bytes(d.begin(), d.begin() + 16), true}, 1, 1'000'001 + kFragmentTimeoutUs));
  EXPECT_EQ(h.r_.alternates_in_use(), 0u);  // the others timed out
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_fragment_conflicts), kMaxFragmentAlternates + 1);
}

TEST_P(IpReassemblyTest, OverlapBridgingTwoHeldRanges) {
  Harness h(GetParam());
  Bytes d = Datagram(64);
  EXPECT_FALSE(h.Add({0, Bytes(d.begin(), d.begin() + 16), true}));
  EXPECT_FALSE(h.Add({32, Bytes(d.begin() + 32, d.begin() + 48), true}));
  Bytes big(48, 0xEE);  // [8, 56): only [16, 32) and [48, 56) are new
  std::copy(d.begin() + 16, d.begin() + 32, big.begin() + 8);
  std::copy(d.begin() + 48, d.begin() + 56, big.begin() + 40);
  EXPECT_FALSE(h.Add({8, big, true}));
  EXPECT_TRUE(h.Add({56, Bytes(d.begin() + 56, d.end()), false}));
  EXPECT_EQ(h.out, d);
}

TEST_P(IpReassemblyTest, Duplicate) {
  Harness h(GetParam());
  Bytes d = Datagram(48);
  auto frags = Cut(d, 16);
  EXPECT_FALSE(h.Add(frags[0]));
  EXPECT_FALSE(h.Add(frags[0]));
  EXPECT_FALSE(h.Add(frags[1]));
  EXPECT_FALSE(h.Add(frags[1]));
  EXPECT_TRUE(h.Add(frags[2]));
  EXPECT_EQ(h.out, d);
  // A late duplicate after completion starts a new train, which never completes alone.
  EXPECT_FALSE(h.Add(frags[1]));
}

TEST_P(IpReassemblyTest, TrainsAreKeyedByIdAndSource) {
  Harness h(GetParam());
  Bytes d1 = Datagram(32, 1), d2 = Datagram(32, 2);
  auto f1 = Cut(d1, 16), f2 = Cut(d2, 16);
  EXPECT_FALSE(h.Add(f1[0], 1));
  EXPECT_FALSE(h.Add(f2[0], 2));
  EXPECT_FALSE(h.Add(f2[1], 1, 1'000'000, 6));  // same id, other protocol: another train
  EXPECT_TRUE(h.Add(f2[1], 2));
  EXPECT_EQ(h.out, d2);
  EXPECT_TRUE(h.Add(f1[1], 1));
  EXPECT_EQ(h.out, d1);
}

TEST_P(IpReassemblyTest, MiddleFragmentNotMultipleOf8IsBad) {
  Harness h(GetParam());
  EXPECT_FALSE(h.Add({0, Bytes(10, 1), true}));
  EXPECT_EQ(h.counters_.Get(Anomaly::k_frag_bad), 1u);
}

TEST_P(IpReassemblyTest, ConflictingLastFragmentsDropTheTrain) {
  Harness h(GetParam());
  EXPECT_FALSE(h.Add({16, Bytes(8, 1), false}));  // ends at 24
  EXPECT_FALSE(h.Add({16, Bytes(16, 1), false}));  // ends at 32
  EXPECT_EQ(h.counters_.Get(Anomaly::k_frag_bad), 1u);
  EXPECT_EQ(h.r_.trains(), 0u);
  // A fragment beyond the known end.
  EXPECT_FALSE(h.Add({8, Bytes(8, 1), false}, 9));   // ends at 16
  EXPECT_FALSE(h.Add({16, Bytes(8, 1), true}, 9));   // ends at 24
  EXPECT_EQ(h.counters_.Get(Anomaly::k_frag_bad), 2u);
}

TEST_P(IpReassemblyTest, OverMaxDatagramBytesIsRefused) {
  Harness h(GetParam());
  // The 13-bit offset can point to 65528; 16 bytes there end past 65535.
  EXPECT_FALSE(h.Add({65528, Bytes(16, 1), false}));
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_frag_overflow), 1u);
  EXPECT_EQ(h.r_.trains(), 0u);
  // Exactly kMaxDatagramBytes is fine.
  Bytes d = Datagram(kMaxDatagramBytes);
  auto frags = Cut(d, 8 * 1024);
  for (size_t i = 0; i < frags.size(); ++i) EXPECT_EQ(h.Add(frags[i], 5), i + 1 == frags.size());
  EXPECT_EQ(h.out, d);
}

TEST_P(IpReassemblyTest, MoreThanMaxFragmentsPerTrain) {
  Harness h(GetParam());
  Bytes d = Datagram(8 * (kMaxFragmentsPerTrain + 1));
  auto frags = Cut(d, 8);
  ASSERT_EQ(frags.size(), kMaxFragmentsPerTrain + 1);
  for (size_t i = 0; i < frags.size(); ++i) EXPECT_FALSE(h.Add(frags[i])) << i;
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_frag_overflow), 1u);
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_reassembled), 0u);
  // Exactly kMaxFragmentsPerTrain is fine.
  Bytes e = Datagram(8 * kMaxFragmentsPerTrain);
  auto ok = Cut(e, 8);
  for (size_t i = 0; i < ok.size(); ++i) EXPECT_EQ(h.Add(ok[i], 6), i + 1 == ok.size()) << i;
  EXPECT_EQ(h.out, e);
}

TEST_P(IpReassemblyTest, TableFullDropsOldestAndCounts) {
  Harness h(GetParam());
  Bytes d = Datagram(16);
  auto frags = Cut(d, 8);
  for (uint32_t id = 0; id < kMaxFragmentTrains; ++id) EXPECT_FALSE(h.Add(frags[0], id));
  EXPECT_EQ(h.r_.trains(), kMaxFragmentTrains);
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_frag_timeouts), 0u);
  EXPECT_FALSE(h.Add(frags[0], 100000));  // one more: the oldest (id 0) goes
  EXPECT_EQ(h.r_.trains(), kMaxFragmentTrains);
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_frag_timeouts), 1u);
  EXPECT_TRUE(h.Add(frags[1], 1));   // id 1 survived
  EXPECT_EQ(h.out, d);
  EXPECT_FALSE(h.Add(frags[1], 0));  // id 0 was dropped: its tail alone cannot complete
}

TEST_P(IpReassemblyTest, TimeoutDropsAndCounts) {
  Harness h(GetParam());
  Bytes d = Datagram(16);
  auto frags = Cut(d, 8);
  EXPECT_FALSE(h.Add(frags[0], 1, 1'000'000));
  // At exactly the timeout it is still alive...
  EXPECT_FALSE(h.Add(frags[0], 2, 1'000'000 + kFragmentTimeoutUs));
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_frag_timeouts), 0u);
  // ...and gone one microsecond later.
  EXPECT_FALSE(h.Add(frags[1], 1, 1'000'001 + kFragmentTimeoutUs));
  EXPECT_EQ(h.counters_.Get(Counter::k_ip_frag_timeouts), 1u);
  EXPECT_TRUE(h.Add(frags[1], 2, 1'000'001 + kFragmentTimeoutUs));
  EXPECT_EQ(h.out, d);
}

TEST_P(IpReassemblyTest, RandomOrderAndOverlapsAlwaysGiveTheFirstBytes) {
  // Fragments cut at random 8-byte boundaries, shuffled, some repeated with
  // garbage after the real copy arrived: the result is always the original.
  std::mt19937 rng(1234);
  for (int round = 0; round < 200; ++round) {
    Harness h(GetParam());
    Bytes d = Datagram(8 * (1 + rng() % 30) + rng() % 8, static_cast<uint8_t>(round));
    std::vector<Frag> frags;
    uint32_t off = 0;
    while (off < d.size()) {
      uint32_t n = 8 * (1 + rng() % 4);
      if (off + n >= d.size()) n = static_cast<uint32_t>(d.size() - off);
      frags.push_back({off, Bytes(d.begin() + off, d.begin() + off + n), off + n < d.size()});
      off += n;
    }
    std::shuffle(frags.begin(), frags.end(), rng);
    bool done = false;
    for (size_t i = 0; i < frags.size(); ++i) {
      done = h.Add(frags[i]);
      EXPECT_EQ(done, i + 1 == frags.size());
      if (i + 1 < frags.size() && rng() % 3 == 0) {
        Frag junk = frags[i];
        std::fill(junk.data.begin(), junk.data.end(), 0xEE);
        EXPECT_FALSE(h.Add(junk));  // a differing duplicate of held bytes
      }
    }
    ASSERT_TRUE(done);
    EXPECT_EQ(h.out, d) << "round " << round;
    EXPECT_EQ(h.r_.alternates_in_use(), 0u);
  }
}

TEST_P(IpReassemblyTest, RandomConflictsLastWinsIsTheLastCopyOfEachByte) {
  // Random overlapping fragments with random contents: first-wins and
  // last-wins match a byte-by-byte model.
  std::mt19937 rng(99);
  for (int round = 0; round < 200; ++round) {
    Harness h(GetParam());
    size_t words = 2 + rng() % 12;
    size_t total = 8 * words;
    Bytes first(total, 0), last(total, 0);
    std::vector<bool> held(total, false);
    // Cover every word at least once, plus overlapping extras, the final one last.
    std::vector<Frag> frags;
    for (size_t w = 0; w + 1 < words; ++w) {
      size_t len = 8 * (1 + rng() % 3);
      len = std::min(len, total - 8 * w - 8);
      if (len == 0) len = 8;
      Bytes b(len);
      for (auto& x : b) x = static_cast<uint8_t>(rng() % 3);  // few values: overlaps agree often
      frags.push_back({static_cast<uint32_t>(8 * w), b, true});
    }
    std::shuffle(frags.begin(), frags.end(), rng);
    Bytes tail(8);
    for (auto& x : tail) x = static_cast<uint8_t>(rng() % 3);
    frags.push_back({static_cast<uint32_t>(total - 8), tail, false});
    bool conflict = false;
    bool done = false;
    for (size_t i = 0; i < frags.size(); ++i) {
      const Frag& f = frags[i];
      for (size_t j = 0; j < f.data.size(); ++j) {
        size_t at = f.offset + j;
        if (held[at] && first[at] != f.data[j]) conflict = true;
        if (!held[at]) first[at] = f.data[j];
        held[at] = true;
        last[at] = f.data[j];
      }
      done = h.Add(f);
      EXPECT_EQ(done, i + 1 == frags.size()) << round;
    }
    ASSERT_TRUE(done);
    EXPECT_EQ(h.out, first) << round;
    EXPECT_EQ(h.counters_.Get(Counter::k_ip_fragment_conflicts), conflict ? 1u : 0u) << round;
    if (first != last) {
      EXPECT_EQ(h.alt, last) << round;
    } else {
      EXPECT_TRUE(h.alt.empty()) << round;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Families, IpReassemblyTest, ::testing::Values(4, 6),
                         [](const ::testing::TestParamInfo<int>& p) { return p.param == 4 ? "Ipv4" : "Ipv6"; });

}  // namespace
}  // namespace vigie
