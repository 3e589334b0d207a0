// A determined client against the packet path (issue: "a blocked app stays
// blocked"): each test is named after its trick, plays it through the real
// Pipeline and checks that Vigie reads what the server reads, and that the
// strictest reading wins when it cannot know which.
#include "gateway/inspect/pipeline_test_fixture.h"

namespace vigie {
namespace {

using testing::ClientHelloSpec;

// A TCP checksum that a receiver accepts, written into a frame built by
// TcpFrame (Ethernet + IPv4 + TCP).
Bytes WithTcpChecksum(Bytes frame, bool right = true) {
  const size_t ip = 14, tcp = ip + 20;
  uint64_t sum = 0;
  auto add = [&](size_t from, size_t n) {
    for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t{frame[from + i]} << 8) | frame[from + i + 1];
    if (n % 2) sum += uint32_t{frame[from + n - 1]} << 8;
  };
  frame[tcp + 16] = frame[tcp + 17] = 0;
  add(ip + 12, 8);  // source and destination addresses
  sum += 6 + (frame.size() - tcp);
  add(tcp, frame.size() - tcp);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  uint16_t c = static_cast<uint16_t>(~sum);
  if (!right) c ^= 0x5555;
  frame[tcp + 16] = static_cast<uint8_t>(c >> 8);
  frame[tcp + 17] = static_cast<uint8_t>(c);
  return frame;
}

Bytes TwoHostNames(const std::string& a, const std::string& b) {
  Bytes list;
  for (const std::string* h : {&a, &b}) {
    PutU8(&list, 0);  // host_name
    PutU16(&list, static_cast<uint16_t>(h->size()));
    PutBytes(&list, Bytes(h->begin(), h->end()));
  }
  Bytes ext;
  PutU16(&ext, static_cast<uint16_t>(list.size()));
  PutBytes(&ext, list);
  return ext;
}

class EvasionTest : public PipelineTest {
 protected:
  void SetUp() override { Make(); }
  // The last decision recorded.
  const Captured& Last() const { return sink_.got.back(); }
};

TEST_F(EvasionTest, TcpFastOpenHelloInTheSynIsRead) {
  Bytes hello = Hello("www.tiktok.com");
  PacketVerdict v = Feed(TcpFrame(client_, server_, kIsn, 0, kTcpSyn, hello));
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(Last().app, "tiktok");
  EXPECT_EQ(Count(Counter::k_tcp_syn_data), 1u);
}

TEST_F(EvasionTest, SynInsideTheConnectionDoesNotMoveTheStreamStart) {
  Bytes hello = Hello("www.tiktok.com");
  Handshake(client_, server_);
  Data(client_, server_, hello, 0, 40);
  // A SYN with another ISN mid-stream: the server answers with a challenge
  // ACK and keeps the stream; so does Vigie.
  Feed(TcpFrame(client_, server_, 0x12345678, 0, kTcpSyn, Hello("olvid.io")));
  PacketVerdict v = Data(client_, server_, hello, 40, hello.size() - 40);
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(Last().domain, "www.tiktok.com");
  EXPECT_EQ(Count(Counter::k_tcp_syn_ignored), 1u);
}

TEST_F(EvasionTest, ReusedFourTupleOfAClosedAllowedConnectionIsInspectedAgain) {
  Bytes ok = Hello("olvid.io");
  Handshake(client_, server_);
  EXPECT_EQ(Data(client_, server_, ok, 0, ok.size()).action, Action::kAllow);
  Feed(TcpFrame(client_, server_, kIsn + 1 + static_cast<uint32_t>(ok.size()), kServerIsn + 1, kTcpFin | kTcpAck, {}));
  // Same ports, a new ISN: a new connection, not the allowed one.
  const uint32_t isn2 = 0x20000000;
  Feed(TcpFrame(client_, server_, isn2, 0, kTcpSyn, {}));
  PacketVerdict v = Feed(TcpFrame(client_, server_, isn2 + 1, 1, kTcpAck | 0x08, Hello("www.tiktok.com")));
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_NE(sink_.got[0].flow_id, sink_.got[1].flow_id);
  EXPECT_EQ(Count(Counter::k_tcp_port_reuse), 1u);
}

TEST_F(EvasionTest, OneByteFarOutsideTheWindowDoesNotSpoilTheHello) {
  Bytes hello = Hello("www.tiktok.com");
  Handshake(client_, server_);
  Bytes stray = {0x42};
  Feed(TcpFrame(client_, server_, kIsn + 1 + kReassemblyCap + 5000, kServerIsn + 1, kTcpAck, stray));
  Data(client_, server_, hello, 0, 30);
  PacketVerdict v = Data(client_, server_, hello, 30, hello.size() - 30);
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(Last().reason, Reason::kList);
  EXPECT_EQ(Count(Counter::k_tcp_beyond_cap), 1u);
}

TEST_F(EvasionTest, AnyRecordVersion0x03xxIsRead) {
  ClientHelloSpec s;
  s.sni = "www.tiktok.com";
  Handshake(client_, server_);
  Bytes hello = testing::BuildClientHello(s, 0x0399);
  EXPECT_EQ(Data(client_, server_, hello, 0, hello.size()).action, Action::kBlock);
}

TEST_F(EvasionTest, AlertRecordBeforeTheHelloIsSkipped) {
  Bytes stream = {0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00};  // warning alert, close_notify? no: level 1, desc 0
  stream[6] = 90;                                              // user_canceled (a warning servers skip)
  Bytes hello = Hello("www.tiktok.com");
  stream.insert(stream.end(), hello.begin(), hello.end());
  Handshake(client_, server_);
  EXPECT_EQ(Data(client_, server_, stream, 0, stream.size()).action, Action::kBlock);
  EXPECT_EQ(Last().app, "tiktok");
}

TEST_F(EvasionTest, HelloInOneByteRecordsPastTheOldCapIsRead) {
  ClientHelloSpec s;
  s.sni = "www.tiktok.com";
  s.padding = 3000;
  Bytes hs = testing::BuildClientHelloHandshake(s);
  Bytes stream = testing::SplitIntoRecordsOfSize(hs, 1);  // ~6 stream bytes per handshake byte
  ASSERT_GT(stream.size(), 16384u);
  Handshake(client_, server_);
  PacketVerdict v;
  for (size_t off = 0; off < stream.size(); off += 1400) {
    v = Data(client_, server_, stream, off, std::min<size_t>(1400, stream.size() - off));
  }
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_GT(Last().tls_records, 3000u);
}

TEST_F(EvasionTest, TwoSniHostNamesDecideTheStrictest) {
  for (auto [first, second] : {std::pair<std::string, std::string>{"olvid.io", "www.tiktok.com"},
                               {"www.tiktok.com", "olvid.io"}}) {
    ClientHelloSpec s;
    s.sni = std::nullopt;
    s.extra_extensions.push_back({0, TwoHostNames(first, second)});
    Bytes hello = testing::BuildClientHello(s);
    Endpoint c = Ep("10.0.0.6", static_cast<uint16_t>(52000 + sink_.got.size()));
    Handshake(c, server_);
    EXPECT_EQ(Data(c, server_, hello, 0, hello.size()).action, Action::kBlock) << first;
    EXPECT_EQ(Last().domain, "www.tiktok.com");
    EXPECT_EQ(Last().reason, Reason::kConflict);
  }
  EXPECT_EQ(Count(Counter::k_conflicts), 2u);
}

TEST_F(EvasionTest, TwoApprovedSniHostNamesStayAllowed) {
  ClientHelloSpec s;
  s.sni = std::nullopt;
  s.extra_extensions.push_back({0, TwoHostNames("olvid.io", "www.olvid.io")});
  Bytes hello = testing::BuildClientHello(s);
  Handshake(client_, server_);
  EXPECT_EQ(Data(client_, server_, hello, 0, hello.size()).action, Action::kAllow);
}

TEST_F(EvasionTest, HttpKeepAliveSecondRequestToABannedHostIsBlocked) {
  std::string first = "GET / HTTP/1.1\r\nHost: olvid.io\r\nContent-Length: 5\r\n\r\nhello";
  std::string second = "GET /feed HTTP/1.1\r\nHost: www.tiktok.com\r\n\r\n";
  Endpoint web = Ep("93.184.216.34", 80);
  Handshake(client_, web);
  Bytes a(first.begin(), first.end()), b(second.begin(), second.end());
  EXPECT_EQ(Data(client_, web, a, 0, a.size()).action, Action::kAllow);
  Bytes both = a;
  both.insert(both.end(), b.begin(), b.end());
  PacketVerdict v = Data(client_, web, both, a.size(), b.size());
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(Last().domain, "www.tiktok.com");
}

TEST_F(EvasionTest, HttpPipelinedRequestsInOneSegmentAreAllDecided) {
  std::string s =
      "\r\nGET  /  HTTP/1.1\r\nHost: olvid.io\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
      "GET / HTTP/1.1\r\nHost: www.tiktok.com\r\n\r\n";
  Endpoint web = Ep("93.184.216.34", 8080);
  Handshake(client_, web);
  Bytes b(s.begin(), s.end());
  EXPECT_EQ(Data(client_, web, b, 0, b.size()).action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[0].domain, "olvid.io");
  EXPECT_EQ(sink_.got[1].domain, "www.tiktok.com");
}

TEST_F(EvasionTest, DnsOverTcpOnAnotherPortIsRead) {
  Bytes q = testing::DnsTcpFramed(testing::BuildDnsQuery("www.tiktok.com", 1));
  Endpoint odd = Ep("9.9.9.9", 5300);
  Handshake(client_, odd);
  EXPECT_EQ(Data(client_, odd, q, 0, q.size()).action, Action::kBlock);
  EXPECT_EQ(Last().proto, Proto::kDns);
}

TEST_F(EvasionTest, DecoyWithABadChecksumIsNotRead) {
  // The client's segments carry right checksums; a decoy ClientHello for an
  // approved name with a wrong one (the server drops it) comes first.
  Feed(WithTcpChecksum(TcpFrame(client_, server_, kIsn, 0, kTcpSyn, {})));
  Feed(TcpFrame(server_, client_, kServerIsn, kIsn + 1, kTcpSyn | kTcpAck, {}));
  Bytes decoy = Hello("olvid.io"), real = Hello("www.tiktok.com");
  Feed(WithTcpChecksum(TcpFrame(client_, server_, kIsn + 1, kServerIsn + 1, kTcpAck | 0x08, decoy), false));
  PacketVerdict v = Feed(WithTcpChecksum(TcpFrame(client_, server_, kIsn + 1, kServerIsn + 1, kTcpAck | 0x08, real)));
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(Last().domain, "www.tiktok.com");
  EXPECT_EQ(Count(Counter::k_checksum_bad), 1u);
}

TEST_F(EvasionTest, AllBadChecksumsAreOffloadAndStillRead) {
  // Capture on the sending host: every checksum is wrong (offload); read anyway.
  Bytes hello = Hello("www.tiktok.com");
  Feed(WithTcpChecksum(TcpFrame(client_, server_, kIsn, 0, kTcpSyn, {}), false));
  PacketVerdict v =
      Feed(WithTcpChecksum(TcpFrame(client_, server_, kIsn + 1, kServerIsn + 1, kTcpAck | 0x08, hello), false));
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_EQ(Count(Counter::k_checksum_offload), 1u);
}

// Fair shares: a small table so that one source exhausts its own share only.
class QuotaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vigie_quota_" + std::to_string(::getpid()));
    std::string cfg = std::string(testing::kPipelineTestConfig) +
                      "[flows]\nreassembly_buffers = 8\nreassembly_per_source = 2\nmax_per_source = 4\n";
    auto p = testing::WritePolicy(dir_, cfg);
    ASSERT_TRUE(p.ok()) << p.status();
    pipe_ = std::make_unique<Pipeline>(*p, &sink_, PipelineOptions());
  }
  void TearDown() override { fs::remove_all(dir_); }
  PacketVerdict Feed(const Bytes& f) {
    ts_ += 1000;
    return pipe_->Process(kEthernet, absl::MakeConstSpan(f), ts_, ++frame_);
  }
  fs::path dir_;
  CaptureSink sink_;
  std::unique_ptr<Pipeline> pipe_;
  uint64_t ts_ = 1748736000ull * 1'000'000, frame_ = 0;
};

TEST_F(QuotaTest, HalfSentHellosOfOneDeviceDoNotStarveAnother) {
  Endpoint s = Ep("93.184.216.34", 443);
  Bytes hello = Hello("www.tiktok.com");
  // Device A opens half-sent hellos on many connections: it gets its share of
  // buffers, then its own further streams are uninspected (blocked).
  Endpoint a = Ep("10.0.0.66", 40000);
  for (int i = 0; i < 3; ++i) {
    a.port = static_cast<uint16_t>(40000 + i);
    Feed(TcpFrame(a, s, 1000, 0, kTcpSyn, {}));
    Feed(TcpFrame(a, s, 1001 + 20, 1, kTcpAck, absl::MakeConstSpan(hello.data() + 20, 10)));  // a gap: buffered
  }
  EXPECT_EQ(pipe_->counters().Get(Counter::k_tcp_reasm_quota_hit), 1u);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].reason, Reason::kUninspected);
  EXPECT_EQ(sink_.got[0].action, Action::kBlock);
  // Device B still gets a buffer for its hello in two out-of-order segments.
  Endpoint b = Ep("10.0.0.77", 41000);
  Feed(TcpFrame(b, s, 5000, 0, kTcpSyn, {}));
  Feed(TcpFrame(b, s, 5001 + 30, 1, kTcpAck, absl::MakeConstSpan(hello.data() + 30, hello.size() - 30)));
  PacketVerdict v = Feed(TcpFrame(b, s, 5001, 1, kTcpAck, absl::MakeConstSpan(hello.data(), 30)));
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_EQ(sink_.got.back().reason, Reason::kList);
  // And device A's new flows past its share of flows are refused, counted.
  for (int i = 3; i < 6; ++i) {
    a.port = static_cast<uint16_t>(40000 + i);
    Feed(TcpFrame(a, s, 1000, 0, kTcpSyn, {}));
  }
  EXPECT_GE(pipe_->counters().Get(Counter::k_flow_quota_hit), 1u);
}

TEST(HttpHostLiteralTest, AnAddressAsHostIsDecidedByTheIpRules) {
  // Netflix's Open Connect caches answer requests whose Host is an address in
  // Netflix's published ranges: such a Host is matched against ip: entries.
  fs::path dir = fs::temp_directory_path() / ("vigie_hostlit_" + std::to_string(::getpid()));
  auto lists = testing::PipelineTestLists();
  lists["tiktok"] += "ip:45.57.0.0/17\n";
  auto p = testing::WritePolicy(dir, testing::kPipelineTestConfig, lists);
  ASSERT_TRUE(p.ok()) << p.status();
  CaptureSink sink;
  Pipeline pipe(*p, &sink, PipelineOptions());
  Endpoint c = Ep("10.0.0.5", 51000), web = Ep("198.51.100.7", 80);
  std::string req = "GET /range/0-100 HTTP/1.1\r\nHost: 45.57.10.20\r\n\r\n";
  uint64_t ts = 1748736000ull * 1'000'000;
  pipe.Process(kEthernet, TcpFrame(c, web, 100, 0, kTcpSyn, {}), ts, 1);
  PacketVerdict v = pipe.Process(kEthernet, TcpFrame(c, web, 101, 1, kTcpAck, Bytes(req.begin(), req.end())), ts, 2);
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].reason, Reason::kIp);
  EXPECT_EQ(sink.got[0].domain, "45.57.10.20");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vigie
