#include "gateway/decode/decode_test_frames.h"
#include <random>

namespace vigie {
namespace {

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

// ---- Transport checksums ---------------------------------------------------------

namespace {
// RFC 1071 as written: big-endian 16-bit words one by one (the reference for
// TransportChecksumOk's word-at-a-time sum).
uint16_t ReferenceSum(const DecodedPacket& pkt, absl::Span<const uint8_t> l4) {
  uint64_t sum = 0;
  auto add = [&sum](const uint8_t* b, size_t n) {
    size_t i = 0;
    for (; i + 1 < n; i += 2) sum += (uint32_t{b[i]} << 8) | b[i + 1];
    if (i < n) sum += uint32_t{b[i]} << 8;
  };
  const size_t alen = pkt.src.family == 4 ? 4 : 16;
  add(pkt.src.bytes, alen);
  add(pkt.dst.bytes, alen);
  sum += pkt.l4_proto;
  sum += l4.size();
  add(l4.data(), l4.size());
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}
}  // namespace

TEST(DecodeTest, TransportChecksumMatchesTheByteWiseSum) {
  std::mt19937 rng(7);
  int right = 0, wrong = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    DecodedPacket pkt;
    const bool v6 = iter % 2 == 1;
    pkt.src.family = pkt.dst.family = v6 ? 6 : 4;
    for (size_t i = 0; i < (v6 ? 16u : 4u); ++i) {
      pkt.src.bytes[i] = static_cast<uint8_t>(rng());
      pkt.dst.bytes[i] = static_cast<uint8_t>(rng());
    }
    const bool tcp = iter % 4 < 2;
    pkt.l4_proto = tcp ? kProtoTcp : kProtoUdp;
    const size_t n = (tcp ? 20 : 8) + rng() % 1500;
    Bytes l4(n);
    for (uint8_t& b : l4) b = static_cast<uint8_t>(rng() % 4 == 0 ? 0xFF : rng());  // carries
    if (!tcp) {
      l4[4] = static_cast<uint8_t>(n >> 8);
      l4[5] = static_cast<uint8_t>(n);
    }
    const size_t at = tcp ? 16 : 6;
    if (iter % 3 != 0) {  // two in three made right, as a sender would
      l4[at] = l4[at + 1] = 0;
      const uint16_t c = static_cast<uint16_t>(~ReferenceSum(pkt, l4));
      l4[at] = static_cast<uint8_t>(c >> 8);
      l4[at + 1] = static_cast<uint8_t>(c);
    }
    if (!tcp && l4[at] == 0 && l4[at + 1] == 0) continue;  // "no checksum" (IPv4) or invalid (IPv6): tested apart
    pkt.l4 = absl::MakeConstSpan(l4);
    const bool expect = ReferenceSum(pkt, l4) == 0xFFFF;
    ASSERT_EQ(TransportChecksumOk(pkt), expect) << iter << " n=" << n;
    (expect ? right : wrong)++;
  }
  EXPECT_GT(right, 2000);
  EXPECT_GT(wrong, 1000);
}

}  // namespace
}  // namespace vigie
