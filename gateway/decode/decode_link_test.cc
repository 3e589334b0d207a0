#include "gateway/decode/decode_test_frames.h"

namespace vigie {
namespace {

// ---- Link layers ---------------------------------------------------------------

TEST(DecodeTest, EthernetIpv4Udp) { ExpectUdpDnsV4(Decode(kEthernet, Eth(0x0800, Ipv4(17, UdpDns())))); }

TEST(DecodeTest, EthernetIpv6Udp) { ExpectUdpDnsV6(Decode(kEthernet, Eth(0x86DD, Ipv6(17, UdpDns())))); }

TEST(DecodeTest, Vlan8021Q) {
  ExpectUdpDnsV4(Decode(kEthernet, Eth(0x8100, VlanTag(100, 0x0800, Ipv4(17, UdpDns())))));
}

TEST(DecodeTest, QinQ) {
  ExpectUdpDnsV4(
      Decode(kEthernet, Eth(0x88A8, VlanTag(10, 0x8100, VlanTag(20, 0x0800, Ipv4(17, UdpDns()))))));
  // The pre-standard 0x9100 outer TPID too.
  ExpectUdpDnsV4(
      Decode(kEthernet, Eth(0x9100, VlanTag(10, 0x8100, VlanTag(20, 0x0800, Ipv4(17, UdpDns()))))));
}

TEST(DecodeTest, VlanStackTooDeepIsMalformed) {
  Bytes inner = Ipv4(17, UdpDns());
  Bytes p = inner;
  uint16_t type = 0x0800;
  for (int i = 0; i < kMaxEncapsulationDepth + 2; ++i) {
    p = VlanTag(static_cast<uint16_t>(i), type, p);
    type = 0x8100;
  }
  Decoded d = Decode(kEthernet, Eth(0x8100, p));
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  EXPECT_EQ(d.pkt.anomaly, Anomaly::k_vlan_truncated);
}

TEST(DecodeTest, EthernetNonIpIsNotIp) {
  EXPECT_EQ(Decode(kEthernet, Eth(0x0806, Bytes(28, 0))).status, DecodeStatus::kNotIp);  // ARP
  EXPECT_EQ(Decode(kEthernet, Eth(0x88CC, Bytes(20, 0))).status, DecodeStatus::kNotIp);  // LLDP
  EXPECT_EQ(Decode(kEthernet, Eth(0x0026, Bytes(38, 0x42))).status, DecodeStatus::kNotIp);  // 802.3 + LLC (STP)
}

TEST(DecodeTest, EthernetPaddingIsTrimmedByIpv4TotalLength) {
  Bytes f = Eth(0x0800, Ipv4(17, Udp(40000, 53, Bytes{1, 2})));
  f.resize(60, 0);  // minimum Ethernet frame: padded with zeros
  Decoded d = Decode(kEthernet, f);
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(d.payload, (Bytes{1, 2}));
  EXPECT_EQ(d.pkt.note, Anomaly::kCount);
}

// Linux cooked v1: packet type(2) ARPHRD(2) address length(2) address(8) protocol(2).
TEST(DecodeTest, LinuxSll) {
  ExpectUdpDnsV4(Decode(kSll, Sll(0x0800, Ipv4(17, UdpDns()))));
  ExpectUdpDnsV6(Decode(kSll, Sll(0x86DD, Ipv6(17, UdpDns()))));
  ExpectUdpDnsV4(Decode(kSll, Sll(0x8100, VlanTag(5, 0x0800, Ipv4(17, UdpDns())))));
  EXPECT_EQ(Decode(kSll, Sll(0x0806, Bytes(28, 0))).status, DecodeStatus::kNotIp);
}

TEST(DecodeTest, LinuxSll2) {
  ExpectUdpDnsV4(Decode(kSll2, Sll2(0x0800, Ipv4(17, UdpDns()))));
  ExpectUdpDnsV6(Decode(kSll2, Sll2(0x86DD, Ipv6(17, UdpDns()))));
}

TEST(DecodeTest, RawIp) {
  for (int lt : {kRaw, kRawDlt}) {
    ExpectUdpDnsV4(Decode(lt, Ipv4(17, UdpDns())));
    ExpectUdpDnsV6(Decode(lt, Ipv6(17, UdpDns())));
    EXPECT_EQ(Decode(lt, Bytes{0x10, 0, 0, 0}).status, DecodeStatus::kNotIp);
  }
}

// BSD loopback: 4-byte address family in host byte order.
TEST(DecodeTest, BsdLoopback) {
  Bytes v4{2, 0, 0, 0};  // AF_INET, little-endian host
  PutBytes(&v4, Ipv4(17, UdpDns()));
  ExpectUdpDnsV4(Decode(kNull, v4));
  for (uint8_t af : {24, 28, 30}) {  // AF_INET6 on NetBSD/OpenBSD, FreeBSD, macOS
    Bytes v6{af, 0, 0, 0};
    PutBytes(&v6, Ipv6(17, UdpDns()));
    ExpectUdpDnsV6(Decode(kNull, v6));
  }
  Bytes be{0, 0, 0, 2};  // big-endian host
  PutBytes(&be, Ipv4(17, UdpDns()));
  ExpectUdpDnsV4(Decode(kNull, be));
  Bytes other{7, 0, 0, 0};
  PutBytes(&other, Bytes(20, 0));
  EXPECT_EQ(Decode(kNull, other).status, DecodeStatus::kNotIp);
}

// PPP (RFC 1662 HDLC-like framing): address 0xFF, control 0x03, protocol(2).
TEST(DecodeTest, Ppp) {
  Bytes f{0xFF, 0x03, 0x00, 0x21};  // address, control, protocol IPv4
  PutBytes(&f, Ipv4(17, UdpDns()));
  ExpectUdpDnsV4(Decode(kPpp, f));
  Bytes g{0x00, 0x57};  // no address/control, protocol IPv6
  PutBytes(&g, Ipv6(17, UdpDns()));
  ExpectUdpDnsV6(Decode(kPpp, g));
  Bytes h{0x21};  // protocol field compressed to one byte (RFC 1661 §6.5)
  PutBytes(&h, Ipv4(17, UdpDns()));
  ExpectUdpDnsV4(Decode(kPpp, h));
  Bytes lcp{0xFF, 0x03, 0xC0, 0x21, 1, 1, 0, 4};  // LCP
  EXPECT_EQ(Decode(kPpp, lcp).status, DecodeStatus::kNotIp);
}

TEST(DecodeTest, Pppoe) {
  ExpectUdpDnsV4(Decode(kEthernet, Eth(0x8864, Pppoe(0x0021, Ipv4(17, UdpDns())))));
  ExpectUdpDnsV6(Decode(kEthernet, Eth(0x8864, Pppoe(0x0057, Ipv6(17, UdpDns())))));
  ExpectUdpDnsV4(Decode(kEthernet, Eth(0x8100, VlanTag(7, 0x8864, Pppoe(0x0021, Ipv4(17, UdpDns()))))));
}

TEST(DecodeTest, Mpls) {
  Bytes one;
  PutMpls(&one, 16, true);
  PutBytes(&one, Ipv4(17, UdpDns()));
  ExpectUdpDnsV4(Decode(kEthernet, Eth(0x8847, one)));
  Bytes two;
  PutMpls(&two, 16, false);
  PutMpls(&two, 17, true);
  PutBytes(&two, Ipv6(17, UdpDns()));
  ExpectUdpDnsV6(Decode(kEthernet, Eth(0x8847, two)));
  // Ethernet pseudowire with a control word (4 zero bytes).
  Bytes pw;
  PutMpls(&pw, 18, true);
  PutU32(&pw, 0);  // PW control word
  PutBytes(&pw, Eth(0x0800, Ipv4(17, UdpDns())));
  ExpectUdpDnsV4(Decode(kEthernet, Eth(0x8848, pw)));
}

TEST(DecodeTest, MplsStackTooDeepIsMalformed) {
  Bytes s;
  for (int i = 0; i < kMaxMplsLabels + 1; ++i) PutMpls(&s, 16 + i, false);
  PutMpls(&s, 99, true);
  PutBytes(&s, Ipv4(17, UdpDns()));
  Decoded d = Decode(kEthernet, Eth(0x8847, s));
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  EXPECT_EQ(d.pkt.anomaly, Anomaly::k_mpls_truncated);
}

TEST(DecodeTest, UnsupportedLinkType) {
  Decoded d = Decode(147, Ipv4(17, UdpDns()));  // LINKTYPE_USER0
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  EXPECT_EQ(d.pkt.anomaly, Anomaly::k_link_unsupported);
}


}  // namespace
}  // namespace vigie
