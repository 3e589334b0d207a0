#include "gateway/decode/decode_test_frames.h"

namespace vigie {
namespace {

// ---- Tunnels ---------------------------------------------------------------------

const uint8_t kOuterSrc[4] = {192, 0, 2, 1};
const uint8_t kOuterDst[4] = {192, 0, 2, 2};
Ipv4Opts Outer() {
  Ipv4Opts o;
  o.src = kOuterSrc;
  o.dst = kOuterDst;
  return o;
}

TEST(DecodeTest, IpInIp) {
  ExpectUdpDnsV4(Decode(kEthernet, Eth(0x0800, Ipv4(4, Ipv4(17, UdpDns()), Outer()))), 1);
  ExpectUdpDnsV6(Decode(kEthernet, Eth(0x0800, Ipv4(41, Ipv6(17, UdpDns()), Outer()))), 1);
  ExpectUdpDnsV4(Decode(kRaw, Ipv6(4, Ipv4(17, UdpDns()))), 1);
}

TEST(DecodeTest, GrePlainKeySeqChecksum) {
  ExpectUdpDnsV4(Decode(kRaw, Ipv4(47, Gre(0x0800, Ipv4(17, UdpDns())), Outer())), 1);
  ExpectUdpDnsV4(Decode(kRaw, Ipv4(47, Gre(0x0800, Ipv4(17, UdpDns()), true, true), Outer())), 1);
  ExpectUdpDnsV6(Decode(kRaw, Ipv4(47, Gre(0x86DD, Ipv6(17, UdpDns()), true, true, true), Outer())), 1);
  // Transparent Ethernet bridging.
  ExpectUdpDnsV4(Decode(kRaw, Ipv4(47, Gre(0x6558, Eth(0x0800, Ipv4(17, UdpDns())), true), Outer())), 1);
}

TEST(DecodeTest, PptpEnhancedGreWithPpp) {
  Bytes ppp{0xFF, 0x03, 0x00, 0x21};  // PPP address, control, protocol IPv4
  PutBytes(&ppp, Ipv4(17, UdpDns()));
  ExpectUdpDnsV4(Decode(kEthernet, Eth(0x0800, Ipv4(47, PptpGre(ppp), Outer()))), 1);
}

TEST(DecodeTest, Vxlan) {
  Bytes f = Eth(0x0800, Ipv4(17, Udp(55555, 4789, Vxlan(Eth(0x0800, Ipv4(17, UdpDns())))), Outer()));
  ExpectUdpDnsV4(Decode(kEthernet, f), 1);
  // Without the I flag, the datagram is plain UDP to 4789.
  Bytes bad = Vxlan(Eth(0x0800, Ipv4(17, UdpDns())));
  bad[0] = 0;
  Decoded d = Decode(kRaw, Ipv4(17, Udp(55555, 4789, bad), Outer()));
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(d.pkt.dst_port, 4789);
  EXPECT_EQ(d.pkt.encap_depth, 0);
}

TEST(DecodeTest, Geneve) {
  ExpectUdpDnsV4(Decode(kRaw, Ipv4(17, Udp(5, 6081, Geneve(0x6558, Eth(0x0800, Ipv4(17, UdpDns())))), Outer())),
                 1);
  ExpectUdpDnsV6(Decode(kRaw, Ipv4(17, Udp(5, 6081, Geneve(0x86DD, Ipv6(17, UdpDns()), 2)), Outer())), 1);
}

TEST(DecodeTest, GtpU) {
  ExpectUdpDnsV4(Decode(kRaw, Ipv4(17, Udp(2152, 2152, GtpU(Ipv4(17, UdpDns()))), Outer())), 1);
  ExpectUdpDnsV6(Decode(kRaw, Ipv4(17, Udp(2152, 2152, GtpU(Ipv6(17, UdpDns()), true)), Outer())), 1);
}

TEST(DecodeTest, NestedTunnels) {
  // VXLAN carrying GRE carrying IP-in-IP.
  Bytes inner = Ipv4(4, Ipv4(17, UdpDns()), Outer());
  Bytes gre = Ipv4(47, Gre(0x0800, inner), Outer());
  Bytes vx = Ipv4(17, Udp(1, 4789, Vxlan(Eth(0x0800, gre))), Outer());
  ExpectUdpDnsV4(Decode(kEthernet, Eth(0x0800, vx)), 3);
}

Bytes NestIpInIp(int depth) {
  Bytes p = Ipv4(17, UdpDns());
  for (int i = 0; i < depth; ++i) p = Ipv4(4, p, Outer());
  return p;
}

TEST(DecodeTest, TunnelNestingAtTheCapIsFollowed) {
  ExpectUdpDnsV4(Decode(kRaw, NestIpInIp(kMaxEncapsulationDepth)), kMaxEncapsulationDepth);
}

TEST(DecodeTest, TunnelNestingBeyondTheCapIsTooDeep) {
  Decoded d = Decode(kRaw, NestIpInIp(kMaxEncapsulationDepth + 1));
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  EXPECT_EQ(d.pkt.anomaly, Anomaly::k_tunnel_too_deep);
  // GRE nesting alike.
  Bytes p = Ipv4(17, UdpDns());
  for (int i = 0; i < kMaxEncapsulationDepth + 1; ++i) p = Ipv4(47, Gre(0x0800, p), Outer());
  d = Decode(kRaw, p);
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  EXPECT_EQ(d.pkt.anomaly, Anomaly::k_tunnel_too_deep);
}

// ---- Truncation at every byte ------------------------------------------------------

struct TruncCase {
  std::string name;
  int linktype;
  Bytes frame;
  size_t headers;  // bytes up to the end of the innermost transport (or fragment) header
  // A UDP tunnel header [lo, hi): a cut inside it leaves plain UDP to the tunnel port.
  size_t tunnel_lo = 0, tunnel_hi = 0;
};

std::vector<TruncCase> TruncCases() {
  std::vector<TruncCase> v;
  const size_t udp_payload = DnsPayload().size();
  auto add = [&](std::string name, int lt, Bytes f, size_t trailer, size_t tlo = 0, size_t thi = 0) {
    size_t headers = f.size() - trailer;
    v.push_back({std::move(name), lt, std::move(f), headers, tlo, thi});
  };
  add("eth_ipv4_udp", kEthernet, Eth(0x0800, Ipv4(17, UdpDns())), udp_payload);
  add("eth_ipv6_udp", kEthernet, Eth(0x86DD, Ipv6(17, UdpDns())), udp_payload);
  add("vlan", kEthernet, Eth(0x8100, VlanTag(1, 0x0800, Ipv4(17, UdpDns()))), udp_payload);
  add("qinq", kEthernet, Eth(0x88A8, VlanTag(1, 0x8100, VlanTag(2, 0x86DD, Ipv6(17, UdpDns())))), udp_payload);
  add("sll", kSll, Sll(0x0800, Ipv4(17, UdpDns())), udp_payload);
  add("sll2", kSll2, Sll2(0x86DD, Ipv6(17, UdpDns())), udp_payload);
  add("raw4", kRaw, Ipv4(17, UdpDns()), udp_payload);
  add("raw6", kRawDlt, Ipv6(17, UdpDns()), udp_payload);
  {
    Bytes f{2, 0, 0, 0};
    PutBytes(&f, Ipv4(17, UdpDns()));
    add("null", kNull, f, udp_payload);
  }
  {
    Bytes f{0xFF, 0x03, 0x00, 0x21};
    PutBytes(&f, Ipv4(17, UdpDns()));
    add("ppp", kPpp, f, udp_payload);
  }
  add("pppoe", kEthernet, Eth(0x8864, Pppoe(0x0021, Ipv4(17, UdpDns()))), udp_payload);
  {
    Bytes m;
    PutMpls(&m, 16, false);
    PutMpls(&m, 17, true);
    PutBytes(&m, Ipv4(17, UdpDns()));
    add("mpls", kEthernet, Eth(0x8847, m), udp_payload);
  }
  {
    Ipv4Opts o;
    o.options = {0x94, 0x04, 0, 0, 0x01, 0x01, 0x01, 0x00};
    add("ipv4_options", kRaw, Ipv4(17, UdpDns(), o), udp_payload);
  }
  add("ipv6_ext", kRaw, Ipv6(0, Ipv6Ext(43, 0, Ipv6Routing(60, Ipv6Ext(17, 1, UdpDns())))), udp_payload);
  add("tcp_options", kEthernet, Eth(0x0800, Ipv4(6, Tcp(1, 443, 5, 6, kTcpSyn, Bytes{1, 2, 3}, SynOptions()))), 3);
  {
    Ipv4Opts o;
    o.more = true;
    add("ipv4_fragment", kRaw, Ipv4(17, Bytes(16, 0xAA), o), 16);
  }
  add("ipv6_fragment", kRaw, Ipv6(0, Ipv6Ext(44, 0, Ipv6Frag(17, 8, true, 1, Bytes(16, 0xAA)))), 16);
  add("ipip", kRaw, Ipv4(4, Ipv4(17, UdpDns()), Outer()), udp_payload);
  add("6in4", kRaw, Ipv4(41, Ipv6(17, UdpDns()), Outer()), udp_payload);
  add("gre_key_seq", kRaw, Ipv4(47, Gre(0x0800, Ipv4(17, UdpDns()), true, true, true), Outer()), udp_payload);
  {
    Bytes ppp{0xFF, 0x03, 0x00, 0x21};
    PutBytes(&ppp, Ipv4(17, UdpDns()));
    add("pptp_gre", kRaw, Ipv4(47, PptpGre(ppp), Outer()), udp_payload);
  }
  // UDP tunnels: outer IPv4 (20) + UDP (8) then the tunnel header. A tunnel is
  // followed only when its header and the inner packet both decode; cut
  // anywhere past the outer UDP header, the datagram is plain outer UDP.
  constexpr size_t kAll = ~size_t{0};
  add("vxlan", kRaw, Ipv4(17, Udp(1, 4789, Vxlan(Eth(0x0800, Ipv4(17, UdpDns())))), Outer()), udp_payload, 28, kAll);
  add("geneve", kRaw, Ipv4(17, Udp(1, 6081, Geneve(0x0800, Ipv4(17, UdpDns()), 1))), udp_payload, 28, kAll);
  add("gtpu", kRaw, Ipv4(17, Udp(1, 2152, GtpU(Ipv4(17, UdpDns()), true)), Outer()), udp_payload, 28, kAll);
  return v;
}

TEST(DecodeTruncationTest, EveryLayerTruncatedAtEveryByte) {
  for (const TruncCase& c : TruncCases()) {
    SCOPED_TRACE(c.name);
    Decoded whole = Decode(c.linktype, c.frame);
    ASSERT_TRUE(whole.status == DecodeStatus::kOk || whole.status == DecodeStatus::kFragment)
        << StatusName(whole.status);
    for (size_t n = 0; n < c.frame.size(); ++n) {
      Decoded d = Decode(c.linktype, absl::MakeConstSpan(c.frame.data(), n));
      if (n < c.headers) {
        bool tunnel_as_udp = n >= c.tunnel_lo && n < c.tunnel_hi && d.status == DecodeStatus::kOk &&
                             d.pkt.l4_proto == kProtoUdp && d.pkt.encap_depth == 0;
        EXPECT_TRUE(d.status == DecodeStatus::kMalformed || d.status == DecodeStatus::kNotIp || tunnel_as_udp)
            << "cut at " << n << " of " << c.frame.size() << ": " << StatusName(d.status);
        if (d.status == DecodeStatus::kMalformed) {
          EXPECT_NE(d.pkt.anomaly, Anomaly::kCount) << "cut at " << n;
        }
      } else {
        // Headers whole, payload cut: decoded, with the payload trimmed.
        EXPECT_EQ(d.status, whole.status) << "cut at " << n;
        size_t got = d.status == DecodeStatus::kFragment ? d.frag_data.size() : d.payload.size();
        EXPECT_EQ(got, n - c.headers) << "cut at " << n;
      }
    }
  }
}

// Every byte value at every position must decode without crashing or overreading.
TEST(DecodeTruncationTest, ByteFlipsNeverCrash) {
  for (const TruncCase& c : TruncCases()) {
    SCOPED_TRACE(c.name);
    for (size_t i = 0; i < c.headers; ++i) {
      for (uint8_t v : {0x00, 0x01, 0x0F, 0x45, 0x60, 0x7F, 0x80, 0xFF}) {
        Bytes f = c.frame;
        f[i] = v;
        Decoded d = Decode(c.linktype, f);
        if (d.status == DecodeStatus::kMalformed) {
          EXPECT_NE(d.pkt.anomaly, Anomaly::kCount);
        }
      }
    }
  }
}


}  // namespace
}  // namespace vigie
