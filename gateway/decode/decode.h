// Stage decode: frames -> innermost IP packet; IP fragment reassembly
// (ip_reassembly.h). May depend on: base, classifiers (ByteReader). Knows
// nothing of flows, policy or output.
//
// Packet decoding: from a captured frame to the innermost IP packet's
// addresses, ports and transport payload.
//
// Layers: link (Ethernet, Linux SLL/SLL2, raw IPv4/IPv6, BSD loopback, PPP,
// PKTAP), 802.1Q/QinQ tags, MPLS, PPPoE sessions; IPv4 (options skipped,
// fragments reported) and IPv6 (extension headers skipped, fragment header
// reported); tunnels decoded to the innermost packet: IP-in-IP (4, 41), GRE
// (incl. PPTP's enhanced GRE and ERSPAN II), VXLAN (UDP 4789), Geneve (UDP
// 6081), GTP-U (UDP 2152); then UDP and TCP.
//
// Contract: Decode never reads past the frame and never allocates; views in
// DecodedPacket point into the frame (or into the buffer given to
// DecodeIpPayload) and live as long as it. A malformed or truncated packet
// yields kMalformed with an Anomaly code; a length field larger than the
// captured bytes is trimmed to what was captured and counted, as tshark does.
//
// Thread safety: stateless functions.
#ifndef VIGIE_GATEWAY_DECODE_DECODE_H_
#define VIGIE_GATEWAY_DECODE_DECODE_H_

#include <cstdint>

#include "absl/types/span.h"
#include "gateway/base/counters.h"
#include "gateway/base/ip_address.h"

namespace vigie {

// Tunnels inside tunnels beyond this depth are not followed (anti-nesting bomb).
inline constexpr int kMaxEncapsulationDepth = 8;
// IPv6 extension headers followed before giving up (RFC 8200 §4.1 lists < 10 kinds).
inline constexpr int kMaxIpv6ExtensionHeaders = 12;
// MPLS labels popped before giving up.
inline constexpr int kMaxMplsLabels = 8;

enum class DecodeStatus : uint8_t {
  kOk,         // transport header decoded (UDP, TCP) or other protocol (l4_proto set)
  kFragment,   // innermost IP datagram is a fragment: see `frag`
  kNotIp,      // frame carries no IP (ARP, LLDP, ...)
  kMalformed,  // see `anomaly`
};

inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;

inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpAck = 0x10;
inline constexpr uint8_t kTcpUrg = 0x20;

struct FragmentInfo {
  uint32_t id = 0;       // IPv4: 16-bit id; IPv6: 32-bit identification
  uint32_t offset = 0;   // byte offset of `data` in the datagram's payload
  bool more = false;     // more fragments follow
  uint8_t proto = 0;     // transport protocol (from the first fragment's header chain)
  absl::Span<const uint8_t> data;  // this fragment's payload bytes
};

struct DecodedPacket {
  IpAddress src, dst;           // innermost IP addresses
  uint8_t l4_proto = 0;         // innermost transport protocol number
  uint16_t src_port = 0, dst_port = 0;
  uint32_t tcp_seq = 0, tcp_ack = 0;
  uint8_t tcp_flags = 0;
  absl::Span<const uint8_t> payload;  // UDP or TCP payload
  absl::Span<const uint8_t> l4;       // the UDP or TCP header and payload (checksummed bytes)
  uint16_t tcp_urgent = 0;            // TCP urgent pointer (with kTcpUrg)
  bool tcp_md5 = false;               // a TCP MD5 signature option (kind 19, RFC 2385)
  uint8_t ip_ttl = 0;                 // innermost IPv4 TTL / IPv6 hop limit
  uint8_t encap_depth = 0;      // tunnels crossed to reach the innermost IP
  FragmentInfo frag;            // when status == kFragment
  Anomaly anomaly = Anomaly::kCount;  // when status == kMalformed
  // Non-fatal oddities met on the way (e.g. trimmed lengths), to be counted.
  Anomaly note = Anomaly::kCount;
};

// Whether the UDP or TCP checksum of `pkt` (innermost packet) is right (RFC
// 768, RFC 9293 §3.1, RFC 8200 §8.1 pseudo-headers). An IPv4 UDP checksum of 0
// means none and is right; IPv6 UDP requires one. Reads pkt.l4 only.
bool TransportChecksumOk(const DecodedPacket& pkt);

// Whether TCP header options (after the fixed 20 bytes) carry an MD5
// signature (kind 19, RFC 2385).
bool HasTcpMd5Option(absl::Span<const uint8_t> options);

// Decodes one frame of capture link type `linktype` (pcap LINKTYPE_/DLT_ values).
DecodeStatus DecodeFrame(int linktype, absl::Span<const uint8_t> frame, DecodedPacket* out);

// Decodes the transport payload of a reassembled IP datagram (`proto` from the
// IP header chain); addresses in `out` are kept. Tunnels are followed.
DecodeStatus DecodeIpPayload(uint8_t proto, absl::Span<const uint8_t> payload, DecodedPacket* out);

}  // namespace vigie

#endif  // VIGIE_GATEWAY_DECODE_DECODE_H_
