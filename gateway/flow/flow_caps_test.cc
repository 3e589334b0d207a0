// The flow table's caps as a flood sees them (issue 14): refusals and
// evictions reported per source after the source's flows are gone, the
// memory bound computed from the options, and no source entry left behind.
#include "gateway/flow/flow_test_util.h"

namespace vigie {
namespace {

IpAddress Source(uint32_t k) { return V4(10, uint8_t(k >> 16), uint8_t(k >> 8), uint8_t(k)); }

Flow* Open(FlowTable& t, const IpAddress& src, uint16_t port, uint64_t now) {
  bool from_client = false;
  return t.Get(Packet(src, port, kServer, 443, kProtoTcp, kTcpSyn), now, &from_client);
}

TEST(FlowCapsTest, QuotaHitsOfOneSourceAreReportedPerSource) {
  FlowTableOptions o;
  o.max_flows = 64;
  o.max_per_source = 4;
  Counters c;
  FlowTable t(o, &c);
  for (uint16_t p = 0; p < 10; ++p) Open(t, Source(1), uint16_t(1000 + p), 1);
  Open(t, Source(2), 1000, 1);
  EXPECT_EQ(c.Get(Counter::k_flow_quota_hit), 6u);
  std::vector<SourceReport> top = t.TopSources();
  ASSERT_EQ(top.size(), 1u);  // the other source was never refused
  EXPECT_EQ(top[0].ip, Source(1));
  EXPECT_EQ(top[0].quota_hits, 6u);
  EXPECT_EQ(top[0].flows, 4u);
}

TEST(FlowCapsTest, EvictionsAreCountedAgainstTheEvictedSourceAndSurviveItsLastFlow) {
  FlowTableOptions o;
  o.max_flows = 8;
  Counters c;
  FlowTable t(o, &c);
  for (uint16_t p = 0; p < 3; ++p) Open(t, Source(7), uint16_t(1000 + p), 1);  // the oldest flows
  for (uint32_t k = 100; k < 108; ++k) Open(t, Source(k), 1000, 2);           // push them out
  EXPECT_EQ(c.Get(Counter::k_flows_evicted), 3u);
  EXPECT_EQ(t.Source(Source(7)), nullptr);  // no flow left: the live entry is gone
  std::vector<SourceReport> top = t.TopSources();
  ASSERT_FALSE(top.empty());
  EXPECT_EQ(top[0].ip, Source(7));
  EXPECT_EQ(top[0].evicted, 3u);
  EXPECT_EQ(top[0].flows, 0u);
}

TEST(FlowCapsTest, TopSourcesKeepsTheHeaviestAtMostTen) {
  FlowTableOptions o;
  o.max_flows = 4;
  o.max_per_source = 1;
  Counters c;
  FlowTable t(o, &c);
  // Source k is refused k times, then its flow is evicted by the next ones.
  for (uint32_t k = 1; k <= 30; ++k) {
    for (uint32_t i = 0; i <= k; ++i) Open(t, Source(k), uint16_t(1000 + i), k);
  }
  std::vector<SourceReport> top = t.TopSources();
  ASSERT_EQ(top.size(), kTopSources);
  EXPECT_EQ(top[0].ip, Source(30));
  EXPECT_EQ(top[0].quota_hits, 30u);
  for (size_t i = 1; i < top.size(); ++i) {
    EXPECT_GE(top[i - 1].quota_hits + top[i - 1].evicted, top[i].quota_hits + top[i].evicted);
  }
  EXPECT_GE(top.back().quota_hits, 20u);  // the ten heaviest: sources 21..30
}

// Regression (issue 14 flood review): turning a flow round left its old
// client's entry behind with no flow, so a stream of turned flows from new
// addresses grew the source map without bound.
TEST(FlowCapsTest, TurnRoundLeavesNoEmptySourceEntry) {
  FlowTableOptions o;
  Counters c;
  FlowTable t(o, &c);
  for (uint32_t k = 0; k < 100; ++k) {
    Flow* f = Open(t, Source(k), 443, 1);
    ASSERT_NE(f, nullptr);
    t.TurnRound(f);
  }
  EXPECT_EQ(t.sources().size(), 1u);  // every flow's client is now kServer
  EXPECT_EQ(t.Source(kServer)->flows, 100u);
}

TEST(FlowCapsTest, MemoryBoundGrowsWithTheCaps) {
  FlowTableOptions o;
  o.max_flows = 1 << 16;
  o.reassembly_buffers = 256;
  FlowMemoryBound m = FlowTable::MemoryBound(o);
  EXPECT_GE(m.per_flow, sizeof(Flow) + sizeof(FlowKey));
  EXPECT_GE(m.per_buffer, size_t{kReassemblyCap} + kReassemblyBitmapWords * 8);
  EXPECT_GE(m.per_aux, kAuxBufferBytes);
  EXPECT_EQ(m.aux_buffers, 64u);
  EXPECT_GE(m.total, m.per_flow * o.max_flows + m.per_buffer * 256 + m.per_aux * 64);
  o.max_flows *= 2;
  EXPECT_GE(FlowTable::MemoryBound(o).total, m.total + m.per_flow * (1 << 16));
}

}  // namespace
}  // namespace vigie
