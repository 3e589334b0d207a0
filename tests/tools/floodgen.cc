// floodgen: writes the flood captures of tests/flood (issue 14) fast, with
// the frame builders every pipeline test uses (gateway/testing).
//
//   floodgen flows  OUT N SOURCES  N new flows: TCP SYN and UDP, IPv4 and IPv6
//                                  in turn, from SOURCES v4 and SOURCES v6
//                                  addresses; the probe handshakes halfway
//   floodgen frags  OUT N          N incomplete fragment chains (v4 and v6 in
//                                  turn; odd ones hold a fragment near 64 KiB),
//                                  then the probes, the banned one fragmented
//   floodgen hellos OUT N SOURCES  N TCP connections whose ClientHello never
//                                  completes, then the probes
//   floodgen dns    OUT N NAME     N DNS queries for NAME (UDP, IPv4)
//
// Probes, from bystander devices (10.200.0.0/16, fd00:200::/32), all with
// SYN then the whole hello in one segment unless said: www.tiktok.com (v4,
// and v6 as probe-tiktok6 ... names below), tchap.gouv.fr (allow-list). The
// flows flood also sends a tiktok hello from its first flooding source.
// SNIs name the probe: the test finds each decision by its domain.
//
// Addresses are documentation / benchmark ranges: nothing is sent anywhere,
// the output is a pcap file (Ethernet, microsecond timestamps, 1 µs apart).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gateway/testing/pipeline_fixture.h"

namespace vigie::testing {
namespace {

class PcapWriter {
 public:
  explicit PcapWriter(const char* path) : f_(std::fopen(path, "wb")) {
    if (f_ == nullptr) {
      std::perror(path);
      std::exit(2);
    }
    std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
    const uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, kLinkEthernet};
    std::fwrite(hdr, sizeof hdr, 1, f_);
  }
  ~PcapWriter() {
    if (std::fclose(f_) != 0) {
      std::perror("floodgen: write");
      std::exit(2);
    }
  }
  void Write(const Bytes& frame) {
    ++us_;
    const uint32_t rec[4] = {static_cast<uint32_t>(1700000000 + us_ / 1000000), static_cast<uint32_t>(us_ % 1000000),
                             static_cast<uint32_t>(frame.size()), static_cast<uint32_t>(frame.size())};
    std::fwrite(rec, sizeof rec, 1, f_);
    std::fwrite(frame.data(), 1, frame.size(), f_);
    ++frames_;
  }
  uint64_t frames() const { return frames_; }

 private:
  FILE* f_;
  uint64_t us_ = 0;
  uint64_t frames_ = 0;
};

IpAddress V4(uint32_t a) {
  IpAddress ip;
  ip.family = 4;
  ip.bytes[0] = uint8_t(a >> 24), ip.bytes[1] = uint8_t(a >> 16), ip.bytes[2] = uint8_t(a >> 8), ip.bytes[3] = uint8_t(a);
  return ip;
}
// fdXX:YYYY::(k): prefix `hi` (first 4 bytes), index in the last 4.
IpAddress V6(uint32_t hi, uint32_t k) {
  IpAddress ip = *IpAddress::Parse("fd00::");
  ip.bytes[0] = uint8_t(hi >> 24), ip.bytes[1] = uint8_t(hi >> 16), ip.bytes[2] = uint8_t(hi >> 8), ip.bytes[3] = uint8_t(hi);
  ip.bytes[12] = uint8_t(k >> 24), ip.bytes[13] = uint8_t(k >> 16), ip.bytes[14] = uint8_t(k >> 8), ip.bytes[15] = uint8_t(k);
  return ip;
}

constexpr uint32_t kFloodV4 = 0x0A400000;    // 10.64.0.0: flooding sources
constexpr uint32_t kFloodV6 = 0xFD000001;    // fd00:1::/32
constexpr uint32_t kBystandV4 = 0x0AC80000;  // 10.200.0.0: probe devices
constexpr uint32_t kBystandV6 = 0xFD000200;  // fd00:200::/32
constexpr uint32_t kServerV4 = 0xC6120000;   // 198.18.0.0/15 (benchmarking)
constexpr uint32_t kServerV6 = 0xFD00FFFF;   // fd00:ffff::/32 (unmanaged-looking, not a source)

Bytes Hello(const std::string& sni, size_t padding = 0) {
  ClientHelloSpec s;
  s.sni = sni;
  s.padding = padding;
  return BuildClientHello(s);
}

// SYN from `c` to `s`, then (after `gap` flood frames, written by the caller)
// the hello in one segment.
void Syn(PcapWriter& w, const Endpoint& c, const Endpoint& s) { w.Write(TcpFrame(c, s, 1000, 0, 0x02, {})); }
void Data(PcapWriter& w, const Endpoint& c, const Endpoint& s, uint32_t seq, absl::Span<const uint8_t> d) {
  w.Write(TcpFrame(c, s, seq, 1, 0x18, d));
}

// The probe handshakes (SYN + whole hello), numbered so each name is new.
void Probes(PcapWriter& w) {
  const Endpoint web4{V4(kServerV4 + 0xFF00), 443}, web6{V6(kServerV6, 0xFF00), 443};
  struct P {
    Endpoint c, s;
    const char* sni;
  } probes[] = {
      {{V4(kBystandV4 + 1), 40001}, web4, "probe1.tiktok.com"},
      {{V4(kBystandV4 + 2), 40002}, web4, "probe2.tchap.gouv.fr"},
      {{V6(kBystandV6, 1), 40003}, web6, "probe3.tiktok.com"},
      {{V6(kBystandV6, 2), 40004}, web6, "probe4.tchap.gouv.fr"},
  };
  for (const P& p : probes) {
    Syn(w, p.c, p.s);
    Data(w, p.c, p.s, 1001, Hello(p.sni));
  }
}

// A TCP SYN or a UDP datagram opening flow `i` (kind i % 4).
Bytes FloodFrame(uint64_t i, uint32_t sources) {
  const uint64_t j = i / 4;
  const uint32_t src = static_cast<uint32_t>(j % sources);
  const uint64_t rest = j / sources;
  const uint16_t sport = static_cast<uint16_t>(20000 + rest % 40000);
  const uint32_t dst = static_cast<uint32_t>(rest / 40000);
  const bool v6 = (i >> 1) & 1, udp = i & 1;
  Endpoint c{v6 ? V6(kFloodV6, src) : V4(kFloodV4 + src), sport};
  Endpoint s{v6 ? V6(kServerV6, dst) : V4(kServerV4 + dst), static_cast<uint16_t>(udp ? 9999 : 443)};
  static const Bytes kPayload(16, 0xAB);  // no protocol: the flow is ignored
  return udp ? UdpFrame(c, s, kPayload) : TcpFrame(c, s, 7, 0, 0x02, {});
}

void Flows(const char* out, uint64_t n, uint32_t sources) {
  PcapWriter w(out);
  const Endpoint self{V4(kFloodV4), 19999}, web{V4(kServerV4 + 0xFF00), 443};
  for (uint64_t i = 0; i < n; ++i) {
    w.Write(FloodFrame(i, sources));
    if (i == n / 2) {
      Probes(w);
      // The flooding source's own banned hello: its share is full, so the
      // connection is refused a flow and decided uninspected (or read, if
      // it still had room): blocked either way.
      Syn(w, self, web);
      Data(w, self, web, 1001, Hello("probe5.tiktok.com"));
    }
  }
  std::fprintf(stderr, "floodgen: %llu frames\n", static_cast<unsigned long long>(w.frames()));
}

// An IPv4 or IPv6 fragment of a UDP datagram: `data` at byte `offset`.
Bytes Fragment(const Endpoint& c, const Endpoint& s, uint32_t id, uint32_t offset, bool more, const Bytes& data,
               uint8_t proto = 17) {
  if (c.ip.family == 4) {
    uint16_t field = static_cast<uint16_t>((more ? 0x2000 : 0) | (offset / 8));
    return IpFrame(c, s, proto, data, static_cast<uint16_t>(id), field);
  }
  Bytes f;
  PutU8(&f, proto);                                                  // next header
  PutU8(&f, 0);                                                      // reserved
  PutU16(&f, static_cast<uint16_t>((offset / 8) << 3 | (more ? 1 : 0)));  // offset, M
  PutU32(&f, id);                                                    // identification
  PutBytes(&f, data);
  return IpFrame(c, s, 44, f);
}

void Frags(const char* out, uint64_t n) {
  PcapWriter w(out);
  const Bytes chunk(1024, 0x5A);
  for (uint64_t i = 0; i < n; ++i) {
    const bool v6 = i & 1;
    const uint32_t k = static_cast<uint32_t>(i / 2);
    // v4 ids are 16 bits: the source changes every 65536 chains.
    Endpoint c{v6 ? V6(kFloodV6, k % 4096) : V4(kFloodV4 + k / 65536), 5000};
    Endpoint s{v6 ? V6(kServerV6, 1) : V4(kServerV4 + 1), 9999};
    // Even chains: the first fragment only; odd: one fragment near the
    // datagram cap, so the chain holds ~64 KiB (the worst case per chain).
    const uint32_t offset = (i / 2) % 2 == 0 ? 0 : 64 * 1024 - 2048;
    w.Write(Fragment(c, s, k, offset, true, chunk));
  }
  Probes(w);
  // A banned hello cut into two IPv4 fragments (the TCP header in the first).
  const Endpoint c{V4(kBystandV4 + 9), 40009}, s{V4(kServerV4 + 0xFF00), 443};
  Syn(w, c, s);
  Bytes seg = TcpFrame(c, s, 1001, 1, 0x18, Hello("probe9.tiktok.com"));
  Bytes l4(seg.begin() + 14 + 20, seg.end());  // the TCP segment
  const size_t cut = 64;
  w.Write(Fragment(c, s, 777, 0, true, Bytes(l4.begin(), l4.begin() + cut), 6));
  w.Write(Fragment(c, s, 777, cut, false, Bytes(l4.begin() + cut, l4.end()), 6));
  std::fprintf(stderr, "floodgen: %llu frames\n", static_cast<unsigned long long>(w.frames()));
}

void Hellos(const char* out, uint64_t n, uint32_t sources) {
  PcapWriter w(out);
  // A hello of ~1.5 KB of which only the first 600 bytes are ever sent.
  const Bytes hello = Hello("never-completes.example", 1200);
  const absl::Span<const uint8_t> part = absl::MakeConstSpan(hello).first(600);
  for (uint64_t i = 0; i < n; ++i) {
    const uint32_t src = static_cast<uint32_t>(i % sources);
    const uint64_t rest = i / sources;
    Endpoint c{V4(kFloodV4 + src), static_cast<uint16_t>(20000 + rest % 40000)};
    Endpoint s{V4(kServerV4 + static_cast<uint32_t>(rest / 40000)), 443};
    Syn(w, c, s);
    Data(w, c, s, 1001, part);
  }
  Probes(w);
  std::fprintf(stderr, "floodgen: %llu frames\n", static_cast<unsigned long long>(w.frames()));
}

void Dns(const char* out, uint64_t n, const char* name) {
  PcapWriter w(out);
  const Endpoint s{V4(0xC0000235), 53};  // 192.0.2.53
  for (uint64_t i = 0; i < n; ++i) {
    // 1000 flows, reused: every query on a DNS port is decided.
    Endpoint c{V4(kFloodV4), static_cast<uint16_t>(20000 + i % 1000)};
    w.Write(UdpFrame(c, s, BuildDnsQuery(name, 1, false, static_cast<uint16_t>(i))));
  }
  std::fprintf(stderr, "floodgen: %llu frames\n", static_cast<unsigned long long>(w.frames()));
}

int Usage() {
  std::fprintf(stderr,
               "usage: floodgen flows OUT N SOURCES | frags OUT N | hellos OUT N SOURCES | dns OUT N NAME\n");
  return 2;
}

uint64_t Number(const char* s) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (end == s || *end != '\0' || v == 0) {
    std::fprintf(stderr, "floodgen: not a positive number: %s\n", s);
    std::exit(2);
  }
  return v;
}

}  // namespace
}  // namespace vigie::testing

int main(int argc, char** argv) {
  using namespace vigie::testing;
  if (argc < 4) return Usage();
  const std::string cmd = argv[1];
  const char* out = argv[2];
  const uint64_t n = Number(argv[3]);
  if (cmd == "flows" && argc == 5) Flows(out, n, static_cast<uint32_t>(Number(argv[4])));
  else if (cmd == "frags" && argc == 4) Frags(out, n);
  else if (cmd == "hellos" && argc == 5) Hellos(out, n, static_cast<uint32_t>(Number(argv[4])));
  else if (cmd == "dns" && argc == 5) Dns(out, n, argv[4]);
  else return Usage();
  return 0;
}
