// Stage enforce: answers and marks for blocked packets. May depend on:
// inspect (PacketVerdict), policy, decode, base; ldns (answers only).
// Knows nothing of output formats or sources.
//
// Enforcement: what Vigie sends back when it blocks a packet (DESIGN.md
// "enforce"), and the connmark protocol shared with deploy/rules/.
//
//  - A blocked DNS query gets an answer spoofed from the server to the client:
//    NXDOMAIN (default) or a sinkhole A/AAAA, carrying an Extended DNS Error
//    (RFC 8914 §4.16, INFO-CODE 15 "Blocked") whose EXTRA-TEXT names the app,
//    when the query carried EDNS (RFC 6891 §7: no OPT in the answer otherwise).
//    Over TCP the answer is one segment in the client's window, then the
//    server side is reset.
//  - A blocked TLS or HTTP connection gets a TCP RST spoofed from the server
//    (seq = the ack of the dropped client segment, i.e. exactly the client's
//    RCV.NXT, RFC 9293 §3.10.7.4 / RFC 5961 §3.2) and one to the server
//    (seq = the client's seq) so neither end waits.
//  - A blocked QUIC flow is only dropped.
//
// The query is parsed by Vigie's own classifiers (classifiers/dns.h); ldns only
// builds the answer (STYLE.md: ldns stays off the untrusted parse path).
//
// Thread safety: an Enforcer and its injector belong to one worker.
#ifndef VIGIE_GATEWAY_ENFORCE_ENFORCE_H_
#define VIGIE_GATEWAY_ENFORCE_ENFORCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gateway/base/ip_address.h"
#include "gateway/inspect/pipeline.h"
#include "gateway/policy/policy.h"

namespace vigie {

// Connection marks (the low two bits of the packet / conntrack mark), shared
// with deploy/rules/: the kernel drops the rest of a blocked connection and
// stops queueing an allowed one.
inline constexpr uint32_t kMarkMask = 0x3;
inline constexpr uint32_t kMarkAllow = 0x1;
inline constexpr uint32_t kMarkBlock = 0x2;

// RFC 8914 §4.16.
inline constexpr uint16_t kEdnsOptionEde = 15;
inline constexpr uint16_t kEdeBlocked = 15;
// EDNS UDP payload size advertised in answers (the DNS flag day 2020 value).
inline constexpr uint16_t kAnswerEdnsUdpSize = 1232;
// TTL of a sinkhole answer and of the NXDOMAIN's absence of SOA: short, so an
// exception or a policy change takes effect quickly on clients.
inline constexpr uint32_t kSinkholeTtl = 60;
// Hop limit of forged packets.
inline constexpr uint8_t kForgedTtl = 64;

struct DnsBlockOptions {
  bool sinkhole = false;     // false: NXDOMAIN
  // NOERROR with no answer (NODATA, RFC 2308 §2.2): [dns] svcb = "nodata"
  // answers an HTTPS/SVCB query so, never NXDOMAIN (the name exists).
  bool nodata = false;
  IpAddress sinkhole_v4, sinkhole_v6;
};
DnsBlockOptions DnsBlockOptionsFrom(const Config& c);

// The EXTRA-TEXT of the EDE option: "vigie: blocked app tiktok" (or
// "vigie: blocked" when no app is known).
std::string BlockedText(std::string_view app);

// Builds the DNS answer message for a blocked query (`query` is one whole DNS
// message, as read from UDP or TCP framing). Empty when the query cannot be
// answered (not a query, no question, a name with bytes ldns cannot carry).
std::vector<uint8_t> BuildBlockedDnsAnswer(absl::Span<const uint8_t> query, std::string_view app,
                                           const DnsBlockOptions& opts);

// IP packets (IPv4 without options, or IPv6 without extension headers) with
// correct transport checksums.
std::vector<uint8_t> BuildUdpPacket(const IpAddress& src, const IpAddress& dst, uint16_t sport, uint16_t dport,
                                    absl::Span<const uint8_t> payload);
std::vector<uint8_t> BuildTcpPacket(const IpAddress& src, const IpAddress& dst, uint16_t sport, uint16_t dport,
                                    uint32_t seq, uint32_t ack, uint8_t flags, absl::Span<const uint8_t> payload);

// Sends forged IP packets. `linktype` and `frame` are the packet the answer is
// for, as it was captured (monitor mode copies its link-layer addresses).
class PacketInjector {
 public:
  virtual ~PacketInjector() = default;
  virtual bool Send(absl::Span<const uint8_t> ip_packet, int linktype, absl::Span<const uint8_t> frame) = 0;
};

// Inline mode: raw sockets (IPv4 IPPROTO_RAW implies IP_HDRINCL; IPv6
// IPPROTO_RAW sends the header as given), routed by the gateway's tables.
class RawSocketInjector : public PacketInjector {
 public:
  static absl::StatusOr<std::unique_ptr<RawSocketInjector>> Open();
  ~RawSocketInjector() override;
  bool Send(absl::Span<const uint8_t> ip_packet, int linktype, absl::Span<const uint8_t> frame) override;

 private:
  RawSocketInjector(int fd4, int fd6) : fd4_(fd4), fd6_(fd6) {}
  int fd4_, fd6_;
};

struct EnforceStats {
  uint64_t dns_answers = 0;   // forged DNS answers sent
  uint64_t tcp_resets = 0;    // RSTs sent (both directions count)
  uint64_t not_answered = 0;  // blocked packets that got no answer (QUIC, tunnels, odd names, send failures)
};

// Turns a blocked packet into the answers above.
class Enforcer {
 public:
  explicit Enforcer(PacketInjector* injector) : injector_(injector) {}
  // `frame` / `linktype`: the packet exactly as given to Pipeline::Process;
  // `v`: its verdict (action kBlock).
  void OnBlocked(int linktype, absl::Span<const uint8_t> frame, const PacketVerdict& v, const Policy& policy);
  // The same with the decode Pipeline::Process made of `frame` (not decoded again).
  void OnBlocked(const FrameDecode& decoded, int linktype, absl::Span<const uint8_t> frame, const PacketVerdict& v,
                 const Policy& policy);
  const EnforceStats& stats() const { return stats_; }

 private:
  PacketInjector* injector_;
  EnforceStats stats_;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_ENFORCE_ENFORCE_H_
