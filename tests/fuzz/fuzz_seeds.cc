// Built-in seeds for the fuzz targets (replay_main.cc runs them and their
// mutations in ctest; libFuzzer starts from them via `--seeds DIR`).
#include <cstdint>
#include <string>
#include <vector>

#include "classifiers/testing/builders.h"
#include "classifiers/testing/quic_builder.h"
#include "gateway/testing/pipeline_fixture.h"

using vigie::testing::Bytes;

namespace {

[[maybe_unused]] Bytes Hello(const std::string& sni, bool pq) {
  vigie::testing::ClientHelloSpec s;
  s.sni = sni;
  s.alpn = {"h2", "http/1.1"};
  s.grease = true;
  s.pq_key_share = pq;
  return vigie::testing::BuildClientHello(s);
}

[[maybe_unused]] Bytes QuicInitial(const std::string& sni, bool quic_bit = true) {
  vigie::testing::ClientHelloSpec s;
  s.sni = sni;
  s.alpn = {"h3"};
  vigie::testing::PacketSpec p;
  p.frames = vigie::testing::CryptoFrame(0, vigie::testing::BuildClientHelloHandshake(s));
  p.pad_to = 1200;
  p.quic_bit = quic_bit;
  return vigie::testing::Protect(vigie::testing::kQuicTestVersions[0], p);
}

// [selector][u16 length][frame] records for fuzz_pipeline.
[[maybe_unused]] void Frame(Bytes* out, uint8_t selector, const Bytes& f) {
  out->push_back(selector);
  vigie::testing::PutU16(out, static_cast<uint16_t>(f.size()));
  vigie::testing::PutBytes(out, f);
}

}  // namespace

std::vector<Bytes> FuzzSeeds() {
  using namespace vigie::testing;
#if defined(VIGIE_FUZZ_DNS)
  Bytes tcp = DnsTcpFramed(BuildDnsQuery("www.tiktok.com", 1));
  Bytes tcp_edns = DnsTcpFramed(BuildDnsQuery("example.org", 65, true));
  Bytes two = tcp;
  PutBytes(&two, tcp_edns);
  return {BuildDnsQuery("www.tiktok.com", 1), BuildDnsQuery("example.org", 65, true), tcp, two};
#elif defined(VIGIE_FUZZ_TLS)
  Bytes hs = BuildClientHelloHandshake(ClientHelloSpec{});
  // A warning alert and a CCS before the hello, which comes in 1-byte records.
  Bytes skipped = FromHex("15 03 01 00 02 01 5a 14 03 03 00 01 01 16 03 01 00 00");
  PutBytes(&skipped, SplitIntoRecordsOfSize(hs, 1, 0x03ff));
  // Two host_name entries in one server_name.
  ClientHelloSpec two;
  two.sni = std::nullopt;
  two.extra_extensions = {{0, FromHex("00 17 00 00 07 61 2e 65 78 61 6d 70 00 00 0a 74 69 6b 74 6f 6b 2e 63 6f 6d")}};
  // A hello, a CCS, then a second hello (HelloRetryRequest).
  Bytes hrr = Hello("www.tiktok.com", false);
  PutBytes(&hrr, FromHex("14 03 03 00 01 01"));
  PutBytes(&hrr, SplitIntoRecords(hs, 2));
  return {Hello("www.tiktok.com", false), Hello("web.whatsapp.com", true), SplitIntoRecords(hs, 3), skipped,
          BuildClientHello(two), hrr};
#elif defined(VIGIE_FUZZ_HTTP)
  std::string a = "GET / HTTP/1.1\r\nHost: www.tiktok.com\r\nUser-Agent: x\r\n\r\n";
  std::string b = "GET http://x.com/a HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n";
  std::string c = "\r\nPOST  /u  HTTP/1.1\r\nHost: a.example\r\nHost : b.example\r\nTransfer-Encoding: chunked\r\n"
                  "Content-Length: 4\r\n\r\n4;e=1\r\nabcd\r\n0\r\nT: v\r\n\r\nGET / HTTP/1.1\r\nHost: c\r\n\r\n";
  std::string d = "GET / HTTP/1.1\nHost: x\nContent-Length: 3, 3\n\nabc";
  return {Bytes(a.begin(), a.end()), Bytes(b.begin(), b.end()), Bytes(c.begin(), c.end()), Bytes(d.begin(), d.end())};
#elif defined(VIGIE_FUZZ_QUIC)
  return {QuicInitial("www.tiktok.com"), QuicInitial("www.tiktok.com", false)};
#elif defined(VIGIE_FUZZ_PIPELINE)
  Endpoint c = Ep("10.20.5.20", 40000), s = Ep("203.0.113.10", 443), d = Ep("9.9.9.9", 53);
  Bytes seed;
  Frame(&seed, 0, UdpFrame(c, d, BuildDnsQuery("www.tiktok.com", 1)));
  Bytes ch = Hello("www.tiktok.com", true);
  Frame(&seed, 0, TcpFrame(c, s, 1000, 0, 0x02, {}));
  size_t third = ch.size() / 3;
  Frame(&seed, 0, TcpFrame(c, s, 1001 + static_cast<uint32_t>(2 * third), 1, 0x18,
                           absl::MakeConstSpan(ch).subspan(2 * third)));
  Frame(&seed, 0, TcpFrame(c, s, 1001, 1, 0x18, absl::MakeConstSpan(ch).subspan(0, third)));
  Frame(&seed, 0, TcpFrame(c, s, 1001 + static_cast<uint32_t>(third), 1, 0x18,
                           absl::MakeConstSpan(ch).subspan(third, third)));
  Bytes quic;
  Frame(&quic, 0, UdpFrame(c, Ep("142.250.74.100", 443), QuicInitial("www.instagram.com")));
  return {seed, quic};
#else
  return {};
#endif
}
