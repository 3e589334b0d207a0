#include "gateway/inspect/pipeline_test_fixture.h"

namespace vigie {
namespace {

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
  EXPECT_EQ(Count(Counter::k_log_events), 1u);
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

// A length shorter than a DNS header: what follows cannot be read as DNS, so
// the connection is decided uninspected (blocked by the default policy), and
// its later bytes, a well-formed query among them, stay under that decision.
TEST_F(PipelineTest, DnsOverTcpBadLengthIsUninspectedNotLetThrough) {
  Make();
  Endpoint dns = Ep("9.9.9.9", 53);
  Handshake(client_, dns);
  Bytes bad = {0x00, 0x03, 1, 2, 3};
  PacketVerdict v = Data(client_, dns, bad, 0, bad.size());
  EXPECT_EQ(Count(Anomaly::k_dns_tcp_bad_length), 1u);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].reason, Reason::kUninspected);
  EXPECT_EQ(sink_.got[0].malformed, "dns_tcp_length");
  EXPECT_EQ(sink_.got[0].action, Action::kBlock);
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_TRUE(v.flow_final);
  Bytes stream = bad;
  Bytes later = testing::DnsTcpFramed(testing::BuildDnsQuery("olvid.io", 1, false, 1));
  stream.insert(stream.end(), later.begin(), later.end());
  PacketVerdict v2 = Data(client_, dns, stream, bad.size(), later.size());
  EXPECT_EQ(v2.action, Action::kBlock);
  EXPECT_EQ(sink_.got.size(), 1u);
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

}  // namespace
}  // namespace vigie
