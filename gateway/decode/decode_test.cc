#include "gateway/decode/decode.h"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "classifiers/testing/builders.h"
#include "gtest/gtest.h"

namespace vigie {
namespace {

using testing::Bytes;
using testing::PutBytes;
using testing::PutU16;
using testing::PutU32;
using testing::PutU8;

// pcap link types used below (LINKTYPE_ values).
constexpr int kNull = 0;
constexpr int kEthernet = 1;
constexpr int kPpp = 9;
constexpr int kRawDlt = 12;
constexpr int kRaw = 101;
constexpr int kSll = 113;
constexpr int kSll2 = 276;

// ---- Frame builders: every field commented ----------------------------------

const uint8_t kSrc4[4] = {10, 1, 2, 3};
const uint8_t kDst4[4] = {93, 184, 216, 34};
const uint8_t kSrc6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
const uint8_t kDst6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};

// Ethernet II: destination MAC(6) source MAC(6) EtherType(2).
Bytes Eth(uint16_t type, const Bytes& payload) {
  Bytes b;
  PutBytes(&b, Bytes{0x02, 0, 0, 0, 0, 0x01});  // destination MAC
  PutBytes(&b, Bytes{0x02, 0, 0, 0, 0, 0x02});  // source MAC
  PutU16(&b, type);                              // EtherType
  PutBytes(&b, payload);
  return b;
}

// 802.1Q / 802.1ad tag as it follows a TPID: TCI(2) = PCP(3) DEI(1) VID(12), inner type(2).
Bytes VlanTag(uint16_t vid, uint16_t inner_type, const Bytes& payload) {
  Bytes b;
  PutU16(&b, vid & 0x0FFF);  // PCP 0, DEI 0, VID
  PutU16(&b, inner_type);    // EtherType of what follows
  PutBytes(&b, payload);
  return b;
}

struct Ipv4Opts {
  uint16_t id = 0x4242;
  bool more = false;          // MF flag
  uint16_t frag_offset = 0;   // in bytes (multiple of 8)
  Bytes options;              // IP options (padded to a multiple of 4 by the caller)
  int total_delta = 0;        // added to the true total length (lie about it)
  const uint8_t* src = kSrc4;
  const uint8_t* dst = kDst4;
};

// IPv4 header (RFC 791 §3.1) + payload.
Bytes Ipv4(uint8_t proto, const Bytes& payload, const Ipv4Opts& o = {}) {
  Bytes b;
  size_t ihl = 20 + o.options.size();
  PutU8(&b, static_cast<uint8_t>(0x40 | (ihl / 4)));  // version 4, IHL in 32-bit words
  PutU8(&b, 0);                                        // DSCP / ECN
  PutU16(&b, static_cast<uint16_t>(ihl + payload.size() + o.total_delta));  // total length
  PutU16(&b, o.id);                                    // identification
  PutU16(&b, static_cast<uint16_t>((o.more ? 0x2000 : 0) | (o.frag_offset / 8)));  // flags + fragment offset
  PutU8(&b, 64);                                       // TTL
  PutU8(&b, proto);                                    // protocol
  PutU16(&b, 0);                                       // header checksum (not verified)
  PutBytes(&b, absl::MakeConstSpan(o.src, 4));         // source address
  PutBytes(&b, absl::MakeConstSpan(o.dst, 4));         // destination address
  PutBytes(&b, o.options);                             // options
  PutBytes(&b, payload);
  return b;
}

// IPv6 header (RFC 8200 §3) + payload (extension headers included).
Bytes Ipv6(uint8_t next, const Bytes& payload, int plen_delta = 0, const uint8_t* src = kSrc6,
           const uint8_t* dst = kDst6) {
  Bytes b;
  PutU32(&b, 0x60000000);  // version 6, traffic class 0, flow label 0
  PutU16(&b, static_cast<uint16_t>(payload.size() + plen_delta));  // payload length
  PutU8(&b, next);         // next header
  PutU8(&b, 64);           // hop limit
  PutBytes(&b, absl::MakeConstSpan(src, 16));  // source address
  PutBytes(&b, absl::MakeConstSpan(dst, 16));  // destination address
  PutBytes(&b, payload);
  return b;
}

// Generic IPv6 extension header (hop-by-hop 0, routing 43, destination options 60):
// next header(1), Hdr Ext Len(1) in 8-octet units not counting the first 8, data.
Bytes Ipv6Ext(uint8_t next, size_t units, const Bytes& payload) {
  Bytes b;
  PutU8(&b, next);                          // next header
  PutU8(&b, static_cast<uint8_t>(units));   // Hdr Ext Len
  testing::PutFill(&b, 6 + units * 8, 0x01);  // options: PadN-ish filler
  PutBytes(&b, payload);
  return b;
}

// IPv6 routing header type 0 style with one segment-left: next(1) len(1)=2 type(1) left(1) reserved(4) addr(16).
Bytes Ipv6Routing(uint8_t next, const Bytes& payload) {
  Bytes b;
  PutU8(&b, next);  // next header
  PutU8(&b, 2);     // Hdr Ext Len: 2 * 8 + 8 = 24 bytes
  PutU8(&b, 4);     // routing type 4 (SRH)
  PutU8(&b, 0);     // segments left
  PutU32(&b, 0);    // last entry, flags, tag
  PutBytes(&b, absl::MakeConstSpan(kDst6, 16));  // segment list[0]
  PutBytes(&b, payload);
  return b;
}

// IPv6 fragment header (RFC 8200 §4.5): next(1) reserved(1) offset/res/M(2) id(4).
Bytes Ipv6Frag(uint8_t next, uint16_t offset, bool more, uint32_t id, const Bytes& payload) {
  Bytes b;
  PutU8(&b, next);                                                  // next header
  PutU8(&b, 0);                                                     // reserved
  PutU16(&b, static_cast<uint16_t>((offset & 0xFFF8) | (more ? 1 : 0)));  // fragment offset (bytes), M
  PutU32(&b, id);                                                   // identification
  PutBytes(&b, payload);
  return b;
}

// UDP (RFC 768): source port, destination port, length, checksum.
Bytes Udp(uint16_t sport, uint16_t dport, const Bytes& payload) {
  Bytes b;
  PutU16(&b, sport);                                         // source port
  PutU16(&b, dport);                                         // destination port
  PutU16(&b, static_cast<uint16_t>(8 + payload.size()));     // length
  PutU16(&b, 0);                                             // checksum
  PutBytes(&b, payload);
  return b;
}

// TCP (RFC 9293 §3.1) with optional options (multiple of 4 bytes).
Bytes Tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, const Bytes& payload,
          const Bytes& options = {}) {
  Bytes b;
  PutU16(&b, sport);                                               // source port
  PutU16(&b, dport);                                               // destination port
  PutU32(&b, seq);                                                 // sequence number
  PutU32(&b, ack);                                                 // acknowledgment number
  PutU8(&b, static_cast<uint8_t>(((20 + options.size()) / 4) << 4));  // data offset, reserved
  PutU8(&b, flags);                                                // flags
  PutU16(&b, 65535);                                               // window
  PutU16(&b, 0);                                                   // checksum
  PutU16(&b, 0);                                                   // urgent pointer
  PutBytes(&b, options);
  PutBytes(&b, payload);
  return b;
}

// Typical SYN options: MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
Bytes SynOptions() {
  return Bytes{0x02, 0x04, 0x05, 0xb4,                          // MSS 1460
               0x04, 0x02,                                      // SACK permitted
               0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 0,              // timestamps
               0x01,                                            // NOP
               0x03, 0x03, 0x07};                               // window scale 7
}

// MPLS label stack entry: label(20) TC(3) S(1) TTL(8).
void PutMpls(Bytes* b, uint32_t label, bool bottom) {
  PutU32(b, (label << 12) | (bottom ? 0x100 : 0) | 64);
}

// PPPoE session header (RFC 2516): ver/type(1)=0x11 code(1)=0 session(2) length(2), then PPP protocol(2).
Bytes Pppoe(uint16_t ppp_proto, const Bytes& payload) {
  Bytes b;
  PutU8(&b, 0x11);                                          // version 1, type 1
  PutU8(&b, 0x00);                                          // code: session data
  PutU16(&b, 0x0001);                                       // session id
  PutU16(&b, static_cast<uint16_t>(2 + payload.size()));    // length (PPP protocol + payload)
  PutU16(&b, ppp_proto);                                    // PPP protocol
  PutBytes(&b, payload);
  return b;
}

// GRE (RFC 2784/2890): flags+version(2) protocol(2) [checksum+reserved(4)] [key(4)] [seq(4)].
Bytes Gre(uint16_t proto, const Bytes& payload, bool key = false, bool seq = false, bool csum = false) {
  Bytes b;
  PutU16(&b, static_cast<uint16_t>((csum ? 0x8000 : 0) | (key ? 0x2000 : 0) | (seq ? 0x1000 : 0)));  // C K S, ver 0
  PutU16(&b, proto);                      // protocol type (EtherType)
  if (csum) PutU32(&b, 0);                // checksum + reserved1
  if (key) PutU32(&b, 0xdeadbeef);        // key
  if (seq) PutU32(&b, 7);                 // sequence number
  PutBytes(&b, payload);
  return b;
}

// PPTP enhanced GRE (RFC 2637 §4.1): flags K S A, version 1, protocol 0x880B,
// payload length(2) call id(2) sequence(4) acknowledgment(4), then PPP.
Bytes PptpGre(const Bytes& ppp) {
  Bytes b;
  PutU16(&b, 0x3081);                                  // K=1 S=1 A=1, version 1
  PutU16(&b, 0x880B);                                  // protocol: PPP
  PutU16(&b, static_cast<uint16_t>(ppp.size()));       // key: payload length
  PutU16(&b, 0x1234);                                  // key: call id
  PutU32(&b, 1);                                       // sequence number
  PutU32(&b, 0);                                       // acknowledgment number
  PutBytes(&b, ppp);
  return b;
}

// VXLAN (RFC 7348): flags(1)=0x08 reserved(3) VNI(3) reserved(1), then Ethernet.
Bytes Vxlan(const Bytes& inner_eth) {
  Bytes b;
  PutU8(&b, 0x08);               // I flag: VNI valid
  testing::PutU24(&b, 0);        // reserved
  testing::PutU24(&b, 5001);     // VNI
  PutU8(&b, 0);                  // reserved
  PutBytes(&b, inner_eth);
  return b;
}

// Geneve (RFC 8926): ver(2)+optlen(6), O C rsvd, protocol(2), VNI(3) rsvd(1), options.
Bytes Geneve(uint16_t proto, const Bytes& payload, size_t opt_words = 0) {
  Bytes b;
  PutU8(&b, static_cast<uint8_t>(opt_words & 0x3F));  // version 0, option length in 4-byte words
  PutU8(&b, 0);                                        // O, C, reserved
  PutU16(&b, proto);                                   // protocol type
  testing::PutU24(&b, 77);                             // VNI
  PutU8(&b, 0);                                        // reserved
  testing::PutFill(&b, opt_words * 4, 0);              // options
  PutBytes(&b, payload);
  return b;
}

// GTP-U (3GPP TS 29.281 §5.1): flags(1)=0x30|S version 1 PT 1, type(1)=0xFF G-PDU,
// length(2), TEID(4), [sequence(2) N-PDU(1) next ext type(1)].
Bytes GtpU(const Bytes& ip, bool with_seq = false) {
  Bytes b;
  PutU8(&b, with_seq ? 0x32 : 0x30);                 // version 1, PT 1, (S)
  PutU8(&b, 0xFF);                                    // message type: G-PDU
  PutU16(&b, static_cast<uint16_t>(ip.size() + (with_seq ? 4 : 0)));  // length after the TEID
  PutU32(&b, 0x01020304);                             // TEID
  if (with_seq) {
    PutU16(&b, 9);  // sequence number
    PutU8(&b, 0);   // N-PDU number
    PutU8(&b, 0);   // next extension header type: none
  }
  PutBytes(&b, ip);
  return b;
}

Bytes DnsPayload() { return testing::BuildDnsQuery("www.example.com", 1); }
Bytes UdpDns() { return Udp(40000, 53, DnsPayload()); }

// ---- Decoding with an exact-size heap copy (ASan sees any overread) ----------

struct Decoded {
  DecodeStatus status;
  DecodedPacket pkt;
  std::vector<uint8_t> payload;  // copied out: the heap copy dies with Decode()
  std::vector<uint8_t> frag_data;
};

Decoded Decode(int linktype, absl::Span<const uint8_t> frame) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[frame.size()]);
  if (!frame.empty()) std::memcpy(copy.get(), frame.data(), frame.size());
  Decoded d;
  d.status = DecodeFrame(linktype, absl::MakeConstSpan(copy.get(), frame.size()), &d.pkt);
  d.payload.assign(d.pkt.payload.begin(), d.pkt.payload.end());
  d.frag_data.assign(d.pkt.frag.data.begin(), d.pkt.frag.data.end());
  d.pkt.payload = {};
  d.pkt.frag.data = {};
  return d;
}

std::string StatusName(DecodeStatus s) {
  switch (s) {
    case DecodeStatus::kOk: return "ok";
    case DecodeStatus::kFragment: return "fragment";
    case DecodeStatus::kNotIp: return "not_ip";
    case DecodeStatus::kMalformed: return "malformed";
  }
  return "?";
}

void ExpectUdpDnsV4(const Decoded& d, uint8_t depth = 0) {
  ASSERT_EQ(d.status, DecodeStatus::kOk) << std::string(kAnomalyNames[size_t(d.pkt.anomaly) % kAnomalyCount]);
  EXPECT_EQ(d.pkt.src.ToString(), "10.1.2.3");
  EXPECT_EQ(d.pkt.dst.ToString(), "93.184.216.34");
  EXPECT_EQ(d.pkt.l4_proto, kProtoUdp);
  EXPECT_EQ(d.pkt.src_port, 40000);
  EXPECT_EQ(d.pkt.dst_port, 53);
  EXPECT_EQ(d.payload, DnsPayload());
  EXPECT_EQ(d.pkt.encap_depth, depth);
}

void ExpectUdpDnsV6(const Decoded& d, uint8_t depth = 0) {
  ASSERT_EQ(d.status, DecodeStatus::kOk) << std::string(kAnomalyNames[size_t(d.pkt.anomaly) % kAnomalyCount]);
  EXPECT_EQ(d.pkt.src.ToString(), "fd00::1");
  EXPECT_EQ(d.pkt.dst.ToString(), "2001:db8::2");
  EXPECT_EQ(d.pkt.l4_proto, kProtoUdp);
  EXPECT_EQ(d.pkt.dst_port, 53);
  EXPECT_EQ(d.payload, DnsPayload());
  EXPECT_EQ(d.pkt.encap_depth, depth);
}

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
Bytes Sll(uint16_t proto, const Bytes& payload) {
  Bytes b;
  PutU16(&b, 0);        // packet type: to us
  PutU16(&b, 1);        // ARPHRD_ETHER
  PutU16(&b, 6);        // link-layer address length
  PutBytes(&b, Bytes{0x02, 0, 0, 0, 0, 0x02, 0, 0});  // address, padded to 8
  PutU16(&b, proto);    // protocol (EtherType)
  PutBytes(&b, payload);
  return b;
}

// Linux cooked v2: protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) address length(1) address(8).
Bytes Sll2(uint16_t proto, const Bytes& payload) {
  Bytes b;
  PutU16(&b, proto);    // protocol (EtherType)
  PutU16(&b, 0);        // reserved
  PutU32(&b, 3);        // interface index
  PutU16(&b, 1);        // ARPHRD_ETHER
  PutU8(&b, 4);         // packet type: outgoing
  PutU8(&b, 6);         // address length
  PutBytes(&b, Bytes{0x02, 0, 0, 0, 0, 0x01, 0, 0});  // address, padded to 8
  PutBytes(&b, payload);
  return b;
}

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

// ---- IP ------------------------------------------------------------------------

TEST(DecodeTest, Ipv4WithOptions) {
  Ipv4Opts o;
  o.options = {0x94, 0x04, 0x00, 0x00,               // Router Alert (RFC 2113)
               0x07, 0x07, 0x04, 0, 0, 0, 0,         // Record Route, one slot
               0x00};                                // End of Options List (pads to 12)
  ExpectUdpDnsV4(Decode(kEthernet, Eth(0x0800, Ipv4(17, UdpDns(), o))));
}

TEST(DecodeTest, Ipv4BadHeader) {
  Bytes p = Ipv4(17, UdpDns());
  p[0] = 0x44;  // IHL 4 words < 20 bytes
  Decoded d = Decode(kRaw, p);
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  EXPECT_EQ(d.pkt.anomaly, Anomaly::k_ipv4_bad_header);
  p[0] = 0x4F;  // IHL 60 bytes > packet? no: packet is longer; options are garbage but skipped
  d = Decode(kRaw, p);
  EXPECT_NE(d.status, DecodeStatus::kFragment);
}

TEST(DecodeTest, Ipv4TotalLengthLargerThanFrameIsTrimmedAndNoted) {
  Ipv4Opts o;
  o.total_delta = 100;
  Decoded d = Decode(kEthernet, Eth(0x0800, Ipv4(17, UdpDns(), o)));
  ExpectUdpDnsV4(d);
  EXPECT_EQ(d.pkt.note, Anomaly::k_ipv4_bad_total_length);
}

TEST(DecodeTest, Ipv4TotalLengthZeroTsoUsesFrame) {
  Bytes p = Ipv4(17, UdpDns());
  p[2] = p[3] = 0;  // total length 0, as TSO leaves it
  Decoded d = Decode(kRaw, p);
  ExpectUdpDnsV4(d);
  EXPECT_EQ(d.pkt.note, Anomaly::k_ipv4_bad_total_length);
}

TEST(DecodeTest, Ipv6PayloadLengthLargerThanFrameIsNoted) {
  Decoded d = Decode(kRaw, Ipv6(17, UdpDns(), 50));
  ExpectUdpDnsV6(d);
  EXPECT_EQ(d.pkt.note, Anomaly::k_ipv6_bad_payload_length);
}

TEST(DecodeTest, Ipv6ExtensionHeaders) {
  // hop-by-hop -> routing -> destination options -> UDP
  Bytes chain = Ipv6Ext(43, 0, Ipv6Routing(60, Ipv6Ext(17, 1, UdpDns())));
  ExpectUdpDnsV6(Decode(kEthernet, Eth(0x86DD, Ipv6(0, chain))));
}

TEST(DecodeTest, Ipv6AtomicFragmentIsNotAFragment) {
  // RFC 6946: offset 0, M = 0.
  ExpectUdpDnsV6(Decode(kRaw, Ipv6(44, Ipv6Frag(17, 0, false, 9, UdpDns()))));
}

TEST(DecodeTest, Ipv6TooManyExtensionHeaders) {
  Bytes chain = UdpDns();
  uint8_t next = 17;
  for (int i = 0; i < kMaxIpv6ExtensionHeaders + 2; ++i) {
    chain = Ipv6Ext(next, 0, chain);
    next = 60;
  }
  Decoded d = Decode(kRaw, Ipv6(60, chain));
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  EXPECT_EQ(d.pkt.anomaly, Anomaly::k_ipv6_ext_too_many);
}

TEST(DecodeTest, Ipv4FragmentsReported) {
  Bytes udp = UdpDns();
  Bytes first(udp.begin(), udp.begin() + 16), second(udp.begin() + 16, udp.end());
  Ipv4Opts o;
  o.id = 0xBEEF;
  o.more = true;
  Decoded a = Decode(kEthernet, Eth(0x0800, Ipv4(17, first, o)));
  ASSERT_EQ(a.status, DecodeStatus::kFragment);
  EXPECT_EQ(a.pkt.frag.id, 0xBEEFu);
  EXPECT_EQ(a.pkt.frag.offset, 0u);
  EXPECT_TRUE(a.pkt.frag.more);
  EXPECT_EQ(a.pkt.frag.proto, kProtoUdp);
  EXPECT_EQ(a.frag_data, first);
  EXPECT_EQ(a.pkt.src.ToString(), "10.1.2.3");
  o.more = false;
  o.frag_offset = 16;
  Decoded b = Decode(kEthernet, Eth(0x0800, Ipv4(17, second, o)));
  ASSERT_EQ(b.status, DecodeStatus::kFragment);
  EXPECT_EQ(b.pkt.frag.offset, 16u);
  EXPECT_FALSE(b.pkt.frag.more);
  EXPECT_EQ(b.frag_data, second);
  // The largest offset the 13-bit field can say.
  o.frag_offset = 0x1FFF * 8;
  Decoded c = Decode(kRaw, Ipv4(17, Bytes(8, 0), o));
  ASSERT_EQ(c.status, DecodeStatus::kFragment);
  EXPECT_EQ(c.pkt.frag.offset, 0x1FFFu * 8);
}

TEST(DecodeTest, Ipv6FragmentsReported) {
  Bytes udp = UdpDns();
  Bytes first(udp.begin(), udp.begin() + 24), second(udp.begin() + 24, udp.end());
  // The fragment header after a hop-by-hop header.
  Decoded a = Decode(kRaw, Ipv6(0, Ipv6Ext(44, 0, Ipv6Frag(17, 0, true, 0xCAFEF00D, first))));
  ASSERT_EQ(a.status, DecodeStatus::kFragment);
  EXPECT_EQ(a.pkt.frag.id, 0xCAFEF00Du);
  EXPECT_EQ(a.pkt.frag.offset, 0u);
  EXPECT_TRUE(a.pkt.frag.more);
  EXPECT_EQ(a.pkt.frag.proto, kProtoUdp);
  EXPECT_EQ(a.frag_data, first);
  Decoded b = Decode(kRaw, Ipv6(44, Ipv6Frag(17, 24, false, 0xCAFEF00D, second)));
  ASSERT_EQ(b.status, DecodeStatus::kFragment);
  EXPECT_EQ(b.pkt.frag.offset, 24u);
  EXPECT_FALSE(b.pkt.frag.more);
  EXPECT_EQ(b.frag_data, second);
}

// ---- Transport -------------------------------------------------------------------

TEST(DecodeTest, TcpWithOptions) {
  Bytes payload{0x16, 0x03, 0x01};
  Decoded d = Decode(kEthernet, Eth(0x0800, Ipv4(6, Tcp(51000, 443, 1000, 2000, kTcpSyn | kTcpAck, payload,
                                                          SynOptions()))));
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(d.pkt.l4_proto, kProtoTcp);
  EXPECT_EQ(d.pkt.src_port, 51000);
  EXPECT_EQ(d.pkt.dst_port, 443);
  EXPECT_EQ(d.pkt.tcp_seq, 1000u);
  EXPECT_EQ(d.pkt.tcp_ack, 2000u);
  EXPECT_EQ(d.pkt.tcp_flags, kTcpSyn | kTcpAck);
  EXPECT_EQ(d.payload, payload);
}

TEST(DecodeTest, TcpBadDataOffset) {
  Bytes t = Tcp(1, 2, 0, 0, kTcpAck, {});
  t[12] = 0x40;  // 16 bytes < 20
  Decoded d = Decode(kRaw, Ipv4(6, t));
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  EXPECT_EQ(d.pkt.anomaly, Anomaly::k_tcp_bad_offset);
}

TEST(DecodeTest, UdpLengthShorterThanPayloadTrims) {
  Bytes u = Udp(1000, 53, Bytes{1, 2, 3, 4});
  u[5] = 10;  // UDP length 10: 2 payload bytes
  Decoded d = Decode(kRaw, Ipv4(17, u));
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(d.payload, (Bytes{1, 2}));
}

TEST(DecodeTest, OtherL4Protocol) {
  Decoded d = Decode(kRaw, Ipv4(1, Bytes{8, 0, 0, 0, 0, 1, 0, 1}));  // ICMP echo
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(d.pkt.l4_proto, 1);
  EXPECT_EQ(d.payload.size(), 8u);
}

TEST(DecodeIpPayloadTest, DecodesReassembledTransport) {
  DecodedPacket p;
  p.src = IpAddress::V4(kSrc4);
  Bytes udp = UdpDns();
  ASSERT_EQ(DecodeIpPayload(kProtoUdp, udp, &p), DecodeStatus::kOk);
  EXPECT_EQ(p.dst_port, 53);
  EXPECT_EQ(p.src.ToString(), "10.1.2.3");
  EXPECT_EQ(p.payload.size(), DnsPayload().size());
}

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
  // UDP tunnels: outer IPv4 (20) + UDP (8) then the tunnel header.
  add("vxlan", kRaw, Ipv4(17, Udp(1, 4789, Vxlan(Eth(0x0800, Ipv4(17, UdpDns())))), Outer()), udp_payload, 28, 36);
  add("geneve", kRaw, Ipv4(17, Udp(1, 6081, Geneve(0x0800, Ipv4(17, UdpDns()), 1))), udp_payload, 28, 40);
  add("gtpu", kRaw, Ipv4(17, Udp(1, 2152, GtpU(Ipv4(17, UdpDns()), true)), Outer()), udp_payload, 28, 40);
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
