// The packet path allocates nothing per packet once warm (DESIGN.md
// "Contracts", gateway/inspect/pipeline.h): this binary replaces malloc,
// calloc, realloc and the global operator new (all of which it counts while a
// flag is set), so it is kept apart from the other tests and not built under
// sanitizers (which bring their own allocator).
//
// It runs the path of `vigie replay`: Pipeline::Process (decode, scope, flow,
// inspect, decide) with every decision written by a JsonLineSink (log mode
// all) to a file, over a generated mix: DNS over UDP (IPv4, IPv6), DNS over
// TCP, TLS ClientHellos in one segment and in three out-of-order segments,
// QUIC Initials, HTTP requests, and IPv4 / IPv6 fragmented DNS queries. Each
// round uses new flows (new source ports). After two warm-up rounds every
// packet's allocations are counted by kind of packet.
//
// The path that allocates, and why (also in DESIGN.md "Contracts"):
//   IP fragment reassembly (gateway/decode/ip_reassembly.h): a train of
//   fragments is a std::list node with its data and range vectors and an
//   index entry, allocated at the first fragment and freed at completion or
//   expiry. Fragments are rare in the traffic inspected (a few per million
//   packets) and bounded (kMaxFragmentTrains), so the count is asserted to be
//   small and bounded per fragment, not zero.
//   The flow table's slots (gateway/flow/flow.h) grow geometrically up to
//   [flows] max_flows, so memory follows the real flow count: a packet that
//   opens a flow beyond the high-water mark may grow it (O(log max_flows)
//   times in a process's life). Warm here means the table has reached the
//   flow count of the traffic: each round's flows expire before the next.
// Every other kind of packet must allocate exactly nothing.
#include <dlfcn.h>
#include <execinfo.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "classifiers/testing/builders.h"
#include "classifiers/testing/quic_builder.h"
#include "gateway/inspect/pipeline.h"
#include "gateway/output/decision_json.h"
#include "gateway/testing/pipeline_fixture.h"
#include "gtest/gtest.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

// ---- counting allocator -------------------------------------------------
// malloc & co. are interposed (this binary's definitions win over libc's in
// the dynamic link) and forward to glibc's __libc_* entry points, so
// allocations made inside libraries (abseil, libstdc++, libcrypto) count too.
extern "C" void* __libc_malloc(size_t);
extern "C" void* __libc_calloc(size_t, size_t);
extern "C" void* __libc_realloc(void*, size_t);
extern "C" void __libc_free(void*);

namespace {
bool g_counting = false;
size_t g_allocations = 0;
bool g_trace = false;  // VIGIE_ALLOC_TRACE=1: print a backtrace of each counted allocation

void Counted() {
  if (!g_counting) return;
  ++g_allocations;
  if (g_trace) {
    g_counting = false;  // backtrace_symbols_fd may allocate
    void* frames[24];
    const int n = backtrace(frames, 24);
    static const char kHead[] = "---- allocation on the packet path:\n";
    (void)!write(2, kHead, sizeof(kHead) - 1);
    backtrace_symbols_fd(frames, n, 2);
    g_counting = true;
  }
}
}  // namespace

extern "C" void* malloc(size_t n) {
  Counted();
  return __libc_malloc(n);
}
extern "C" void* calloc(size_t n, size_t m) {
  Counted();
  return __libc_calloc(n, m);
}
extern "C" void* realloc(void* p, size_t n) {
  Counted();
  return __libc_realloc(p, n);
}
extern "C" void free(void* p) { __libc_free(p); }

void* operator new(size_t n) {
  if (void* p = malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }

namespace vigie {
namespace {

using testing::Bytes;
using testing::Endpoint;
using testing::Ep;

// Each kind of packet in the mix, reported separately.
enum class Kind { kDnsUdp4, kDnsUdp6, kDnsTcp, kTlsOne, kTlsThree, kQuic, kHttp, kTcpControl, kFragment };
const char* KindName(Kind k) {
  switch (k) {
    case Kind::kDnsUdp4: return "dns/udp ipv4";
    case Kind::kDnsUdp6: return "dns/udp ipv6";
    case Kind::kDnsTcp: return "dns/tcp";
    case Kind::kTlsOne: return "tls one segment";
    case Kind::kTlsThree: return "tls three segments, out of order";
    case Kind::kQuic: return "quic initial";
    case Kind::kHttp: return "http request";
    case Kind::kTcpControl: return "tcp syn/fin";
    case Kind::kFragment: return "ip fragment";
  }
  return "?";
}

struct Packet {
  Kind kind;
  Bytes frame;
};

Bytes Hello(const std::string& sni) {
  testing::ClientHelloSpec s;
  s.sni = sni;
  s.alpn = {"h2", "http/1.1"};
  s.grease = true;
  return testing::BuildClientHello(s);
}

Bytes QuicInitial(const std::string& sni, uint8_t dcid_tag) {
  testing::ClientHelloSpec s;
  s.sni = sni;
  s.alpn = {"h3"};
  testing::PacketSpec p;
  p.dcid[0] = dcid_tag;
  p.frames = testing::CryptoFrame(0, testing::BuildClientHelloHandshake(s));
  return testing::Protect(testing::kQuicTestVersions[0], p);
}

// IPv4 or IPv6 fragments (two each) of a UDP datagram carrying `dns`.
void AddFragments(const Endpoint& c, const Endpoint& d, const Bytes& dns, uint16_t id, std::vector<Packet>* out) {
  using namespace testing;
  Bytes udp;
  PutU16(&udp, c.port);
  PutU16(&udp, d.port);
  PutU16(&udp, static_cast<uint16_t>(8 + dns.size()));
  PutU16(&udp, 0);
  PutBytes(&udp, dns);
  const size_t cut = 16;  // a multiple of 8
  const Bytes first(udp.begin(), udp.begin() + cut), rest(udp.begin() + cut, udp.end());
  if (c.ip.family == 4) {
    out->push_back({Kind::kFragment, IpFrame(c, d, 17, first, id, 0x2000)});             // MF, offset 0
    out->push_back({Kind::kFragment, IpFrame(c, d, 17, rest, id, cut / 8)});              // offset 2
    return;
  }
  const auto frag6 = [&](const Bytes& part, uint16_t off_field) {
    Bytes h;
    PutU8(&h, 17);           // next header UDP
    PutU8(&h, 0);            // reserved
    PutU16(&h, off_field);   // offset << 3 | M
    PutU32(&h, id);          // identification
    PutBytes(&h, part);
    return IpFrame(c, d, 44, h);  // IPv6 Fragment header
  };
  out->push_back({Kind::kFragment, frag6(first, 1)});
  out->push_back({Kind::kFragment, frag6(rest, static_cast<uint16_t>(cut))});
}

// One round of the mix, on new ports (`round` makes every flow new).
std::vector<Packet> Round(int round) {
  using namespace testing;
  std::vector<Packet> out;
  const uint16_t base = static_cast<uint16_t>(20000 + round * 20);
  const std::string src4 = "10.1." + std::to_string(round / 200) + "." + std::to_string(round % 200 + 1);
  const Endpoint c = Ep(src4.c_str(), base), dns4 = Ep("9.9.9.9", 53);
  const Endpoint c6 = Ep("fd00::5", base), dns6 = Ep("2620:fe::fe", 53);
  const char* names[] = {"www.tiktok.com", "www.facebook.com", "olvid.io", "www.wikipedia.org"};
  const std::string name = names[round % 4];

  out.push_back({Kind::kDnsUdp4, UdpFrame(c, dns4, BuildDnsQuery(name, 1, true, static_cast<uint16_t>(round)))});
  out.push_back({Kind::kDnsUdp6, UdpFrame(c6, dns6, BuildDnsQuery(name, 28, false, static_cast<uint16_t>(round)))});

  const auto tcp_conn = [&](uint16_t port_off, const Endpoint& server, const Bytes& data, int pieces, Kind kind) {
    const Endpoint cl = Ep(src4.c_str(), static_cast<uint16_t>(base + port_off));
    const uint32_t isn = 1000u + static_cast<uint32_t>(round) * 7919u;
    out.push_back({Kind::kTcpControl, TcpFrame(cl, server, isn, 0, 0x02, {})});  // SYN
    const size_t n = data.size(), a = n / 3, b = 2 * n / 3;
    if (pieces == 1) {
      out.push_back({kind, TcpFrame(cl, server, isn + 1, 1, 0x18, data)});
    } else {  // last third, first third, middle third
      out.push_back({kind, TcpFrame(cl, server, isn + 1 + static_cast<uint32_t>(b), 1, 0x18,
                                    absl::MakeConstSpan(data).subspan(b))});
      out.push_back({kind, TcpFrame(cl, server, isn + 1, 1, 0x18, absl::MakeConstSpan(data).subspan(0, a))});
      out.push_back({kind, TcpFrame(cl, server, isn + 1 + static_cast<uint32_t>(a), 1, 0x18,
                                    absl::MakeConstSpan(data).subspan(a, b - a))});
    }
    out.push_back({Kind::kTcpControl, TcpFrame(cl, server, isn + 1 + static_cast<uint32_t>(n), 1, 0x11, {})});
  };
  tcp_conn(1, Ep("203.0.113.10", 443), Hello(name), 1, Kind::kTlsOne);
  tcp_conn(2, Ep("203.0.113.11", 443), Hello(name), 3, Kind::kTlsThree);
  tcp_conn(3, dns4, DnsTcpFramed(BuildDnsQuery(name, 1)), 1, Kind::kDnsTcp);
  const std::string req = "GET / HTTP/1.1\r\nHost: " + name + "\r\nUser-Agent: t\r\n\r\n";
  tcp_conn(4, Ep("203.0.113.80", 80), Bytes(req.begin(), req.end()), 1, Kind::kHttp);
  out.push_back({Kind::kQuic, UdpFrame(Ep(src4.c_str(), static_cast<uint16_t>(base + 5)), Ep("142.250.74.100", 443),
                                       QuicInitial(name, static_cast<uint8_t>(round)))});
  AddFragments(Ep(src4.c_str(), static_cast<uint16_t>(base + 6)), dns4, BuildDnsQuery(name, 1, true),
               static_cast<uint16_t>(round + 1), &out);
  AddFragments(Ep("fd00::5", static_cast<uint16_t>(base + 6)), dns6, BuildDnsQuery(name, 28, true),
               static_cast<uint16_t>(round + 1), &out);
  return out;
}

// Allocations a fragment may make: the train's list node, its data and
// ranges vectors (and their growth to the datagram's size), and an index slot
// (the map's storage, grown rarely). Measured: see the test's output.
constexpr size_t kMaxAllocationsPerFragment = 6;

TEST(PipelineAllocTest, WarmPipelineAllocatesNothingPerPacketButFragments) {
  const char* trace = std::getenv("VIGIE_ALLOC_TRACE");
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("pipeline_alloc_" + std::to_string(::getpid()));
  // Checksums not checked: the builders write none (TCP's 0 is wrong).
  auto policy = testing::WritePolicy(dir, std::string(testing::kPipelineTestConfig) + "[inspect]\nchecksums = \"never\"\n");
  ASSERT_TRUE(policy.ok()) << policy.status();
  auto sink = JsonLineSink::Open((dir / "decisions.json").string());
  ASSERT_TRUE(sink.ok()) << sink.status();
  PipelineOptions opts;
  opts.log_mode = LogMode::kAll;
  Pipeline pipe(*policy, sink->get(), opts);

  constexpr int kWarmup = 2, kRounds = 40;
  std::vector<std::vector<Packet>> rounds;
  for (int r = 0; r < kWarmup + kRounds; ++r) rounds.push_back(Round(r));

  std::map<Kind, std::pair<size_t, size_t>> by_kind;  // kind -> (packets, allocations)
  uint64_t frame = 0;
  for (int r = 0; r < kWarmup + kRounds; ++r) {
    for (const Packet& p : rounds[r]) {
      ++frame;
      // Rounds 10 minutes apart: each round's flows have expired (idle
      // timeouts 60 s / 300 s) when the next starts, so the flow table stays
      // at the high-water mark the warm-up reached and reuses its slots.
      const uint64_t ts = 1'700'000'000'000'000 + static_cast<uint64_t>(r) * 600'000'000 + frame * 100;
      if (r < kWarmup) {
        pipe.Process(testing::kLinkEthernet, p.frame, ts, frame);
        continue;
      }
      g_trace = trace != nullptr && p.kind != Kind::kFragment;
      g_allocations = 0;
      g_counting = true;
      pipe.Process(testing::kLinkEthernet, p.frame, ts, frame);
      g_counting = false;
      g_trace = false;
      by_kind[p.kind].first += 1;
      by_kind[p.kind].second += g_allocations;
    }
  }
  (*sink)->Finish();
  const uint64_t written = (*sink)->written();
  sink->reset();
  if (std::getenv("VIGIE_ALLOC_KEEP") == nullptr) std::filesystem::remove_all(dir);

  // The mix really went through the whole path: every round's names decided.
  EXPECT_GE(written, static_cast<uint64_t>(kRounds) * 7) << "decisions written";
  for (const auto& [kind, pa] : by_kind) {
    std::printf("%-34s %5zu packets %5zu allocations\n", KindName(kind), pa.first, pa.second);
    if (kind == Kind::kFragment) {
      EXPECT_LE(pa.second, pa.first * kMaxAllocationsPerFragment) << KindName(kind);
    } else {
      EXPECT_EQ(pa.second, 0u) << KindName(kind) << ": rerun with VIGIE_ALLOC_TRACE=1 for backtraces";
    }
  }
  EXPECT_EQ(by_kind.size(), 9u) << "every kind of packet was in the mix";
}

}  // namespace
}  // namespace vigie
