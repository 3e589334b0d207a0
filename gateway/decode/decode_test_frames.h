// Shared by the decode_test*.cc tests: frame builders and fixtures.
#ifndef VIGIE_GATEWAY_DECODE_DECODE_TEST_FRAMES_H_
#define VIGIE_GATEWAY_DECODE_DECODE_TEST_FRAMES_H_

#include "gateway/decode/decode.h"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "classifiers/testing/builders.h"
#include "gtest/gtest.h"

namespace vigie {

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
inline Bytes Eth(uint16_t type, const Bytes& payload) {
  Bytes b;
  PutBytes(&b, Bytes{0x02, 0, 0, 0, 0, 0x01});  // destination MAC
  PutBytes(&b, Bytes{0x02, 0, 0, 0, 0, 0x02});  // source MAC
  PutU16(&b, type);                              // EtherType
  PutBytes(&b, payload);
  return b;
}

// 802.1Q / 802.1ad tag as it follows a TPID: TCI(2) = PCP(3) DEI(1) VID(12), inner type(2).
inline Bytes VlanTag(uint16_t vid, uint16_t inner_type, const Bytes& payload) {
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
inline Bytes Ipv4(uint8_t proto, const Bytes& payload, const Ipv4Opts& o = {}) {
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
inline Bytes Ipv6(uint8_t next, const Bytes& payload, int plen_delta = 0, const uint8_t* src = kSrc6,
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
inline Bytes Ipv6Ext(uint8_t next, size_t units, const Bytes& payload) {
  Bytes b;
  PutU8(&b, next);                          // next header
  PutU8(&b, static_cast<uint8_t>(units));   // Hdr Ext Len
  testing::PutFill(&b, 6 + units * 8, 0x01);  // options: PadN-ish filler
  PutBytes(&b, payload);
  return b;
}

// IPv6 routing header type 0 style with one segment-left: next(1) len(1)=2 type(1) left(1) reserved(4) addr(16).
inline Bytes Ipv6Routing(uint8_t next, const Bytes& payload) {
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
inline Bytes Ipv6Frag(uint8_t next, uint16_t offset, bool more, uint32_t id, const Bytes& payload) {
  Bytes b;
  PutU8(&b, next);                                                  // next header
  PutU8(&b, 0);                                                     // reserved
  PutU16(&b, static_cast<uint16_t>((offset & 0xFFF8) | (more ? 1 : 0)));  // fragment offset (bytes), M
  PutU32(&b, id);                                                   // identification
  PutBytes(&b, payload);
  return b;
}

// UDP (RFC 768): source port, destination port, length, checksum.
inline Bytes Udp(uint16_t sport, uint16_t dport, const Bytes& payload) {
  Bytes b;
  PutU16(&b, sport);                                         // source port
  PutU16(&b, dport);                                         // destination port
  PutU16(&b, static_cast<uint16_t>(8 + payload.size()));     // length
  PutU16(&b, 0);                                             // checksum
  PutBytes(&b, payload);
  return b;
}

// TCP (RFC 9293 §3.1) with optional options (multiple of 4 bytes).
inline Bytes Tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, const Bytes& payload,
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
inline Bytes SynOptions() {
  return Bytes{0x02, 0x04, 0x05, 0xb4,                          // MSS 1460
               0x04, 0x02,                                      // SACK permitted
               0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 0,              // timestamps
               0x01,                                            // NOP
               0x03, 0x03, 0x07};                               // window scale 7
}

// MPLS label stack entry: label(20) TC(3) S(1) TTL(8).
inline void PutMpls(Bytes* b, uint32_t label, bool bottom) {
  PutU32(b, (label << 12) | (bottom ? 0x100 : 0) | 64);
}

// PPPoE session header (RFC 2516): ver/type(1)=0x11 code(1)=0 session(2) length(2), then PPP protocol(2).
inline Bytes Pppoe(uint16_t ppp_proto, const Bytes& payload) {
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
inline Bytes Gre(uint16_t proto, const Bytes& payload, bool key = false, bool seq = false, bool csum = false) {
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
inline Bytes PptpGre(const Bytes& ppp) {
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
inline Bytes Vxlan(const Bytes& inner_eth) {
  Bytes b;
  PutU8(&b, 0x08);               // I flag: VNI valid
  testing::PutU24(&b, 0);        // reserved
  testing::PutU24(&b, 5001);     // VNI
  PutU8(&b, 0);                  // reserved
  PutBytes(&b, inner_eth);
  return b;
}

// Geneve (RFC 8926): ver(2)+optlen(6), O C rsvd, protocol(2), VNI(3) rsvd(1), options.
inline Bytes Geneve(uint16_t proto, const Bytes& payload, size_t opt_words = 0) {
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
inline Bytes GtpU(const Bytes& ip, bool with_seq = false) {
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

inline Bytes DnsPayload() { return testing::BuildDnsQuery("www.example.com", 1); }
inline Bytes UdpDns() { return Udp(40000, 53, DnsPayload()); }

// ---- Decoding with an exact-size heap copy (ASan sees any overread) ----------

struct Decoded {
  DecodeStatus status;
  DecodedPacket pkt;
  std::vector<uint8_t> payload;  // copied out: the heap copy dies with Decode()
  std::vector<uint8_t> frag_data;
};

inline Decoded Decode(int linktype, absl::Span<const uint8_t> frame) {
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

inline std::string StatusName(DecodeStatus s) {
  switch (s) {
    case DecodeStatus::kOk: return "ok";
    case DecodeStatus::kFragment: return "fragment";
    case DecodeStatus::kNotIp: return "not_ip";
    case DecodeStatus::kMalformed: return "malformed";
  }
  return "?";
}

inline void ExpectUdpDnsV4(const Decoded& d, uint8_t depth = 0) {
  ASSERT_EQ(d.status, DecodeStatus::kOk) << std::string(kAnomalyNames[size_t(d.pkt.anomaly) % kAnomalyCount]);
  EXPECT_EQ(d.pkt.src.ToString(), "10.1.2.3");
  EXPECT_EQ(d.pkt.dst.ToString(), "93.184.216.34");
  EXPECT_EQ(d.pkt.l4_proto, kProtoUdp);
  EXPECT_EQ(d.pkt.src_port, 40000);
  EXPECT_EQ(d.pkt.dst_port, 53);
  EXPECT_EQ(d.payload, DnsPayload());
  EXPECT_EQ(d.pkt.encap_depth, depth);
}

inline void ExpectUdpDnsV6(const Decoded& d, uint8_t depth = 0) {
  ASSERT_EQ(d.status, DecodeStatus::kOk) << std::string(kAnomalyNames[size_t(d.pkt.anomaly) % kAnomalyCount]);
  EXPECT_EQ(d.pkt.src.ToString(), "fd00::1");
  EXPECT_EQ(d.pkt.dst.ToString(), "2001:db8::2");
  EXPECT_EQ(d.pkt.l4_proto, kProtoUdp);
  EXPECT_EQ(d.pkt.dst_port, 53);
  EXPECT_EQ(d.payload, DnsPayload());
  EXPECT_EQ(d.pkt.encap_depth, depth);
}

inline Bytes Sll(uint16_t proto, const Bytes& payload) {
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
inline Bytes Sll2(uint16_t proto, const Bytes& payload) {
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

}  // namespace vigie

#endif  // VIGIE_GATEWAY_DECODE_DECODE_TEST_FRAMES_H_
