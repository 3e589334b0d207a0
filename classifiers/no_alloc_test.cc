// The parsers must not allocate (DESIGN.md contracts, STYLE.md 7). This binary
// replaces the global operator new to count allocations made while a flag is set,
// so it is kept apart from the other tests (and from ASan's own operator new).

#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include <string_view>

#include "classifiers/dns.h"
#include "classifiers/http.h"
#include "classifiers/quic.h"
#include "classifiers/testing/builders.h"
#include "classifiers/testing/count_new.h"
#include "classifiers/tls.h"
#include "gtest/gtest.h"

namespace vigie {
namespace {

TEST(NoAllocTest, ParsersDoNotAllocate) {
  testing::ClientHelloSpec s;
  s.alpn = {"h2", "http/1.1"};
  s.grease = true;
  s.ech = true;
  s.pq_key_share = true;
  const std::vector<uint8_t> hs = testing::BuildClientHelloHandshake(s);
  const std::vector<uint8_t> one = testing::SplitIntoRecords(hs, 1);
  const std::vector<uint8_t> many = testing::SplitIntoRecords(hs, 9);
  std::vector<uint8_t> scratch(kMaxClientHelloBytes);
  const std::vector<uint8_t> dns = testing::BuildDnsQuery("www.example.com", 1, true);
  const std::vector<uint8_t> framed = testing::DnsTcpFramed(dns);
  auto info = std::make_unique<DnsMessageInfo>();
  ClientHelloInfo ch;
  // A warning alert, then the hello in 1-byte records.
  std::vector<uint8_t> tiny = testing::FromHex("15 03 01 00 02 01 5a");
  const std::vector<uint8_t> ones = testing::SplitIntoRecordsOfSize(hs, 1);
  tiny.insert(tiny.end(), ones.begin(), ones.end());
  const std::string_view http_text =
      "\r\nGET  / HTTP/1.1\r\nHost: a.example\r\nHost : b.example\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n";
  const std::vector<uint8_t> http(http_text.begin(), http_text.end());
  HttpRequestInfo req;
  std::vector<uint8_t> quic = testing::FromHex("c0 00000001 08 0102030405060708 00 00 449e");
  quic.resize(1200, 0);
  QuicLongHeader qh;

  g_allocations = 0;
  g_counting = true;
  const bool ok = ParseClientHelloStream(one, absl::MakeSpan(scratch), &ch).status == ParseStatus::kOk &&
                  ParseClientHelloStream(many, absl::MakeSpan(scratch), &ch).status == ParseStatus::kOk &&
                  ParseClientHelloHandshake(hs, &ch).status == ParseStatus::kOk &&
                  ParseDnsMessage(dns, info.get()).status == ParseStatus::kOk && LooksLikeDnsQuery(dns) &&
                  ReadDnsTcpFrame(framed).status == ParseStatus::kOk && LooksLikeDnsTcpQuery(framed);
  // The assembler fed one byte more at a time, as a caller with a small buffer would.
  TlsHelloAssembler st{};
  TlsAssembleResult a{ParseStatus::kNeedMore, TlsMalformed::kNone, 0, 0};
  size_t pos = 0;
  for (size_t upto = 1; upto <= tiny.size() && a.status == ParseStatus::kNeedMore; ++upto) {
    a = AssembleClientHello(&st, absl::MakeConstSpan(tiny).subspan(pos, upto - pos), absl::MakeSpan(scratch), &ch);
    pos += a.consumed;
  }
  const bool tls_ok = a.status == ParseStatus::kOk && ch.sni == "example.com";
  const bool http_ok = ParseHttpRequest(http, &req).status == ParseStatus::kOk && req.host_ambiguous &&
                       req.framing == HttpBodyFraming::kChunked && LooksLikeHttpRequest(http);
  HttpChunkedState cs{};
  const bool chunked_ok = SkipChunkedBody(&cs, absl::MakeConstSpan(http).subspan(req.header_bytes)).status ==
                          ParseStatus::kOk;
  const bool quic_ok = ParseQuicLongHeader(quic, &qh).status == ParseStatus::kOk && LooksLikeQuicInitial(quic) &&
                       QuicLongHeaderDcid(quic).size() == 8;
  g_counting = false;
  EXPECT_TRUE(tls_ok);
  EXPECT_TRUE(http_ok);
  EXPECT_TRUE(chunked_ok);
  EXPECT_TRUE(quic_ok);
  EXPECT_TRUE(ok);
  EXPECT_EQ(g_allocations.load(), 0u);

  // Control: the counter does see allocations.
  g_counting = true;
  auto control = std::make_unique<std::vector<uint8_t>>(64);
  g_counting = false;
  EXPECT_GE(g_allocations.load(), 1u);
}

}  // namespace
}  // namespace vigie
