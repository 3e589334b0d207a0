#include "gateway/inspect/pipeline_test_fixture.h"

namespace vigie {
namespace {

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
    PacketVerdict dv = Data(client_, server_, ch, i, 1);
    if (dv.flow_final) { fprintf(stderr, "DBG final at %zu action %d\n", i, int(dv.action)); break; }
    if (i % 2000 == 0 || (i > 37700 && i < 37800)) fprintf(stderr, "DBG %zu buffered=%lu parsed=%lu\n", i, Count(Counter::k_tcp_segments_buffered), Count(Counter::k_tls_bytes_parsed));
    if (i + 1 < ch.size()) {
      ASSERT_TRUE(sink_.got.empty()) << i;
    }
  }
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].frame, 3 + ch.size());
  EXPECT_EQ(sink_.got[0].tcp_segments, ch.size());
  EXPECT_EQ(sink_.got[0].action, Action::kBlock);
}

// An Ethernet + IPv4 + TCP frame (pipeline_fixture.h's TcpFrame) with its
// TCP checksum filled in: over 60 000 segments whose checksum is left 0, one
// is right by chance, and the source then no longer looks like a capture with
// checksum offload ([inspect] checksums = auto drops the rest as decoys).
Bytes WithTcpChecksum(Bytes f) {
  constexpr size_t kIp = 14, kTcp = 14 + 20;
  uint32_t sum = 0;
  auto add = [&sum](const uint8_t* b, size_t n) {
    for (size_t i = 0; i < n; i += 2) sum += (uint32_t{b[i]} << 8) | (i + 1 < n ? b[i + 1] : 0);
  };
  add(&f[kIp + 12], 8);  // source and destination addresses
  sum += 6 + static_cast<uint32_t>(f.size() - kTcp);
  add(&f[kTcp], f.size() - kTcp);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  f[kTcp + 16] = static_cast<uint8_t>(~sum >> 8);
  f[kTcp + 17] = static_cast<uint8_t>(~sum);
  return f;
}

// The parser's work is linear in the stream however it is cut: records are
// consumed as they complete and a partial record costs its header and the
// handshake header bytes only. A 60 KB hello in four records, sent one byte
// per segment, is read a small constant number of times per byte; parsing
// the unconsumed stream from its start on every segment (as a stateless
// parser would) reads each byte thousands of times.
TEST_F(PipelineTest, ClientHelloInOneByteSegmentsIsParsedInLinearWork) {
  Make();
  Handshake(client_, server_);
  testing::ClientHelloSpec s;
  s.sni = "tiktok.com";
  s.padding = 60000;
  Bytes ch = testing::SplitIntoRecordsOfSize(testing::BuildClientHelloHandshake(s), kTlsMaxRecordPayload);
  ASSERT_GT(ch.size(), 60000u);
  for (size_t i = 0; i < ch.size(); ++i) {
    Feed(WithTcpChecksum(TcpFrame(client_, server_, kIsn + 1 + static_cast<uint32_t>(i), kServerIsn + 1,
                                  kTcpAck | 0x08, absl::MakeConstSpan(ch.data() + i, 1))));
    if (i + 1 < ch.size()) {
      ASSERT_TRUE(sink_.got.empty()) << i;
    }
  }
  EXPECT_EQ(Count(Counter::k_checksum_bad), 0u);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].action, Action::kBlock);
  EXPECT_EQ(sink_.got[0].tls_records, 4);
  EXPECT_EQ(sink_.got[0].tcp_segments, ch.size());
  // Per segment: a record header (5) and at most 4 handshake header bytes;
  // each record's payload and the body once more when whole.
  const uint64_t parsed = Count(Counter::k_tls_bytes_parsed);
  EXPECT_GE(parsed, 2 * (ch.size() - 4 * kTlsRecordHeaderBytes));
  EXPECT_LE(parsed, 12 * ch.size());
  // What re-parsing from byte 0 on every segment would read (the test's
  // yardstick: the counter tells the two apart by orders of magnitude).
  std::vector<uint8_t> scratch(kMaxClientHelloBytes);
  uint64_t from_zero = 0;
  for (size_t n = 1; n <= ch.size(); n += 97) {
    TlsHelloAssembler st{};
    ClientHelloInfo info;
    TlsAssembleResult r = AssembleClientHello(&st, absl::MakeConstSpan(ch.data(), n), absl::MakeSpan(scratch), &info);
    from_zero += 97 * r.scanned;
  }
  EXPECT_GT(from_zero, 100 * parsed);
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


}  // namespace
}  // namespace vigie
