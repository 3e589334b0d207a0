#include "gateway/sources/nfqueue_verdict.h"

#include <cstring>
#include <map>
#include <vector>

#include "gtest/gtest.h"

namespace vigie {
namespace {

constexpr int kLinktypeRaw = 101;

IpAddress Ip(const char* s) { return *IpAddress::Parse(s); }

std::vector<uint8_t> Tcp(uint16_t dport, const char* src = "10.20.5.10") {
  return BuildTcpPacket(Ip(src), Ip("192.0.2.80"), 40000, dport, 1000, 0, kTcpAck, {});
}
std::vector<uint8_t> Udp(uint16_t dport, const char* src = "10.20.5.10") {
  const uint8_t payload[4] = {1, 2, 3, 4};
  return BuildUdpPacket(Ip(src), Ip("192.0.2.53"), 40000, dport, payload);
}

// VXLAN (UDP 4789): 8-byte header with the I flag, then an Ethernet frame.
std::vector<uint8_t> Vxlan(const std::vector<uint8_t>& inner_ip) {
  std::vector<uint8_t> p = {0x08, 0, 0, 0, 0, 0, 42, 0};
  const uint8_t eth[14] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
  p.insert(p.end(), eth, eth + sizeof(eth));
  p.insert(p.end(), inner_ip.begin(), inner_ip.end());
  return BuildUdpPacket(Ip("10.20.5.10"), Ip("192.0.2.80"), 40001, 4789, p);
}

// The first fragment of a datagram (more fragments follow).
std::vector<uint8_t> FirstFragment(std::vector<uint8_t> ipv4) {
  ipv4[6] |= 0x20;
  return ipv4;
}

FrameDecode Decode(const std::vector<uint8_t>& p) {
  FrameDecode d;
  d.status = DecodeFrame(kLinktypeRaw, p, &d.pkt);
  return d;
}

PacketVerdict Verdict(Action a, bool flow_final, Proto proto = Proto::kDns) {
  PacketVerdict v;
  v.action = a;
  v.flow_final = flow_final;
  v.proto = proto;
  v.decided = a != Action::kAllow;  // a decision on this packet
  return v;
}

InlineVerdict Choose(const PacketVerdict& v, const FrameDecode& d, bool managed = true, int* asked = nullptr) {
  return ChooseInlineVerdict(v, d, [&](const IpAddress&) {
    if (asked) ++*asked;
    return managed;
  });
}

TEST(InlineVerdict, BlockedDnsOverUdpIsDroppedOthersMarkTheirConnection) {
  EXPECT_EQ(Choose(Verdict(Action::kBlock, true), Decode(Udp(53))), InlineVerdict::kDrop);
  EXPECT_EQ(Choose(Verdict(Action::kBlock, true), Decode(Tcp(53))), InlineVerdict::kMarkBlock);
  EXPECT_EQ(Choose(Verdict(Action::kBlock, true, Proto::kTls), Decode(Tcp(443))), InlineVerdict::kMarkBlock);
  EXPECT_EQ(Choose(Verdict(Action::kBlock, false, Proto::kQuic), Decode(Udp(443))), InlineVerdict::kMarkBlock);
}

// The decision tells DNS, not the port: a query on another DNS port (5353,
// 5355) or recognised on any port is dropped alone like one to 53, and what
// was decided as something else on port 53 marks its connection.
TEST(InlineVerdict, BlockedDnsIsToldByTheDecisionNotThePort) {
  EXPECT_EQ(Choose(Verdict(Action::kBlock, false), Decode(Udp(5353))), InlineVerdict::kDrop);
  EXPECT_EQ(Choose(Verdict(Action::kBlock, false), Decode(Udp(4000))), InlineVerdict::kDrop);
  EXPECT_EQ(Choose(Verdict(Action::kBlock, true, Proto::kQuic), Decode(Udp(53))), InlineVerdict::kMarkBlock);
  EXPECT_EQ(Choose(Verdict(Action::kBlock, true, Proto::kIp), Decode(Udp(53))), InlineVerdict::kMarkBlock);
  EXPECT_EQ(Choose(Verdict(Action::kBlock, true), Decode(Tcp(5353))), InlineVerdict::kMarkBlock);
  // A later datagram of a blocked flow: no decision on it, its connection.
  PacketVerdict later = Verdict(Action::kBlock, true);
  later.decided = false;
  EXPECT_EQ(Choose(later, Decode(Udp(443))), InlineVerdict::kMarkBlock);
}

TEST(InlineVerdict, DecidedOrUnmanagedConnectionsAreMarkedAllowed) {
  int asked = 0;
  EXPECT_EQ(Choose(Verdict(Action::kAllow, true), Decode(Tcp(443)), true, &asked), InlineVerdict::kMarkAllow);
  EXPECT_EQ(asked, 0);  // the scope test only when the flow is not final
  EXPECT_EQ(Choose(Verdict(Action::kLog, true), Decode(Udp(443))), InlineVerdict::kMarkAllow);
  EXPECT_EQ(Choose(Verdict(Action::kAllow, false), Decode(Tcp(443)), true, &asked), InlineVerdict::kAccept);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(Choose(Verdict(Action::kAllow, false), Decode(Tcp(443, "198.51.100.10")), false),
            InlineVerdict::kMarkAllow);
}

TEST(InlineVerdict, DnsIsNeverMarkedAllowed) {
  EXPECT_EQ(Choose(Verdict(Action::kAllow, true), Decode(Udp(53))), InlineVerdict::kAccept);
  EXPECT_EQ(Choose(Verdict(Action::kAllow, true), Decode(Tcp(53))), InlineVerdict::kAccept);
  EXPECT_EQ(Choose(Verdict(Action::kAllow, false), Decode(Udp(53)), false), InlineVerdict::kAccept);
}

TEST(InlineVerdict, ATunnelIsNeverMarkedAllowedButABlockInsideMarksIt) {
  FrameDecode d = Decode(Vxlan(Tcp(443)));
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  ASSERT_EQ(d.pkt.encap_depth, 1);
  ASSERT_EQ(d.pkt.dst_port, 443);
  // A decided inner flow must not stop the queueing of the whole tunnel.
  EXPECT_EQ(Choose(Verdict(Action::kAllow, true), d), InlineVerdict::kAccept);
  EXPECT_EQ(Choose(Verdict(Action::kAllow, false), d, false), InlineVerdict::kAccept);
  EXPECT_EQ(Choose(Verdict(Action::kBlock, true), d), InlineVerdict::kMarkBlock);
  // DNS inside a tunnel: the tunnel's connection is what the kernel marks.
  FrameDecode dns = Decode(Vxlan(Udp(53)));
  ASSERT_EQ(dns.pkt.encap_depth, 1);
  EXPECT_EQ(Choose(Verdict(Action::kBlock, true), dns), InlineVerdict::kMarkBlock);
}

TEST(InlineVerdict, AFragmentIsNeverMarkedAllowed) {
  FrameDecode d = Decode(FirstFragment(Tcp(443)));
  ASSERT_EQ(d.status, DecodeStatus::kFragment);
  EXPECT_EQ(Choose(Verdict(Action::kAllow, true), d), InlineVerdict::kAccept);
  EXPECT_EQ(Choose(Verdict(Action::kAllow, false), d, false), InlineVerdict::kAccept);
  EXPECT_EQ(Choose(Verdict(Action::kBlock, true), Decode(FirstFragment(Udp(53)))), InlineVerdict::kMarkBlock);
}

TEST(InlineVerdict, UnreadablePacketIsNeitherMarkedNorDropped) {
  FrameDecode d = Decode({0x45, 0});  // truncated
  ASSERT_EQ(d.status, DecodeStatus::kMalformed);
  EXPECT_EQ(Choose(Verdict(Action::kAllow, false), d, false), InlineVerdict::kAccept);
}

TEST(NfVerdict, MarksKeepThePacketsOtherBits) {
  EXPECT_EQ(ToNfVerdict(InlineVerdict::kAccept, 0xff00), (NfVerdict{NF_ACCEPT, false, 0}));
  EXPECT_EQ(ToNfVerdict(InlineVerdict::kDrop, 0xff00), (NfVerdict{NF_DROP, false, 0}));
  EXPECT_EQ(ToNfVerdict(InlineVerdict::kMarkAllow, 0xff03), (NfVerdict{NF_REPEAT, true, 0xff00 | kMarkAllow}));
  EXPECT_EQ(ToNfVerdict(InlineVerdict::kMarkBlock, 0xff01), (NfVerdict{NF_REPEAT, true, 0xff00 | kMarkBlock}));
}

// The kernel's side of the queue: packets delivered and waiting for a
// verdict; a batch verdict applies to every waiting id up to its id, a single
// one to its id only (nfqnl_recv_verdict_batch, nfqnl_recv_verdict).
struct KernelQueue {
  std::map<uint32_t, NfVerdict> waiting;  // id -> the verdict the worker meant
  std::map<uint32_t, NfVerdict> applied;
  size_t messages = 0;
  bool Apply(uint32_t last, const NfVerdict& v, absl::Span<const VerdictBatch::Clock::time_point> received) {
    ++messages;
    size_t covered = 0;
    for (auto it = waiting.begin(); it != waiting.end() && it->first <= last;) {
      if (received.size() == 1 && it->first != last) {
        ++it;
        continue;
      }
      applied[it->first] = v;
      it = waiting.erase(it);
      ++covered;
    }
    EXPECT_EQ(covered, received.size()) << "message up to id " << last;
    return true;
  }
};

// Runs `verdicts` (one per packet, ids from 1) through a VerdictBatch the way
// the worker does; `idle_after`: packet indexes after which the socket is
// empty (the worker flushes before it waits).
KernelQueue RunWorker(const std::vector<NfVerdict>& verdicts, const std::vector<size_t>& idle_after = {}) {
  KernelQueue k;
  VerdictBatch b;
  auto send = [&](uint32_t last, const NfVerdict& v, auto received) { return k.Apply(last, v, received); };
  auto t0 = VerdictBatch::Clock::now();
  for (size_t i = 0; i < verdicts.size(); ++i) {
    uint32_t id = static_cast<uint32_t>(i + 1);
    k.waiting[id] = verdicts[i];
    b.Add(id, verdicts[i], t0, send);
    for (size_t idle : idle_after) {
      if (idle == i) b.Flush(send);
    }
  }
  b.Flush(send);
  EXPECT_EQ(b.pending(), 0u);
  return k;
}

void ExpectEachGotItsOwn(const KernelQueue& k, const std::vector<NfVerdict>& verdicts) {
  EXPECT_TRUE(k.waiting.empty()) << k.waiting.size() << " packets left without a verdict";
  ASSERT_EQ(k.applied.size(), verdicts.size());
  for (size_t i = 0; i < verdicts.size(); ++i) {
    EXPECT_EQ(k.applied.at(static_cast<uint32_t>(i + 1)), verdicts[i]) << "packet " << i + 1;
  }
}

const NfVerdict kAccept{NF_ACCEPT, false, 0};
const NfVerdict kDropV{NF_DROP, false, 0};
const NfVerdict kAllow{NF_REPEAT, true, kMarkAllow};
const NfVerdict kBlockV{NF_REPEAT, true, kMarkBlock};

TEST(VerdictBatch, LikeVerdictsShareOneMessage) {
  std::vector<NfVerdict> v(20, kAccept);
  KernelQueue k = RunWorker(v);
  ExpectEachGotItsOwn(k, v);
  EXPECT_EQ(k.messages, 1u);
}

TEST(VerdictBatch, AnotherVerdictOrMarkSendsThePendingFirst) {
  const NfVerdict allow_other_bits{NF_REPEAT, true, 0x100 | kMarkAllow};
  std::vector<NfVerdict> v = {kAccept, kAccept, kAccept, kBlockV, kAccept, kAllow, kAllow,
                              allow_other_bits, kDropV, kDropV, kAccept};
  KernelQueue k = RunWorker(v);
  ExpectEachGotItsOwn(k, v);
  EXPECT_EQ(k.messages, 7u);  // AAA | B | A | LL | L' | DD | A
}

TEST(VerdictBatch, AtMostMaxPacketsPerMessage) {
  std::vector<NfVerdict> v(kVerdictBatchMax * 3 + 5, kAllow);
  KernelQueue k = RunWorker(v);
  ExpectEachGotItsOwn(k, v);
  EXPECT_EQ(k.messages, 4u);
}

TEST(VerdictBatch, FlushedWhenTheSocketIsIdle) {
  std::vector<NfVerdict> v(10, kAccept);
  KernelQueue k;
  VerdictBatch b;
  auto send = [&](uint32_t last, const NfVerdict& nv, auto received) { return k.Apply(last, nv, received); };
  for (uint32_t id = 1; id <= 3; ++id) {
    k.waiting[id] = kAccept;
    b.Add(id, kAccept, VerdictBatch::Clock::now(), send);
  }
  EXPECT_EQ(k.messages, 0u);  // pending while packets keep coming
  EXPECT_EQ(b.pending(), 3u);
  b.Flush(send);  // the worker is about to wait: nothing may stay pending
  EXPECT_EQ(k.messages, 1u);
  EXPECT_TRUE(k.waiting.empty());
  b.Flush(send);  // nothing pending: no message
  EXPECT_EQ(k.messages, 1u);

  KernelQueue k2 = RunWorker(v, {2, 6});
  ExpectEachGotItsOwn(k2, v);
  EXPECT_EQ(k2.messages, 3u);
}

TEST(VerdictBatch, PassesTheReceiveTimesOfItsPackets) {
  VerdictBatch b;
  auto t = VerdictBatch::Clock::now();
  std::vector<VerdictBatch::Clock::time_point> seen;
  auto send = [&](uint32_t, const NfVerdict&, auto received) {
    seen.assign(received.begin(), received.end());
    return true;
  };
  b.Add(7, kAccept, t, send);
  b.Add(9, kAccept, t + std::chrono::microseconds(5), send);
  b.Flush(send);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1] - seen[0], std::chrono::microseconds(5));
}

}  // namespace
}  // namespace vigie
