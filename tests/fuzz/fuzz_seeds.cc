// Built-in seeds for the fuzz targets: replay_main.cc runs them and their
// mutations in ctest, and writes them to tests/fuzz/regressions/<t>/
// (`--write-seeds DIR`), where libFuzzer campaigns start from. Compiled once
// for every target: kFuzzTarget (a one-line source CMake writes per target)
// picks the target's seeds.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
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

// Names built to break log consumers: quotes, backslashes, control bytes,
// NUL, DEL, invalid UTF-8 (stray continuation, overlong, surrogate, truncated),
// valid UTF-8, 63/64-byte labels and a 255-byte name.
[[maybe_unused]] std::vector<std::string> HostileNames() {
  using namespace std::string_literals;
  return {"a\"b\\c.tiktok.com", "nul\0byte.tiktok.com"s, "ctl\x01\x1f\x7f\n\t.example.com",
          "bad\xff\xfe.example.com", "cont\x80.tiktok.com", "over\xc0\xaf.example.com",
          "surr\xed\xa0\x80.example.com", "trunc\xe2\x82.example.com", "caf\xc3\xa9.example.com",
          std::string(63, 'a') + ".tiktok.com", std::string(64, 'b') + ".example.com",
          std::string(63, 'c') + "." + std::string(63, 'd') + "." + std::string(63, 'e') + "." +
              std::string(59, 'f') + ".com"};
}

// A file of the source tree (seeds for the list and config readers).
[[maybe_unused]] Bytes SourceFile(const std::string& rel) {
  std::ifstream in(std::string(VIGIE_SOURCE_DIR) + "/" + rel, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

[[maybe_unused]] Bytes Text(const std::string& s) { return Bytes(s.begin(), s.end()); }

// An EVE input (fuzz_eve.cc): 12 scalar bytes, then length-prefixed strings.
[[maybe_unused]] Bytes EveInput(const Bytes& scalars, const std::vector<std::string>& strings) {
  Bytes b = scalars;
  b.resize(12, 0);
  for (const std::string& s : strings) {
    b.push_back(static_cast<uint8_t>(std::min<size_t>(s.size(), 255)));
    b.insert(b.end(), s.begin(), s.begin() + static_cast<long>(std::min<size_t>(s.size(), 255)));
  }
  return b;
}

// [selector][u16 length][frame] records for fuzz_pipeline.
[[maybe_unused]] void Frame(Bytes* out, uint8_t selector, const Bytes& f) {
  out->push_back(selector);
  vigie::testing::PutU16(out, static_cast<uint16_t>(f.size()));
  vigie::testing::PutBytes(out, f);
}

}  // namespace

// The target's name, as in tests/fuzz/regressions/<name>.
extern const char kFuzzTarget[];

std::vector<Bytes> FuzzSeeds() {
  using namespace vigie::testing;
  const std::string_view t = kFuzzTarget;
  if (t == "dns") {
    Bytes tcp = DnsTcpFramed(BuildDnsQuery("www.tiktok.com", 1));
    Bytes tcp_edns = DnsTcpFramed(BuildDnsQuery("example.org", 65, true));
    Bytes two = tcp;
    PutBytes(&two, tcp_edns);
    return {BuildDnsQuery("www.tiktok.com", 1), BuildDnsQuery("example.org", 65, true), tcp, two};
  } else if (t == "tls") {
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
  } else if (t == "http") {
    std::string a = "GET / HTTP/1.1\r\nHost: www.tiktok.com\r\nUser-Agent: x\r\n\r\n";
    std::string b = "GET http://x.com/a HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n";
    std::string c = "\r\nPOST  /u  HTTP/1.1\r\nHost: a.example\r\nHost : b.example\r\nTransfer-Encoding: chunked\r\n"
                    "Content-Length: 4\r\n\r\n4;e=1\r\nabcd\r\n0\r\nT: v\r\n\r\nGET / HTTP/1.1\r\nHost: c\r\n\r\n";
    std::string d = "GET / HTTP/1.1\nHost: x\nContent-Length: 3, 3\n\nabc";
    return {Bytes(a.begin(), a.end()), Bytes(b.begin(), b.end()), Bytes(c.begin(), c.end()), Bytes(d.begin(), d.end())};
  } else if (t == "quic") {
    return {QuicInitial("www.tiktok.com"), QuicInitial("www.tiktok.com", false)};
  } else if (t == "pipeline") {
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
    // Every hostile name as a DNS question, an SNI (TLS and QUIC) and an HTTP Host.
    Bytes hostile;
    uint16_t port = 41000;
    for (const std::string& n : HostileNames()) {
      const Endpoint cl = Ep("10.20.5.21", port++);
      Frame(&hostile, 0, UdpFrame(cl, d, BuildDnsQuery(n, 1)));
      Frame(&hostile, 0, TcpFrame(cl, s, 5000, 0, 0x02, {}));
      Frame(&hostile, 0, TcpFrame(cl, s, 5001, 1, 0x18, Hello(n, false)));
      Frame(&hostile, 0, UdpFrame(cl, Ep("142.250.74.100", 443), QuicInitial(n)));
      const Endpoint web = Ep("203.0.113.80", 80);
      const std::string req = "GET / HTTP/1.1\r\nHost: " + n + "\r\n\r\n";
      Frame(&hostile, 0, TcpFrame(cl, web, 7000, 0, 0x02, {}));
      Frame(&hostile, 0, TcpFrame(cl, web, 7001, 1, 0x18, Text(req)));
    }
    return {seed, quic, hostile};
  } else if (t == "dns_tcp_split") {
    Bytes one = {7};
    PutBytes(&one, DnsTcpFramed(BuildDnsQuery("www.tiktok.com", 1)));
    Bytes two = {42};
    PutBytes(&two, DnsTcpFramed(BuildDnsQuery("example.org", 65, true)));
    PutBytes(&two, DnsTcpFramed(BuildDnsQuery("web.whatsapp.com", 28)));
    Bytes hostile = {200};
    for (const std::string& n : HostileNames()) PutBytes(&hostile, DnsTcpFramed(BuildDnsQuery(n, 1)));
    return {one, two, hostile};
  } else if (t == "quic_split") {
    std::vector<Bytes> out;
    uint8_t k = 3;
    for (const std::string& sni : {std::string("www.tiktok.com"), HostileNames()[0], HostileNames()[3]}) {
      ClientHelloSpec spec;
      spec.sni = sni;
      spec.alpn = {"h3"};
      spec.pq_key_share = k == 3;  // ~1.2 KB: a hello over two Initials
      Bytes b = {k};
      k = static_cast<uint8_t>(k * 37 + 11);
      PutBytes(&b, BuildClientHelloHandshake(spec));
      out.push_back(b);
    }
    return out;
  } else if (t == "eve") {
    std::vector<Bytes> out;
    for (const std::string& n : HostileNames()) {
      out.push_back(EveInput({0x01, 0x02, 0x03, 0x04, 0x05, 0x03, 0x04, 0x11, 0xc3, 0x35, 0x00, 0x04},
                             {"10.0.0.1", "9.9.9.9", "1:abc=", "", "Potential Corporate Privacy Violation", "tiktok",
                              "block", "tiktok.list", n, "list", "block", "", "", "", n, n, n, n}));
    }
    out.push_back(EveInput({0, 0, 0, 0, 0x02, 0x05, 0x06, 0x06, 0, 0x50, 0x01, 0x03},
                           {"fd00::1", "2001:db8::1", "", "sig \"x\"", "c\x7f", "", "", "", "", "", "", "EX-1",
                            "T\x00K", "why\\", "", "", "sni\xe9", "host\x01"}));
    return out;
  } else if (t == "config") {
    return {SourceFile("deploy/vigie.toml"), Text(kPipelineTestConfig),
            Text("[scope]\nmanaged = [\"10.0.0.0/8\"\n"),
            Text("[scope]\nmanaged = [\"10.0.0.0/33\"]\n[lists]\ndir = \"lists\"\n"),
            Text("[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"l\"\n[inspect]\nuninspected = \"drop\"\n"),
            Text("[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"l\"\n[[exception]]\nid = \"X-1\"\n"
                 "apps = [\"tiktok\"]\nuntil = \"2026-02-30\"\n"),
            Text("[gateway]\nqueues = []\nunknown = 1\n")};
  } else if (t == "import_v2fly") {
    return {SourceFile("lists/testdata/import/v2fly_tiktok"), SourceFile("lists/testdata/import/v2fly_netflix"),
            SourceFile("lists/testdata/import/v2fly_x"),
            Text("domain:a.com @ads\nfull:b.a.com\nkeyword:x\nregexp:^y$\ninclude:z\n# c\nsub.a.com\n")};
  } else if (t == "import_adguard_services") {
    return {SourceFile("lists/testdata/import/adguard_tiktok.yml"), SourceFile("lists/testdata/import/adguard_netflix.yml")};
  } else if (t == "import_adblock") {
    return {SourceFile("lists/testdata/formats/adblock.txt"),
            Text("||a.com^\n|b.com^\n||p16-*.cdn.net^\n@@||c.com^\n##.ad\n||d.com^$important\n||e.com/p^\n")};
  } else if (t == "import_hosts") {
    return {SourceFile("lists/testdata/formats/hosts.txt"),
            Text("0.0.0.0 a.com b.a.com\n127.0.0.1 localhost\n:: ip6-localhost\n# c\n1.2.3.4 x.org # t\n")};
  } else if (t == "import_plain") {
    return {SourceFile("lists/testdata/formats/plain.list"), SourceFile("lists/apps/tiktok.list"),
            Text("a.com\nfull:b.a.com\np16-*.cdn.net\nip:10.0.0.0/8\n\xef\xbb\xbf\n")};
  } else if (t == "list") {
    return {SourceFile("lists/testdata/formats/plain.list"), SourceFile("lists/testdata/formats/hosts.txt"),
            SourceFile("lists/testdata/formats/adblock.txt"), SourceFile("lists/testdata/formats/dnsmasq.conf"),
            SourceFile("lists/apps/tiktok.list"), SourceFile("lists/apps/telegram.list")};
  }
  // A target added to CMakeLists.txt without seeds here: a build mistake.
  std::fprintf(stderr, "fuzz_seeds: no seeds for target '%s'\n", kFuzzTarget);
  std::abort();
}
