#include "gateway/inspect/pipeline.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "classifiers/testing/builders.h"
#include "gateway/testing/pipeline_fixture.h"
#include "gtest/gtest.h"

namespace vigie {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;
using testing::PutBytes;
using testing::PutU16;
using testing::PutU32;
using testing::PutU8;

constexpr int kEthernet = 1;

using testing::CaptureSink;
using testing::Captured;
using testing::Endpoint;
using testing::Ep;
using testing::IpFrame;
using testing::TcpFrame;
using testing::UdpFrame;

// ---- Fixture ----------------------------------------------------------------------

class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { suite_ = new testing::SuitePolicy("vigie_pipeline"); }
  static void TearDownTestSuite() { delete suite_; }

  void Make(LogMode mode = LogMode::kDecisions) {
    PipelineOptions o;
    o.log_mode = mode;
    pipe_ = std::make_unique<Pipeline>(suite_->policy(), &sink_, o);
  }
  // Feeds a frame (exact-size heap copy) as the next capture frame.
  PacketVerdict Feed(const Bytes& frame) {
    std::unique_ptr<uint8_t[]> copy(new uint8_t[frame.size()]);
    std::memcpy(copy.get(), frame.data(), frame.size());
    ++frame_no_;
    ts_ += 1000;
    return pipe_->Process(kEthernet, absl::MakeConstSpan(copy.get(), frame.size()), ts_, frame_no_);
  }
  uint64_t Count(Counter c) const { return pipe_->counters().Get(c); }
  uint64_t Count(Anomaly a) const { return pipe_->counters().Get(a); }

  // TCP handshake: client SYN, server SYN-ACK, client ACK. Client data starts at kIsn + 1.
  static constexpr uint32_t kIsn = 0xFFFFFFF0u;  // client data crosses the 2^32 wrap
  static constexpr uint32_t kServerIsn = 5000;
  void Handshake(const Endpoint& c, const Endpoint& s) {
    Feed(TcpFrame(c, s, kIsn, 0, kTcpSyn, {}));
    Feed(TcpFrame(s, c, kServerIsn, kIsn + 1, kTcpSyn | kTcpAck, {}));
    Feed(TcpFrame(c, s, kIsn + 1, kServerIsn + 1, kTcpAck, {}));
  }
  // Client data at stream offset `off`.
  PacketVerdict Data(const Endpoint& c, const Endpoint& s, const Bytes& stream, size_t off, size_t len) {
    return Feed(TcpFrame(c, s, kIsn + 1 + static_cast<uint32_t>(off), kServerIsn + 1, kTcpAck | 0x08,
                         absl::MakeConstSpan(stream.data() + off, len)));
  }

  static testing::SuitePolicy* suite_;
  CaptureSink sink_;
  std::unique_ptr<Pipeline> pipe_;
  uint64_t frame_no_ = 0;
  uint64_t ts_ = 1748736000ull * 1'000'000;
  Endpoint client_ = Ep("10.0.0.5", 51000);
  Endpoint server_ = Ep("93.184.216.34", 443);
  Endpoint resolver_ = Ep("9.9.9.9", 53);
};
testing::SuitePolicy* PipelineTest::suite_ = nullptr;

Bytes Hello(const std::string& sni) {
  testing::ClientHelloSpec s;
  s.sni = sni;
  s.alpn = {"h2", "http/1.1"};
  return testing::BuildClientHello(s);
}

// ---- DNS over UDP -------------------------------------------------------------------

TEST_F(PipelineTest, DnsQueryForBlockedNameFromManagedSource) {
  Make();
  Feed(UdpFrame(client_, resolver_, testing::BuildDnsQuery("example.com", 1)));  // frame 1: no match, not logged
  PacketVerdict v = Feed(UdpFrame(client_, resolver_, testing::BuildDnsQuery("www.TikTok.com", 1)));  // frame 2
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_TRUE(v.decided);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].action, Action::kBlock);
  EXPECT_EQ(sink_.got[0].reason, Reason::kList);
  EXPECT_EQ(sink_.got[0].domain, "www.tiktok.com");
  EXPECT_EQ(sink_.got[0].app, "tiktok");
  EXPECT_EQ(sink_.got[0].frame, 2u);
  EXPECT_NE(sink_.got[0].json.find("\"frame\":2"), std::string::npos);
  EXPECT_EQ(Count(Counter::k_dns_queries), 2u);
  EXPECT_EQ(Count(Counter::k_decisions), 2u);
  EXPECT_EQ(Count(Counter::k_decisions_block), 1u);
  EXPECT_EQ(Count(Counter::k_log_events_written), 1u);
}

TEST_F(PipelineTest, DnsQueryOverIpv6) {
  Make();
  PacketVerdict v =
      Feed(UdpFrame(Ep("fd00::5", 40000), Ep("2001:db8::53", 53), testing::BuildDnsQuery("tiktok.com", 28, true)));
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(Count(Counter::k_packets_ipv6), 1u);
}

TEST_F(PipelineTest, DnsResponseIsIgnored) {
  Make(LogMode::kAll);
  Bytes resp;
  testing::DnsHeaderSpec h;
  h.qr = true;
  testing::PutDnsHeader(&resp, h);
  testing::PutDnsQuestion(&resp, testing::EncodeDnsName("tiktok.com"), 1);
  Feed(UdpFrame(Ep("10.0.0.53", 53), client_, resp));
  EXPECT_TRUE(sink_.got.empty());
  EXPECT_EQ(Count(Counter::k_dns_responses_ignored), 1u);
}

TEST_F(PipelineTest, UnmanagedSourceIsNotLoggedByDefault) {
  Make();
  PacketVerdict v = Feed(UdpFrame(Ep("192.168.1.5", 40000), resolver_, testing::BuildDnsQuery("tiktok.com", 1)));
  EXPECT_EQ(v.action, Action::kAllow);
  EXPECT_TRUE(sink_.got.empty());
  EXPECT_EQ(Count(Counter::k_packets_unmanaged), 1u);
  EXPECT_EQ(Count(Counter::k_decisions), 0u);
}

TEST_F(PipelineTest, UnmanagedSourceIsLoggedAsAllowUnmanagedInLogModeAll) {
  Make(LogMode::kAll);
  PacketVerdict v = Feed(UdpFrame(Ep("192.168.1.5", 40000), resolver_, testing::BuildDnsQuery("tiktok.com", 1)));
  EXPECT_EQ(v.action, Action::kAllow);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].action, Action::kAllow);
  EXPECT_EQ(sink_.got[0].reason, Reason::kUnmanaged);
  EXPECT_EQ(sink_.got[0].app, "tiktok");
  EXPECT_EQ(sink_.got[0].frame, 1u);
}

TEST_F(PipelineTest, LogModeBlockedOnlyLogsBlocks) {
  Make(LogMode::kBlocked);
  Feed(UdpFrame(client_, resolver_, testing::BuildDnsQuery("facebook.com", 1)));
  Feed(UdpFrame(client_, resolver_, testing::BuildDnsQuery("tiktok.com", 1)));
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].frame, 2u);
  EXPECT_EQ(Count(Counter::k_decisions_log), 1u);
}

TEST_F(PipelineTest, FragmentedDnsQueryIsReassembled) {
  Make();
  Bytes q = testing::BuildDnsQuery("a-rather-long-label-to-fill.www.tiktok.com", 1);
  Bytes u;
  PutU16(&u, client_.port);
  PutU16(&u, 53);
  PutU16(&u, static_cast<uint16_t>(8 + q.size()));
  PutU16(&u, 0);
  PutBytes(&u, q);
  Bytes first(u.begin(), u.begin() + 24), second(u.begin() + 24, u.end());
  Feed(IpFrame(client_, resolver_, 17, second, 99, 24 / 8));  // the last fragment first
  EXPECT_TRUE(sink_.got.empty());
  Feed(IpFrame(client_, resolver_, 17, first, 99, 0x2000));   // MF
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].action, Action::kBlock);
  EXPECT_EQ(sink_.got[0].frame, 2u);
  EXPECT_EQ(Count(Counter::k_ip_reassembled), 1u);
}

// ---- Malformed DNS -------------------------------------------------------------------

TEST_F(PipelineTest, MalformedDnsIsCountedAndLogged) {
  Make();
  Feed(UdpFrame(client_, resolver_, Bytes{0x12, 0x34, 0x01}));  // shorter than a header
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].reason, Reason::kMalformed);
  EXPECT_EQ(sink_.got[0].malformed, "short_header");
  EXPECT_EQ(Count(Anomaly::k_dns_malformed), 1u);
  Bytes trunc = testing::BuildDnsQuery("www.tiktok.com", 1);
  trunc.resize(20);  // ends inside the name
  Feed(UdpFrame(client_, resolver_, trunc));
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[1].reason, Reason::kMalformed);
  EXPECT_EQ(sink_.got[1].frame, 2u);
  EXPECT_EQ(Count(Anomaly::k_dns_malformed), 2u);
}

TEST_F(PipelineTest, GarbageOnDnsPortNeverCrashes) {
  Make(LogMode::kAll);
  std::mt19937 rng(99);
  Bytes q = testing::BuildDnsQuery("www.tiktok.com", 1, true);
  for (int i = 0; i < 3000; ++i) {
    Bytes p = q;
    if (i % 2) p.resize(rng() % (q.size() + 1));
    for (int k = 0; k < 3; ++k) {
      if (!p.empty()) p[rng() % p.size()] = static_cast<uint8_t>(rng());
    }
    Feed(UdpFrame(client_, resolver_, p));
    Feed(UdpFrame(client_, Ep("9.9.9.9", 853), p));  // other ports: any-port recognition
  }
  for (const Captured& c : sink_.got) {
    EXPECT_EQ(c.json.front(), '{');
    EXPECT_EQ(c.json.back(), '}');
  }
  EXPECT_GT(Count(Anomaly::k_dns_malformed), 0u);
}

// ---- TLS -------------------------------------------------------------------------

TEST_F(PipelineTest, ClientHelloInOneSegment) {
  Make();
  Handshake(client_, server_);
  Bytes ch = Hello("www.tiktok.com");
  PacketVerdict v = Data(client_, server_, ch, 0, ch.size());
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_TRUE(v.flow_final);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].proto, Proto::kTls);
  EXPECT_EQ(sink_.got[0].frame, 4u);
  // The rest of the flow gets the flow's verdict.
  v = Data(client_, server_, ch, 0, 10);
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_EQ(sink_.got.size(), 1u);
}

TEST_F(PipelineTest, ClientHelloInThreeSegmentsOutOfOrder) {
  Make();
  Handshake(client_, server_);  // frames 1-3
  Bytes ch = Hello("www.tiktok.com");
  size_t a = ch.size() / 3, b = 2 * ch.size() / 3;
  Data(client_, server_, ch, 0, a);                 // frame 4
  Data(client_, server_, ch, b, ch.size() - b);     // frame 5
  EXPECT_TRUE(sink_.got.empty());
  PacketVerdict v = Data(client_, server_, ch, a, b - a);  // frame 6 completes it
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].frame, 6u);
  EXPECT_EQ(sink_.got[0].tcp_segments, 3);
  EXPECT_EQ(Count(Counter::k_tls_multi_segment), 1u);
  EXPECT_EQ(Count(Counter::k_tcp_out_of_order), 1u);
}

TEST_F(PipelineTest, ClientHelloLastSegmentFirst) {
  Make();
  Handshake(client_, server_);
  Bytes ch = Hello("www.tiktok.com");
  size_t a = ch.size() / 3, b = 2 * ch.size() / 3;
  Data(client_, server_, ch, b, ch.size() - b);  // frame 4
  Data(client_, server_, ch, a, b - a);          // frame 5
  EXPECT_TRUE(sink_.got.empty());
  Data(client_, server_, ch, 0, a);              // frame 6
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].frame, 6u);
  EXPECT_EQ(sink_.got[0].action, Action::kBlock);
}

TEST_F(PipelineTest, ClientHelloOneBytePerSegment) {
  Make();
  Handshake(client_, server_);
  Bytes ch = Hello("www.tiktok.com");
  for (size_t i = 0; i < ch.size(); ++i) {
    Data(client_, server_, ch, i, 1);
    if (i + 1 < ch.size()) {
      ASSERT_TRUE(sink_.got.empty()) << i;
    }
  }
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].frame, 3 + ch.size());
  EXPECT_EQ(sink_.got[0].tcp_segments, ch.size());
  EXPECT_EQ(sink_.got[0].action, Action::kBlock);
}

TEST_F(PipelineTest, ClientHelloInSeveralTlsRecords) {
  Make();
  Handshake(client_, server_);
  testing::ClientHelloSpec s;
  s.sni = "tiktok.com";
  Bytes ch = testing::SplitIntoRecords(testing::BuildClientHelloHandshake(s), 4);
  Data(client_, server_, ch, 0, ch.size());
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].tls_records, 4);
  EXPECT_EQ(Count(Counter::k_tls_multi_record), 1u);
  EXPECT_EQ(sink_.got[0].action, Action::kBlock);
}

TEST_F(PipelineTest, ClientHelloInSeveralRecordsAndSegments) {
  Make();
  Handshake(client_, server_);
  testing::ClientHelloSpec s;
  s.sni = "tiktok.com";
  s.pq_key_share = true;  // a ~1.8 KB hello
  Bytes ch = testing::SplitIntoRecordsOfSize(testing::BuildClientHelloHandshake(s), 500);
  for (size_t off = 0; off < ch.size(); off += 700) Data(client_, server_, ch, off, std::min<size_t>(700, ch.size() - off));
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_GT(sink_.got[0].tls_records, 1);
  EXPECT_GT(sink_.got[0].tcp_segments, 1);
}

TEST_F(PipelineTest, ClientHelloWithoutHandshakeSeen) {
  Make();
  Bytes ch = Hello("tiktok.com");
  Data(client_, server_, ch, 0, ch.size());
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].action, Action::kBlock);
}

TEST_F(PipelineTest, NonTlsStreamIsIgnored) {
  Make(LogMode::kAll);
  Handshake(client_, Ep("93.184.216.34", 8080));
  // Neither TLS, HTTP nor DNS (an MTProto-style obfuscated start), to an
  // address no ip: rule lists.
  Bytes other = {0xef, 0x7a, 0x01, 0x00, 0x9c, 0x33, 0x10, 0x00};
  PacketVerdict v = Data(client_, Ep("93.184.216.34", 8080), other, 0, other.size());
  EXPECT_TRUE(v.flow_final);
  EXPECT_TRUE(sink_.got.empty());
}

TEST_F(PipelineTest, MalformedClientHelloIsAMalformedDecision) {
  Make();
  Handshake(client_, server_);
  Bytes ch = Hello("tiktok.com");
  ch[5] = 2;  // handshake type ServerHello
  Data(client_, server_, ch, 0, ch.size());
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].reason, Reason::kMalformed);
  EXPECT_EQ(Count(Anomaly::k_tls_malformed), 1u);
}

// A TLS 1.3 HelloRetryRequest: the client answers with (ChangeCipherSpec +) a
// second ClientHello on the same connection. Both are decided.
constexpr uint8_t kCcs[] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};

Bytes ServerHrr() {
  Bytes b = {0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00};  // a (tiny) ServerHello record
  return b;
}

TEST_F(PipelineTest, SecondClientHelloAfterHelloRetryRequest) {
  Make();
  Handshake(client_, server_);
  Bytes stream = Hello("www.facebook.com");  // logged, not blocked: inspection goes on
  size_t ch1 = stream.size();
  stream.insert(stream.end(), std::begin(kCcs), std::end(kCcs));
  Bytes second = Hello("www.facebook.com");
  stream.insert(stream.end(), second.begin(), second.end());
  Data(client_, server_, stream, 0, ch1);                                         // frame 4
  Feed(TcpFrame(server_, client_, kServerIsn + 1, kIsn + 1 + ch1, kTcpAck, ServerHrr()));  // frame 5
  Data(client_, server_, stream, ch1, stream.size() - ch1);                       // frame 6: CCS + CH2
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[0].frame, 4u);
  EXPECT_EQ(sink_.got[1].frame, 6u);
  EXPECT_EQ(sink_.got[1].domain, "www.facebook.com");
  EXPECT_EQ(sink_.got[1].reason, Reason::kList);
  EXPECT_EQ(sink_.got[0].flow_id, sink_.got[1].flow_id);
  EXPECT_EQ(Count(Counter::k_tls_client_hellos), 2u);
  EXPECT_EQ(Count(Anomaly::k_tls_malformed), 0u);
}

TEST_F(PipelineTest, SecondClientHelloAfterCcsInItsOwnSegment) {
  Make();
  Handshake(client_, server_);
  Bytes stream = Hello("www.facebook.com");
  size_t ch1 = stream.size();
  stream.insert(stream.end(), std::begin(kCcs), std::end(kCcs));
  Bytes second = Hello("www.tiktok.com");  // a different name in the second hello
  stream.insert(stream.end(), second.begin(), second.end());
  Data(client_, server_, stream, 0, ch1);
  Data(client_, server_, stream, ch1, sizeof(kCcs));
  PacketVerdict v = Data(client_, server_, stream, ch1 + sizeof(kCcs), second.size());
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[1].domain, "www.tiktok.com");
  EXPECT_EQ(v.action, Action::kBlock);
}

// Regression: when the first ClientHello had been reassembled in a buffer (it
// spanned two segments), the ChangeCipherSpec skip kept a view into the buffer
// that Consume had just shifted, so the second ClientHello was parsed 6 bytes
// off and logged as malformed instead of decided.
TEST_F(PipelineTest, SecondClientHelloAfterMultiSegmentFirstHello) {
  Make();
  Handshake(client_, server_);
  Bytes stream = Hello("www.facebook.com");
  size_t ch1 = stream.size();
  stream.insert(stream.end(), std::begin(kCcs), std::end(kCcs));
  Bytes second = Hello("www.facebook.com");
  stream.insert(stream.end(), second.begin(), second.end());
  Data(client_, server_, stream, 0, 100);                       // frame 4
  Data(client_, server_, stream, 100, ch1 - 100);               // frame 5: CH1 whole
  ASSERT_EQ(sink_.got.size(), 1u);
  Data(client_, server_, stream, ch1, stream.size() - ch1);     // frame 6: CCS + CH2
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[1].frame, 6u);
  EXPECT_EQ(sink_.got[1].reason, Reason::kList);
  EXPECT_EQ(sink_.got[1].domain, "www.facebook.com");
  EXPECT_EQ(Count(Anomaly::k_tls_malformed), 0u);
}

TEST_F(PipelineTest, BlockedFirstClientHelloEndsInspection) {
  Make();
  Handshake(client_, server_);
  Bytes stream = Hello("tiktok.com");
  size_t ch1 = stream.size();
  stream.insert(stream.end(), std::begin(kCcs), std::end(kCcs));
  Bytes second = Hello("olvid.io");
  stream.insert(stream.end(), second.begin(), second.end());
  Data(client_, server_, stream, 0, ch1);
  PacketVerdict v = Data(client_, server_, stream, ch1, stream.size() - ch1);
  EXPECT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(v.action, Action::kBlock);  // the flow stays blocked
}

TEST_F(PipelineTest, ApplicationDataAfterClientHelloEndsInspection) {
  Make();
  Handshake(client_, server_);
  Bytes stream = Hello("www.facebook.com");
  size_t ch1 = stream.size();
  Bytes app = {0x17, 0x03, 0x03, 0x00, 0x02, 0xAA, 0xBB};
  stream.insert(stream.end(), app.begin(), app.end());
  Data(client_, server_, stream, 0, ch1);
  PacketVerdict v = Data(client_, server_, stream, ch1, app.size());
  EXPECT_TRUE(v.flow_final);
  EXPECT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(Count(Anomaly::k_tls_malformed), 0u);
}

// ---- DNS over TCP ------------------------------------------------------------------

TEST_F(PipelineTest, DnsOverTcpTwoMessagesInOneSegment) {
  Make();
  Endpoint dns = Ep("9.9.9.9", 53);
  Handshake(client_, dns);
  Bytes stream = testing::DnsTcpFramed(testing::BuildDnsQuery("tiktok.com", 1, false, 1));
  Bytes m2 = testing::DnsTcpFramed(testing::BuildDnsQuery("www.facebook.com", 28, false, 2));
  stream.insert(stream.end(), m2.begin(), m2.end());
  PacketVerdict v = Data(client_, dns, stream, 0, stream.size());
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[0].domain, "tiktok.com");
  EXPECT_EQ(sink_.got[1].domain, "www.facebook.com");
  EXPECT_EQ(sink_.got[1].frame, 4u);
  EXPECT_EQ(Count(Counter::k_dns_tcp_messages), 2u);
}

TEST_F(PipelineTest, DnsOverTcpMessageSplitAcrossSegments) {
  Make();
  Endpoint dns = Ep("9.9.9.9", 53);
  Handshake(client_, dns);
  Bytes m1 = testing::DnsTcpFramed(testing::BuildDnsQuery("tiktok.com", 1, false, 1));
  Bytes m2 = testing::DnsTcpFramed(testing::BuildDnsQuery("www.tiktok.com", 1, false, 2));
  Bytes m3 = testing::DnsTcpFramed(testing::BuildDnsQuery("m.tiktok.com", 1, false, 3));
  Bytes stream = m1;
  stream.insert(stream.end(), m2.begin(), m2.end());
  stream.insert(stream.end(), m3.begin(), m3.end());
  Data(client_, dns, stream, 0, 1);                           // frame 4: half the length prefix
  EXPECT_TRUE(sink_.got.empty());
  Data(client_, dns, stream, 1, m1.size() + 5);               // frame 5: m1 whole + start of m2
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].frame, 5u);
  Data(client_, dns, stream, m1.size() + 6, stream.size() - m1.size() - 6);  // frame 6: rest of m2, m3
  ASSERT_EQ(sink_.got.size(), 3u);
  EXPECT_EQ(sink_.got[1].domain, "www.tiktok.com");
  EXPECT_EQ(sink_.got[1].frame, 6u);
  EXPECT_EQ(sink_.got[2].domain, "m.tiktok.com");
}

TEST_F(PipelineTest, DnsOverTcpOneBytePerSegment) {
  Make();
  Endpoint dns = Ep("9.9.9.9", 53);
  Handshake(client_, dns);
  Bytes stream = testing::DnsTcpFramed(testing::BuildDnsQuery("tiktok.com", 1, false, 1));
  Bytes m2 = testing::DnsTcpFramed(testing::BuildDnsQuery("x.tiktok.com", 1, false, 2));
  stream.insert(stream.end(), m2.begin(), m2.end());
  for (size_t i = 0; i < stream.size(); ++i) Data(client_, dns, stream, i, 1);
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[1].domain, "x.tiktok.com");
  EXPECT_EQ(sink_.got[1].frame, 3 + stream.size());
}

TEST_F(PipelineTest, DnsOverTcpBadLengthStopsInspection) {
  Make();
  Endpoint dns = Ep("9.9.9.9", 53);
  Handshake(client_, dns);
  Bytes bad = {0x00, 0x03, 1, 2, 3};
  Data(client_, dns, bad, 0, bad.size());
  EXPECT_EQ(Count(Anomaly::k_dns_tcp_bad_length), 1u);
  EXPECT_TRUE(sink_.got.empty());
}

// Regression: DNS over TCP with no SYN in the capture; the client's first
// segment was retransmitted after it had been handled, and the stream was
// rebased onto the retransmission, deciding the same query twice.
TEST_F(PipelineTest, DnsOverTcpRetransmissionWithoutSynIsNotDecidedTwice) {
  Make();
  Endpoint dns = Ep("9.9.9.9", 53);
  Bytes stream = testing::DnsTcpFramed(testing::BuildDnsQuery("tiktok.com", 1, false, 1));
  Data(client_, dns, stream, 0, stream.size());
  Data(client_, dns, stream, 0, stream.size());  // retransmitted
  EXPECT_EQ(sink_.got.size(), 1u);
  // Reassembled in a buffer, then retransmitted: same.
  Endpoint c2 = Ep("10.0.0.6", 51001);
  Data(c2, dns, stream, 0, 7);
  Data(c2, dns, stream, 7, stream.size() - 7);
  EXPECT_EQ(sink_.got.size(), 2u);
  Data(c2, dns, stream, 7, stream.size() - 7);
  Data(c2, dns, stream, 0, 7);
  EXPECT_EQ(sink_.got.size(), 2u);
}

// ---- Whatever the bytes, never a crash -------------------------------------------------

TEST_F(PipelineTest, RandomTcpSegmentsNeverCrash) {
  Make(LogMode::kAll);
  std::mt19937 rng(4242);
  Bytes ch = Hello("www.tiktok.com");
  for (int conn = 0; conn < 200; ++conn) {
    Endpoint c = Ep("10.0.0.7", static_cast<uint16_t>(20000 + conn));
    Endpoint s = conn % 3 == 0 ? Ep("9.9.9.9", 53) : server_;
    Bytes stream = conn % 3 == 0 ? testing::DnsTcpFramed(testing::BuildDnsQuery("a.tiktok.com", 1)) : ch;
    if (conn % 2) stream[rng() % stream.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    if (conn % 5 == 0) Handshake(c, s);
    for (int k = 0; k < 12; ++k) {
      size_t off = rng() % stream.size();
      size_t len = 1 + rng() % std::min<size_t>(stream.size() - off, 400);
      Data(c, s, stream, off, len);
    }
  }
  for (const Captured& c : sink_.got) EXPECT_EQ(c.json.back(), '}');
}

}  // namespace
}  // namespace vigie
