#include "gateway/inspect/quic_test_fixture.h"

namespace vigie {
namespace {

// ---- One Initial, per version and link / IP family --------------------------------------

struct Case {
  const char* version;
  int linktype;
  bool ipv6;
};

class QuicVersionPipelineTest : public QuicPipelineTest, public ::testing::WithParamInterface<Case> {};

TEST_P(QuicVersionPipelineTest, BlockedClientHelloInOneInitial) {
  const Case& c = GetParam();
  const TestVersion& v = Version(c.version);
  if (c.ipv6) {
    client_ = Ep("fd00::10", 52000);
    server_ = Ep("2a00:1450:4007:80c::2004", 443);
  }
  const Bytes ch = Hello("www.tiktok.com");
  const Bytes first = Initial(v, CryptoFrame(0, ch));
  PacketVerdict pv = FromClient(first, c.linktype);  // frame 1
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_TRUE(pv.decided);
  EXPECT_TRUE(pv.flow_final);
  EXPECT_EQ(pv.proto, Proto::kQuic);
  EXPECT_TRUE(pv.has_app);
  ASSERT_EQ(sink_.got.size(), 1u);
  const Captured& d = sink_.got[0];
  EXPECT_EQ(d.proto, Proto::kQuic);
  EXPECT_EQ(d.action, Action::kBlock);
  EXPECT_EQ(d.reason, Reason::kList);
  EXPECT_EQ(d.app, "tiktok");
  EXPECT_EQ(d.domain, "www.tiktok.com");
  EXPECT_EQ(d.frame, 1u);
  EXPECT_EQ(d.crypto_frames, 1);
  EXPECT_FALSE(d.ech);
  EXPECT_NE(d.json.find("\"proto\":\"quic\""), std::string::npos) << d.json;
  EXPECT_EQ(Count(Counter::k_quic_initials), 1u);
  EXPECT_EQ(Count(Counter::k_quic_client_hellos), 1u);
  EXPECT_EQ(Count(c.ipv6 ? Counter::k_packets_ipv6 : Counter::k_packets_ipv4), 1u);

  // The rest of the flow from the client: the flow's verdict, no new decision.
  pv = FromClient(first, c.linktype);  // retransmitted as is
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_TRUE(pv.flow_final);
  EXPECT_FALSE(pv.decided);
  pv = FromClient(Initial(v, CryptoFrame(0, ch), 1), c.linktype);  // retransmitted with a new packet number
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_FALSE(pv.decided);
  pv = FromClient(ShortHeader(FromHex("c1c2c3c4")), c.linktype);
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_TRUE(pv.flow_final);
  EXPECT_FALSE(pv.decided);
  // The server's packets are not the client's: passed.
  pv = FromServer(ShortHeader(FromHex("c1c2c3c4")), c.linktype);
  EXPECT_FALSE(pv.decided);
  EXPECT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(Count(Anomaly::k_quic_undecryptable), 0u);
}

INSTANTIATE_TEST_SUITE_P(Quic, QuicVersionPipelineTest,
                         ::testing::Values(Case{"V1", kEthernet, false}, Case{"V1", kRaw, true},
                                           Case{"V2", kEthernet, false}, Case{"V2", kRaw, true},
                                           Case{"Draft29", kRaw, false}, Case{"Draft29", kEthernet, true}),
                         [](const auto& p) {
                           return std::string(p.param.version) + (p.param.linktype == kRaw ? "Raw" : "Ether") +
                                  (p.param.ipv6 ? "V6" : "V4");
                         });

// ---- A post-quantum ClientHello over two Initials ----------------------------------------

class QuicSplitTest : public QuicPipelineTest, public ::testing::WithParamInterface<TestVersion> {};

// Two CRYPTO pieces out of order in the first Initial (with PING, PADDING and an
// ACK between them) and a coalesced 0-RTT packet; the middle piece in the second.
TEST_P(QuicSplitTest, PostQuantumHelloOverTwoInitialsOutOfOrder) {
  const TestVersion& v = GetParam();
  const Bytes ch = Hello("www.tiktok.com", /*pq=*/true);
  ASSERT_GT(ch.size(), 1300u);  // does not fit in one 1200-byte Initial
  const size_t a = 300, b = 1000;
  const absl::Span<const uint8_t> all(ch);
  Bytes f1 = CryptoFrame(b, all.subspan(b), v.gquic);  // third piece first
  f1.push_back(v.gquic ? 0x07 : 0x01);                 // PING
  testing::PutFill(&f1, 5, 0x00);                      // PADDING
  PutBytes(&f1, CryptoFrame(0, all.subspan(0, a), v.gquic));
  if (!v.gquic) PutBytes(&f1, FromHex("02 05 00 01 00 03 01"));  // ACK with one extra range
  PacketSpec p1;
  p1.dcid = kDcid;
  p1.frames = f1;
  PacketSpec z;
  z.type = LongType::kZeroRtt;
  z.dcid = kDcid;
  z.pn = 1;
  z.frames = Bytes(200, 0x42);
  const Bytes dgram1 = Concat(Protect(v, p1), Protect(v, z));

  PacketVerdict pv = FromClient(dgram1);  // frame 1
  EXPECT_EQ(pv.action, Action::kAllow);
  EXPECT_FALSE(pv.decided);
  EXPECT_FALSE(pv.flow_final);
  EXPECT_TRUE(sink_.got.empty());
  pv = FromClient(Initial(v, CryptoFrame(a, all.subspan(a, b - a), v.gquic), 2));  // frame 2
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_TRUE(pv.decided);
  EXPECT_TRUE(pv.flow_final);
  ASSERT_EQ(sink_.got.size(), 1u);
  const Captured& d = sink_.got[0];
  EXPECT_EQ(d.frame, 2u);
  EXPECT_EQ(d.proto, Proto::kQuic);
  EXPECT_EQ(d.app, "tiktok");
  EXPECT_EQ(d.domain, "www.tiktok.com");
  EXPECT_EQ(d.crypto_frames, 3);
  EXPECT_NE(d.json.find("\"crypto_frames\":3"), std::string::npos) << d.json;
  EXPECT_EQ(Count(Counter::k_quic_initials), 2u);
  EXPECT_EQ(Count(Counter::k_quic_multi_crypto), 1u);
  EXPECT_EQ(Count(Anomaly::k_quic_undecryptable), 0u);
  // A later 0-RTT packet alone: the flow's verdict.
  pv = FromClient(Protect(v, z));
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_EQ(sink_.got.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Quic, QuicSplitTest, ::testing::ValuesIn(testing::kQuicTestVersions),
                         [](const auto& p) { return std::string(p.param.name); });


}  // namespace
}  // namespace vigie
