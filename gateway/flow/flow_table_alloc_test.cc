// The flow table is preallocated to its configured size (STYLE.md 7): once
// built, new flows (up to max_flows, then evictions past it) allocate
// nothing on the packet path and the table never holds more than max_flows.
// This binary replaces the global operator new to count allocations, so it
// is kept apart from the other tests (and from ASan's own operator new).
#include "classifiers/testing/count_new.h"
#include "gateway/flow/flow_test_util.h"

namespace vigie {
namespace {

TEST(FlowTableAllocTest, NeverGrowsPastItsSizeOnThePacketPath) {
  FlowTableOptions o;
  o.max_flows = 4096;
  Counters counters;
  FlowTable table(o, &counters);
  constexpr uint32_t kFlows = 10 * 4096;
  g_counting = true;
  size_t most = 0;
  for (uint32_t i = 0; i < kFlows; ++i) {
    // A new client (one of many) and port for every flow, TCP and UDP.
    IpAddress client = V4(10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i));
    bool from_client = false;
    Flow* f = table.Get(Packet(client, static_cast<uint16_t>(1024 + i % 60000), kServer, 443,
                               i % 3 ? kProtoTcp : kProtoUdp, i % 3 ? kTcpSyn : 0),
                        1'000'000 + i, &from_client);
    ASSERT_NE(f, nullptr) << i;
    most = std::max(most, table.size());
  }
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0u) << "allocations on the packet path";
  EXPECT_EQ(most, o.max_flows);
  EXPECT_EQ(table.size(), o.max_flows);
  EXPECT_EQ(counters.Get(Counter::k_flows_evicted), kFlows - o.max_flows);
}

}  // namespace
}  // namespace vigie
