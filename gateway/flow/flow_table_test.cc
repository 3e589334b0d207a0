#include "gateway/flow/flow_test_util.h"

#include <algorithm>
#include <array>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace vigie {
namespace {

// ---- FlowTable: direction, expiry, eviction ---------------------------------------

class FlowTableTest : public ::testing::Test {
 protected:
  FlowTableOptions opts_;
  Counters counters_;
};

TEST_F(FlowTableTest, SynSenderIsTheClient) {
  FlowTable t(opts_, &counters_);
  bool from_client = false;
  Flow* f = t.Get(Packet(kClient, 50000, kServer, 443, kProtoTcp, kTcpSyn), 1, &from_client);
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(from_client);
  EXPECT_EQ(f->client_ip, kClient);
  EXPECT_EQ(f->client_port, 50000);
  EXPECT_EQ(f->server_ip, kServer);
  EXPECT_EQ(f->server_port, 443);
  Flow* g = t.Get(Packet(kServer, 443, kClient, 50000, kProtoTcp, kTcpSyn | kTcpAck), 2, &from_client);
  EXPECT_EQ(f, g);
  EXPECT_FALSE(from_client);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(counters_.Get(Counter::k_flows_created), 1u);
}

TEST_F(FlowTableTest, SynAckSeenFirstNamesTheOtherSideClient) {
  FlowTable t(opts_, &counters_);
  bool from_client = true;
  Flow* f = t.Get(Packet(kServer, 443, kClient, 50000, kProtoTcp, kTcpSyn | kTcpAck), 1, &from_client);
  EXPECT_FALSE(from_client);
  EXPECT_EQ(f->client_ip, kClient);
  EXPECT_EQ(f->client_port, 50000);
  EXPECT_EQ(f->server_port, 443);
  t.Get(Packet(kClient, 50000, kServer, 443, kProtoTcp, kTcpAck), 2, &from_client);
  EXPECT_TRUE(from_client);
}

TEST_F(FlowTableTest, MidStreamTcpSenderIsTheClient) {
  FlowTable t(opts_, &counters_);
  bool from_client = false;
  Flow* f = t.Get(Packet(kClient, 50000, kServer, 443, kProtoTcp, kTcpAck), 1, &from_client);
  EXPECT_TRUE(from_client);
  EXPECT_EQ(f->client_ip, kClient);
}

TEST_F(FlowTableTest, UdpResponseSeenFirst) {
  FlowTable t(opts_, &counters_);
  bool from_client = true;
  Flow* f = t.Get(Packet(kServer, 53, kClient, 40000, kProtoUdp), 1, &from_client);
  EXPECT_FALSE(from_client);
  EXPECT_EQ(f->client_ip, kClient);
  EXPECT_EQ(f->client_port, 40000);
  EXPECT_EQ(f->server_port, 53);
  t.Get(Packet(kClient, 40000, kServer, 53, kProtoUdp), 2, &from_client);
  EXPECT_TRUE(from_client);
  // Server to server (53 -> 53): the sender is the client.
  Flow* g = t.Get(Packet(kServer, 53, kClient, 53, kProtoUdp), 3, &from_client);
  EXPECT_TRUE(from_client);
  EXPECT_EQ(g->client_ip, kServer);
}

// Regression: a QUIC server's Initial seen before the client's made the
// server the flow's "client", and the real client's Initials were ignored.
TEST_F(FlowTableTest, QuicServerPacketSeenFirst) {
  FlowTable t(opts_, &counters_);
  bool from_client = true;
  for (uint16_t port : {443, 853}) {
    Flow* f = t.Get(Packet(kServer, port, kClient, 50000, kProtoUdp), 1, &from_client);
    EXPECT_FALSE(from_client) << port;
    EXPECT_EQ(f->client_ip, kClient);
    EXPECT_EQ(f->server_port, port);
  }
}

TEST_F(FlowTableTest, SameAddressBothEndsIsOneFlow) {
  FlowTable t(opts_, &counters_);
  bool from_client = false;
  Flow* f = t.Get(Packet(kClient, 2000, kClient, 1000, kProtoUdp), 1, &from_client);
  EXPECT_TRUE(from_client);
  Flow* g = t.Get(Packet(kClient, 1000, kClient, 2000, kProtoUdp), 2, &from_client);
  EXPECT_EQ(f, g);
  EXPECT_FALSE(from_client);
}

TEST_F(FlowTableTest, FlowIdsFollowBaseAndStep) {
  FlowTable t(opts_, &counters_, 3, 4);
  bool fc;
  EXPECT_EQ(t.Get(Packet(kClient, 1, kServer, 53, kProtoUdp), 1, &fc)->id, 3u);
  EXPECT_EQ(t.Get(Packet(kClient, 2, kServer, 53, kProtoUdp), 1, &fc)->id, 7u);
  EXPECT_EQ(t.Get(Packet(kClient, 1, kServer, 53, kProtoUdp), 1, &fc)->id, 3u);
}

TEST_F(FlowTableTest, IdleExpiryPerProtocol) {
  opts_.tcp_idle_us = 10'000'000;
  opts_.udp_idle_us = 5'000'000;
  FlowTable t(opts_, &counters_);
  bool fc;
  t.Get(Packet(kClient, 1, kServer, 443, kProtoTcp, kTcpSyn), 0, &fc);
  t.Get(Packet(kClient, 2, kServer, 53, kProtoUdp), 0, &fc);
  t.Expire(5'000'000);  // exactly the UDP timeout: still there
  EXPECT_EQ(t.size(), 2u);
  t.Expire(5'000'001);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(counters_.Get(Counter::k_flows_expired), 1u);
  // A packet refreshes the TCP flow.
  t.Get(Packet(kServer, 443, kClient, 1, kProtoTcp, kTcpAck), 8'000'000, &fc);
  t.Expire(10'000'001);
  EXPECT_EQ(t.size(), 1u);
  t.Expire(18'000'001);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(counters_.Get(Counter::k_flows_expired), 2u);
  // A new flow after expiry gets a new id.
  Flow* f = t.Get(Packet(kClient, 1, kServer, 443, kProtoTcp, kTcpSyn), 20'000'000, &fc);
  EXPECT_EQ(f->id, 3u);
}

TEST_F(FlowTableTest, ExpiryReleasesReassemblyBuffers) {
  opts_.reassembly_buffers = 1;
  opts_.tcp_idle_us = 1000;
  FlowTable t(opts_, &counters_);
  bool fc, in_place;
  Flow* f = t.Get(Packet(kClient, 1, kServer, 443, kProtoTcp, kTcpSyn), 0, &fc);
  t.AddSegment(f, 100, true, {}, &in_place);
  Bytes late(10, 1);
  t.AddSegment(f, 111, false, late, &in_place);  // out of order: buffered
  EXPECT_EQ(t.buffers_in_use(), 1u);
  t.Expire(2000);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.buffers_in_use(), 0u);
}

TEST_F(FlowTableTest, MaxFlowsEvictsLeastRecentUdpFirst) {
  opts_.max_flows = 3;
  FlowTable t(opts_, &counters_);
  bool fc;
  Flow* tcp1 = t.Get(Packet(kClient, 1, kServer, 443, kProtoTcp, kTcpSyn), 1, &fc);
  uint64_t tcp1_id = tcp1->id;
  t.Get(Packet(kClient, 2, kServer, 53, kProtoUdp), 2, &fc);
  t.Get(Packet(kClient, 3, kServer, 443, kProtoTcp, kTcpSyn), 3, &fc);
  EXPECT_EQ(t.size(), 3u);
  t.Get(Packet(kClient, 4, kServer, 443, kProtoTcp, kTcpSyn), 4, &fc);  // evicts the UDP flow
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(counters_.Get(Counter::k_flows_evicted), 1u);
  // The UDP flow is new again (a fresh id); this evicts the oldest TCP flow.
  Flow* u = t.Get(Packet(kClient, 2, kServer, 53, kProtoUdp), 5, &fc);
  EXPECT_EQ(u->id, 5u);
  EXPECT_EQ(counters_.Get(Counter::k_flows_evicted), 2u);
  Flow* again = t.Get(Packet(kClient, 1, kServer, 443, kProtoTcp, kTcpAck), 6, &fc);
  EXPECT_NE(again->id, tcp1_id);  // tcp1 was evicted
  EXPECT_EQ(counters_.Get(Counter::k_flows_evicted), 3u);
  EXPECT_EQ(t.size(), 3u);
}

TEST_F(FlowTableTest, MaxFlowsZeroGivesNoFlow) {
  opts_.max_flows = 0;
  FlowTable t(opts_, &counters_);
  bool fc;
  EXPECT_EQ(t.Get(Packet(kClient, 1, kServer, 53, kProtoUdp), 1, &fc), nullptr);
}


// The index's hash: equal keys hash alike; 65 536 keys that differ only in
// one port (what a scanning client sends) spread evenly over the index's
// probe groups and never collide in 64 bits; another seed gives other hashes
// (a client cannot precompute colliding 5-tuples).
TEST(FlowKeyHashTest, SpreadsKeysThatDifferInOnePort) {
  FlowKeyHash h(12345);
  FlowKey k;
  k.a = IpAddress::V4(std::array<uint8_t, 4>{10, 0, 0, 7}.data());
  k.b = IpAddress::V4(std::array<uint8_t, 4>{192, 0, 2, 1}.data());
  k.pb = 443;
  k.proto = 6;
  FlowKey same = k;
  EXPECT_EQ(h(k), h(same));
  absl::flat_hash_set<size_t> seen;
  std::vector<int> groups(1024, 0);
  for (uint32_t port = 0; port < 65536; ++port) {
    k.pa = static_cast<uint16_t>(port);
    const size_t v = h(k);
    seen.insert(v);
    ++groups[(v >> 7) & 1023];  // the bits absl's H1 picks the probe start from
  }
  EXPECT_EQ(seen.size(), 65536u);
  const int mean = 65536 / 1024;
  EXPECT_LT(*std::max_element(groups.begin(), groups.end()), 2 * mean);
  EXPECT_GT(*std::min_element(groups.begin(), groups.end()), mean / 2);
  FlowKeyHash other(54321);
  int equal = 0;
  for (uint32_t port = 0; port < 1000; ++port) {
    k.pa = static_cast<uint16_t>(port);
    equal += h(k) == other(k);
  }
  EXPECT_EQ(equal, 0);
  // IPv6 keys use every address byte.
  FlowKey v6 = k;
  v6.a.family = v6.b.family = 6;
  FlowKey v6b = v6;
  v6b.b.bytes[15] ^= 1;
  EXPECT_NE(h(v6), h(v6b));
  v6b = v6;
  v6b.a.bytes[9] ^= 0x80;
  EXPECT_NE(h(v6), h(v6b));
}

}  // namespace
}  // namespace vigie
