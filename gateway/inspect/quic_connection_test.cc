#include "gateway/inspect/quic_test_fixture.h"

namespace vigie {
namespace {

// ---- Connection IDs -------------------------------------------------------------------------

// RFC 9001 §5.2: once the server's Initial chose a connection ID, the client
// addresses it but keeps its first DCID's keys.
TEST_F(QuicPipelineTest, ClientSwitchesToServerChosenDcidMidHello) {
  const TestVersion& v = Version("V1");
  const Bytes ch = Hello("www.tiktok.com", /*pq=*/true);
  const absl::Span<const uint8_t> all(ch);
  const Bytes server_cid = FromHex("0164bccb0bceb2de8f64afc9a9cea6a36437ab44");
  FromClient(Initial(v, CryptoFrame(0, all.first(800)), 0, kDcid));  // frame 1
  EXPECT_TRUE(sink_.got.empty());
  PacketSpec s;  // the server's Initial (its own keys; opaque to us): passed
  s.dcid = FromHex("c1c2c3c4");
  s.scid = server_cid;
  s.frames = FromHex("02 00 00 00 00");
  s.pad_to = 1200;
  EXPECT_FALSE(FromServer(Protect(v, s)).decided);  // frame 2
  const Bytes second = Initial(v, CryptoFrame(800, all.subspan(800)), 1, server_cid, kDcid);
  PacketVerdict pv = FromClient(second);  // frame 3
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_TRUE(pv.flow_final);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].frame, 3u);
  EXPECT_EQ(sink_.got[0].app, "tiktok");
  EXPECT_EQ(sink_.got[0].crypto_frames, 2);
  EXPECT_EQ(Count(Anomaly::k_quic_undecryptable), 0u);

  // The client's later packets, all to the server's connection ID: blocked, no
  // new decision. (A retransmission of the second Initial would otherwise
  // complete the ClientHello at the server.)
  pv = FromClient(second);
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_TRUE(pv.flow_final);
  pv = FromClient(Initial(v, FromHex("02 00 00 00 00"), 2, server_cid, kDcid));  // ACK-only Initial
  EXPECT_EQ(pv.action, Action::kBlock);
  PacketSpec hs;
  hs.type = LongType::kHandshake;
  hs.dcid = server_cid;
  hs.frames = Bytes(100, 0x33);
  pv = FromClient(Protect(v, hs));
  EXPECT_EQ(pv.action, Action::kBlock);
  pv = FromClient(ShortHeader(server_cid));
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(Count(Anomaly::k_quic_undecryptable), 0u);
}

// After a Retry the client starts over: a new DCID (with its own keys) and a new
// ClientHello from offset 0, on the same 5-tuple: decided again.
TEST_F(QuicPipelineTest, RetryLikeRestartIsDecidedAgain) {
  const TestVersion& v = Version("V2");
  FromClient(Initial(v, CryptoFrame(0, Hello("www.facebook.com")), 0, kDcid));  // frame 1: log
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].action, Action::kLog);
  EXPECT_EQ(sink_.got[0].app, "facebook");
  const Bytes retry_dcid = FromHex("e0e1e2e3e4e5e6e7e8e9");
  const Bytes ch = Hello("www.tiktok.com", /*pq=*/true);
  const absl::Span<const uint8_t> all(ch);
  PacketVerdict pv = FromClient(Initial(v, CryptoFrame(0, all.first(700)), 0, retry_dcid));  // frame 2
  EXPECT_FALSE(pv.decided);
  EXPECT_EQ(sink_.got.size(), 1u);
  pv = FromClient(Initial(v, CryptoFrame(700, all.subspan(700)), 1, retry_dcid));  // frame 3
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_TRUE(pv.decided);
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[1].frame, 3u);
  EXPECT_EQ(sink_.got[1].app, "tiktok");
  EXPECT_EQ(sink_.got[1].flow_id, sink_.got[0].flow_id);
  // Retransmissions under either DCID: the flow's (strongest) verdict.
  EXPECT_EQ(FromClient(Initial(v, CryptoFrame(700, all.subspan(700)), 1, retry_dcid)).action, Action::kBlock);
  EXPECT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(Count(Counter::k_quic_client_hellos), 2u);
}

// ---- Direction, scope, policy --------------------------------------------------------------

TEST_F(QuicPipelineTest, ServerInitialsAreIgnored) {
  for (LogMode mode : {LogMode::kDecisions, LogMode::kAll}) {  // kAll: the server's packets pass the scope
    SCOPED_TRACE(static_cast<int>(mode));
    Make(mode);
    const TestVersion& v = Version("V1");
    const Bytes ch = Hello("www.facebook.com");
    const absl::Span<const uint8_t> all(ch);
    FromClient(Initial(v, CryptoFrame(0, all.first(100))));  // frame 1: the client opens the flow
    // A server-to-client Initial that would even decrypt with the client's keys
    // and name tiktok: not the client's, never inspected.
    PacketVerdict pv = FromServer(Initial(v, CryptoFrame(0, Hello("www.tiktok.com"))));  // frame 2
    EXPECT_FALSE(pv.decided);
    EXPECT_EQ(pv.action, Action::kAllow);
    EXPECT_TRUE(sink_.got.empty());
    pv = FromClient(Initial(v, CryptoFrame(100, all.subspan(100)), 1));  // frame 3
    EXPECT_TRUE(pv.decided);
    ASSERT_EQ(sink_.got.size(), 1u);
    EXPECT_EQ(sink_.got[0].app, "facebook");
    EXPECT_EQ(sink_.got[0].action, Action::kLog);
    EXPECT_EQ(sink_.got[0].frame, 3u);
    pv = FromServer(Initial(v, CryptoFrame(0, Hello("www.tiktok.com")), 1));
    EXPECT_FALSE(pv.decided);
    EXPECT_EQ(sink_.got.size(), 1u);
    EXPECT_EQ(Count(Counter::k_quic_client_hellos), 1u);
    EXPECT_EQ(Count(Anomaly::k_quic_undecryptable), 0u);
  }
}

TEST_F(QuicPipelineTest, UnmanagedClient) {
  const TestVersion& v = Version("V1");
  client_ = Ep("192.168.1.5", 40000);
  const Bytes initial = Initial(v, CryptoFrame(0, Hello("www.tiktok.com")));
  PacketVerdict pv = FromClient(initial);
  EXPECT_EQ(pv.action, Action::kAllow);
  EXPECT_FALSE(pv.decided);
  EXPECT_TRUE(sink_.got.empty());
  EXPECT_EQ(Count(Counter::k_decisions), 0u);

  Make(LogMode::kAll);
  pv = FromClient(initial);
  EXPECT_EQ(pv.action, Action::kAllow);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].proto, Proto::kQuic);
  EXPECT_EQ(sink_.got[0].action, Action::kAllow);
  EXPECT_EQ(sink_.got[0].reason, Reason::kUnmanaged);
  EXPECT_EQ(sink_.got[0].app, "tiktok");
}

TEST_F(QuicPipelineTest, ApprovedAppIsAllowed) {
  PacketVerdict pv = FromClient(Initial(Version("Draft29"), CryptoFrame(0, Hello("olvid.io"))));
  EXPECT_EQ(pv.action, Action::kAllow);
  EXPECT_TRUE(pv.decided);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].action, Action::kAllow);
  EXPECT_EQ(sink_.got[0].reason, Reason::kAllowlist);
  EXPECT_EQ(sink_.got[0].app, "olvid");
  EXPECT_EQ(sink_.got[0].domain, "olvid.io");
}

TEST_F(QuicPipelineTest, EncryptedClientHello) {
  const TestVersion& v = Version("V1");
  // The outer name matches nothing: the ech policy (default log) decides.
  PacketVerdict pv = FromClient(Initial(v, CryptoFrame(0, Hello("public.example.net", false, /*ech=*/true))));
  EXPECT_GE(pv.action, Action::kLog);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_TRUE(sink_.got[0].ech);
  EXPECT_EQ(sink_.got[0].action, Action::kLog);
  EXPECT_EQ(sink_.got[0].reason, Reason::kEch);
  EXPECT_NE(sink_.got[0].json.find("\"ech\":true"), std::string::npos) << sink_.got[0].json;
  EXPECT_EQ(Count(Counter::k_tls_ech), 1u);
  // A listed outer name keeps its stronger action.
  client_.port++;
  pv = FromClient(Initial(v, CryptoFrame(0, Hello("www.tiktok.com", true, /*ech=*/true))));
  EXPECT_EQ(pv.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_TRUE(sink_.got[1].ech);
  EXPECT_EQ(sink_.got[1].action, Action::kBlock);
}

// ---- Bad input ------------------------------------------------------------------------------

TEST_F(QuicPipelineTest, UndecryptableInitialIsCounted) {
  const TestVersion& v = Version("V1");
  Bytes bad = Initial(v, CryptoFrame(0, Hello("www.tiktok.com")));
  bad.back() ^= 0x01;  // AEAD tag
  PacketVerdict pv = FromClient(bad);
  EXPECT_FALSE(pv.decided);
  EXPECT_TRUE(sink_.got.empty());
  EXPECT_EQ(Count(Anomaly::k_quic_undecryptable), 1u);
  // The flow is not spoiled: the genuine Initial still decides.
  pv = FromClient(Initial(v, CryptoFrame(0, Hello("www.tiktok.com"))));
  EXPECT_EQ(pv.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].frame, 2u);
}

TEST_F(QuicPipelineTest, MutatedInitialsNeverCrash) {
  Make(LogMode::kAll);
  std::mt19937 rng(7);
  const Bytes ch = Hello("www.tiktok.com", true);
  const absl::Span<const uint8_t> all(ch);
  for (int i = 0; i < 600; ++i) {
    const TestVersion& v = testing::kQuicTestVersions[i % std::size(testing::kQuicTestVersions)];
    client_.port = static_cast<uint16_t>(20000 + i / 3);
    Bytes p = Initial(v, CryptoFrame(0, all.first(600), v.gquic), static_cast<uint64_t>(i % 3));
    const int how = i % 4;
    if (how == 0) p.resize(rng() % (p.size() + 1));
    if (how == 1) p[rng() % p.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    if (how == 2) p[1 + rng() % 12] = static_cast<uint8_t>(rng());  // header fields
    if (how == 3) p = Concat(p, Bytes(rng() % 40, static_cast<uint8_t>(rng())));
    FromClient(p);
  }
  for (const Captured& c : sink_.got) EXPECT_EQ(c.json.back(), '}');
  EXPECT_GT(Count(Anomaly::k_quic_undecryptable), 0u);
}

TEST_F(QuicPipelineTest, CryptoBeyondTheCapIsCounted) {
  const TestVersion& v = Version("V1");
  const Bytes ch = Hello("www.tiktok.com");
  // A CRYPTO frame past 16 KiB (no ClientHello is that large), then the hello.
  Bytes frames = CryptoFrame(kMaxQuicCryptoBytes + 1000, Bytes(100, 0xaa));
  PutBytes(&frames, CryptoFrame(kMaxQuicCryptoBytes * 3, Bytes(10, 0xbb)));
  PacketVerdict pv = FromClient(Initial(v, frames));
  EXPECT_FALSE(pv.decided);
  EXPECT_EQ(Count(Counter::k_quic_crypto_capped), 2u);
  pv = FromClient(Initial(v, CryptoFrame(0, ch), 1));
  EXPECT_EQ(pv.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);

  // A ClientHello announced larger than 16 KiB, sent in full: over the cap.
  client_.port++;
  testing::ClientHelloSpec huge;
  huge.sni = "www.tiktok.com";
  huge.padding = kMaxQuicCryptoBytes;
  const Bytes big = testing::BuildClientHelloHandshake(huge);
  uint64_t pn = 0;
  for (size_t off = 0; off < big.size(); off += 1100) {
    const size_t n = std::min<size_t>(1100, big.size() - off);
    FromClient(Initial(v, CryptoFrame(off, absl::MakeConstSpan(big).subspan(off, n)), pn++));
  }
  EXPECT_EQ(Count(Anomaly::k_tls_too_large), 1u);
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[1].reason, Reason::kMalformed);
}


// ---- By content, not by port or guessed direction -----------------------------------------

TEST_F(QuicPipelineTest, InitialWithTheQuicBitClearedIsRead) {
  // RFC 9287: a client that remembers grease_quic_bit may clear the fixed bit.
  PacketSpec p;
  p.dcid = kDcid;
  p.frames = CryptoFrame(0, Hello("www.tiktok.com"));
  p.quic_bit = false;
  EXPECT_EQ(FromClient(Protect(Version("V1"), p)).action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].domain, "www.tiktok.com");
}

TEST_F(QuicPipelineTest, ClientSendingFromPort443IsStillTheClient) {
  // The flow table guesses by ports (443 is a service port); the Initial that
  // decrypts with its own DCID's keys shows which side is the client.
  Endpoint c = Ep("10.20.5.21", 443), s = Ep("142.250.74.100", 50000);
  PacketVerdict v = Feed(kEthernet, testing::UdpFrame(c, s, Initial(Version("V1"), CryptoFrame(0, Hello("www.tiktok.com")))));
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].domain, "www.tiktok.com");
}

TEST_F(QuicPipelineTest, QuicOnTheVxlanPortIsStillQuic) {
  Endpoint s = Ep("142.250.74.100", 4789);
  PacketVerdict v = Feed(kEthernet, testing::UdpFrame(client_, s, Initial(Version("V1"), CryptoFrame(0, Hello("www.tiktok.com")))));
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);
}

}  // namespace
}  // namespace vigie
