// Vigie benchmarks: a generator of realistic traffic captures, and the
// "corpus mix" built from real captures (../shared/corpus).
//
// GenerateTraffic writes `packets` Ethernet frames in `flows` flows, in time
// order: DNS queries and answers (UDP 53), TLS handshakes (TCP 443: SYN,
// ClientHello, one in two segments when it carries a post-quantum key share,
// server flight) and QUIC handshakes (UDP 443: client Initial(s) protected as
// RFC 9001 says, server flight) followed by bulk data, plain HTTP requests
// (TCP 80), and other TCP (SSH, IMAPS, XMPP...) and UDP (NTP, STUN, WireGuard,
// RTP) flows. Clients are random addresses inside the managed subnets
// (IPv4 and IPv6), servers public addresses; a share of the flows name banned
// apps (names from the config's block lists). Packet shares aim at the mix of
// issue 13 (about 7% DNS, 31% TCP/443, 15% UDP/443; 398 B mean frame); the
// figures reached are returned in TrafficStats. Checksums (IPv4 header, TCP,
// UDP) are correct. Deterministic for a seed.
//
// Frames are built with the test builders (classifiers/testing,
// gateway/testing): allocation per frame, never on the packet path.
// Thread safety: functions only.
#ifndef VIGIE_BENCH_TRAFFIC_GEN_H_
#define VIGIE_BENCH_TRAFFIC_GEN_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gateway/policy/config.h"
#include "gateway/sources/memory_capture.h"

namespace vigie::bench {

enum class FlowKind : uint8_t { kDns, kTls, kQuic, kHttp, kOtherTcp, kOtherUdp };
inline constexpr size_t kFlowKinds = 6;
const char* FlowKindName(FlowKind k);

struct TrafficOptions {
  uint64_t packets = 1'000'000;
  uint64_t flows = 20'000;  // more flows than packets: one packet per flow
  uint64_t seed = 1;
  double banned_share = 0.05;  // flows whose names are banned apps' (needs banned_names)
  double ipv6_share = 0.25;    // clients with an IPv6 address
  uint64_t clients = 0;        // distinct client addresses; 0: flows / 8
  std::string client_v4 = "10.0.0.0/8";
  std::string client_v6 = "fd00::/8";
  std::vector<std::string> banned_names;
  uint64_t packets_per_second = 100'000;  // sets the capture's duration
};

struct TrafficStats {
  uint64_t packets = 0, bytes = 0, flows = 0;
  uint64_t banned_flows = 0, ipv6_packets = 0;
  std::array<uint64_t, kFlowKinds> flows_by_kind{}, packets_by_kind{};
  // By the packet's ports: either port 53; TCP port 443; UDP port 443.
  uint64_t dns_packets = 0, tcp443_packets = 0, udp443_packets = 0;
  // The stats as one JSON object.
  std::string ToJson() const;
};

using FrameFn = std::function<void(uint64_t ts_us, absl::Span<const uint8_t> frame)>;

// Calls `emit` for every frame, in time order (LINKTYPE_ETHERNET). Fails on a
// bad option (a subnet that does not parse, banned_share without names).
absl::StatusOr<TrafficStats> GenerateTraffic(const TrafficOptions& opts, const FrameFn& emit);
// The same into memory.
absl::StatusOr<MemoryCapture> GenerateCapture(const TrafficOptions& opts, TrafficStats* stats = nullptr);

// The names of every app the config blocks ([[policy]] action block), from
// its list files: the traffic's banned names. Label patterns are skipped.
absl::StatusOr<std::vector<std::string>> BannedNames(const Config& config);

// The corpus mix: the Ethernet captures of `dir` (pcap/pcapng; other link
// types are skipped and named in *note) repeated until `packets` frames,
// each copy with its own addresses: every IPv4 address of the outer header
// moved into 10.0.0.0/8 and every IPv6 one into fd00::/8, chosen so that the
// one's-complement sum is unchanged (IP and transport checksums stay right).
// NotFound when `dir` holds no usable capture.
absl::StatusOr<MemoryCapture> BuildCorpusMix(const std::string& dir, uint64_t packets, uint64_t seed,
                                             std::string* note);

// Where the corpus is: $VIGIE_CORPUS_DIR, else ../shared/corpus/pcaps beside
// the source tree `source_dir`.
std::string DefaultCorpusDir(const std::string& source_dir);

}  // namespace vigie::bench

#endif  // VIGIE_BENCH_TRAFFIC_GEN_H_
