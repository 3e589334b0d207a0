// Stage base: what every stage shares (counters, addresses, the clock).
// May depend on: lists (addresses), abseil. Header-only, no state.
//
// Every counter Vigie keeps, generated from one list (STYLE.md 9).
//
// Counters are per worker (plain uint64_t, no atomics on the packet path) and
// summed for the summary and the metrics endpoint. The decision log is
// separate: counters say how much, the log says what.
#ifndef VIGIE_GATEWAY_BASE_COUNTERS_H_
#define VIGIE_GATEWAY_BASE_COUNTERS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vigie {

// X(name, help)
#define VIGIE_COUNTERS(X)                                                              \
  X(packets, "packets read")                                                            \
  X(bytes, "bytes read")                                                                \
  X(packets_ipv4, "packets whose innermost IP is IPv4")                                 \
  X(packets_ipv6, "packets whose innermost IP is IPv6")                                 \
  X(packets_tunnelled, "packets carried in a tunnel (IP-in-IP, GRE, VXLAN, Geneve, GTP)") \
  X(packets_not_ip, "frames carrying no IP (ARP, LLDP, ...), passed")                   \
  X(packets_other_l4, "IP packets that are neither UDP nor TCP, passed")                \
  X(packets_unmanaged, "packets whose source is outside the managed subnets (replies included), passed")              \
  X(ip_fragments, "IP fragments seen")                                                  \
  X(ip_reassembled, "IP datagrams reassembled from fragments")                          \
  X(ip_frag_timeouts, "fragment trains dropped unfinished (timeout or eviction)")       \
  X(ip_frag_overflow, "fragments refused: datagram over the size cap or table full")    \
  X(ip_fragment_conflicts, "IP datagrams whose overlapping fragments carry different bytes (read first- and last-wins)") \
  X(ip_frag_alt_lost, "conflicting IP datagrams whose other reading could not be held: uninspected") \
  X(flows_created, "flows created")                                                     \
  X(flows_expired, "flows expired after idle timeout")                                  \
  X(flows_evicted, "flows evicted because the flow table was full")                     \
  X(flows_evicted_inspecting, "TCP flows evicted or expired mid-message: uninspected")  \
  X(tcp_segments_buffered, "TCP segments copied into a reassembly buffer")              \
  X(tcp_out_of_order, "TCP segments that arrived ahead of a gap")                       \
  X(tcp_retransmissions, "TCP segments wholly inside data already held")                \
  X(tcp_overlap_conflicts, "TCP overlaps whose bytes differ from data held (Linux rule kept, other read too)") \
  X(tcp_reasm_cap_hit, "TCP streams that reached the reassembly cap undecided")         \
  X(tcp_reasm_pool_empty, "TCP streams not reassembled: buffer pool exhausted")         \
  X(tcp_reasm_quota_hit, "TCP streams not reassembled: their source holds its share of buffers") \
  X(flow_quota_hit, "packets of a new flow refused: their source holds its share of flows") \
  X(flow_table_full, "packets of a new flow refused: the flow table is full of inspecting flows") \
  X(tcp_syn_data, "SYN segments carrying data (TCP Fast Open), read")                 \
  X(tcp_syn_ignored, "SYNs with another ISN inside an open connection, ignored (RFC 5961 challenge ACK)") \
  X(tcp_port_reuse, "new connections on the 4-tuple of a closed or decided one")      \
  X(tcp_beyond_cap, "TCP segments starting past the reassembly cap, not held")        \
  X(tcp_urgent, "TCP segments with urgent data (the urgent byte is not in the stream)") \
  X(tcp_md5_unkeyed, "TCP segments with an MD5 signature option, dropped by the server (alternate reading)") \
  X(tcp_ttl_suspect, "TCP segments with a TTL below the SYN's, maybe not delivered (alternate reading)") \
  X(checksum_bad, "segments and datagrams with a bad transport checksum, not read")  \
  X(checksum_offload, "sources whose checksums are all bad (offload): checks stopped") \
  X(uninspected, "connections decided by [inspect] uninspected")                     \
  X(conflicts, "decisions where two readings of the same bytes disagreed")           \
  X(dns_queries, "DNS query messages classified")                                       \
  X(dns_questions, "DNS questions classified")                                          \
  X(dns_responses_ignored, "DNS responses seen and not classified")                     \
  X(dns_nonstandard_port, "DNS queries recognised on a non-DNS port")                   \
  X(dns_tcp_messages, "DNS messages read from TCP streams")                             \
  X(tls_client_hellos, "TLS ClientHellos classified")                                   \
  X(tls_multi_segment, "ClientHellos reassembled from several TCP segments")            \
  X(tls_multi_record, "ClientHellos spread over several TLS records")                   \
  X(tls_bytes_parsed, "client stream bytes read by the TLS record parser")            \
  X(tls_no_sni, "ClientHellos without server_name")                                     \
  X(tls_ech, "ClientHellos carrying encrypted_client_hello")                            \
  X(quic_initials, "QUIC client Initial packets decrypted")                             \
  X(quic_client_hellos, "ClientHellos read from QUIC Initial CRYPTO data")              \
  X(quic_multi_crypto, "QUIC ClientHellos reassembled from several CRYPTO frames")      \
  X(quic_crypto_capped, "CRYPTO frames dropped: beyond the cap or the per-packet limit") \
  X(http_requests, "HTTP requests classified by Host")                                  \
  X(decisions, "decisions made")                                                        \
  X(decisions_block, "decisions with action block")                                     \
  X(decisions_log, "decisions with action log")                                         \
  X(decisions_allow, "decisions with action allow")                                     \
  X(log_events, "decision events handed to the log (written + dropped, dedup aside)")    \
  X(log_events_written, "decision events written to the log")                           \
  X(log_events_dropped, "decision events lost because a log queue was full")

enum class Counter : uint16_t {
#define VIGIE_COUNTER_ENUM(name, help) k_##name,
  VIGIE_COUNTERS(VIGIE_COUNTER_ENUM)
#undef VIGIE_COUNTER_ENUM
      kCount
};

inline constexpr size_t kCounterCount = static_cast<size_t>(Counter::kCount);

inline constexpr std::array<std::string_view, kCounterCount> kCounterNames = {
#define VIGIE_COUNTER_NAME(name, help) #name,
    VIGIE_COUNTERS(VIGIE_COUNTER_NAME)
#undef VIGIE_COUNTER_NAME
};

inline constexpr std::array<std::string_view, kCounterCount> kCounterHelp = {
#define VIGIE_COUNTER_HELP(name, help) help,
    VIGIE_COUNTERS(VIGIE_COUNTER_HELP)
#undef VIGIE_COUNTER_HELP
};

// Anomalies: malformed or truncated input, by reason. Counted, never fatal.
// X(name, help)
#define VIGIE_ANOMALIES(X)                                                      \
  X(link_truncated, "frame shorter than its link-layer header")                 \
  X(link_unsupported, "capture link type not supported")                        \
  X(vlan_truncated, "802.1Q / QinQ tag truncated")                              \
  X(mpls_truncated, "MPLS label stack truncated or too deep")                   \
  X(pppoe_truncated, "PPPoE or PPP header truncated")                           \
  X(ipv4_truncated, "IPv4 header truncated")                                    \
  X(ipv4_bad_header, "IPv4 version or header length invalid")                   \
  X(ipv4_bad_total_length, "IPv4 total length disagrees with the frame (trimmed)") \
  X(ipv6_truncated, "IPv6 header or extension header truncated")                \
  X(ipv6_bad_payload_length, "IPv6 payload length disagrees with the frame (trimmed)") \
  X(ipv6_ext_too_many, "IPv6 extension header chain too long")                  \
  X(tunnel_too_deep, "tunnel nesting deeper than the cap")                      \
  X(tunnel_truncated, "tunnel header truncated")                                \
  X(udp_truncated, "UDP header truncated")                                      \
  X(tcp_truncated, "TCP header truncated")                                      \
  X(tcp_bad_offset, "TCP data offset invalid")                                  \
  X(frag_bad, "IP fragment inconsistent (bad offset or length)")                \
  X(dns_malformed, "DNS query malformed")                                       \
  X(dns_tcp_bad_length, "DNS over TCP length prefix invalid")                   \
  X(tls_malformed, "TLS ClientHello malformed")                                 \
  X(tls_too_large, "TLS ClientHello over the size cap")                         \
  X(quic_undecryptable, "QUIC long-header packet that could not be decrypted")  \
  X(http_malformed, "HTTP request malformed")                                   \
  X(name_invalid, "name from the wire failed normalisation")                    \
  X(capture_read_error, "capture file read error")

enum class Anomaly : uint16_t {
#define VIGIE_ANOMALY_ENUM(name, help) k_##name,
  VIGIE_ANOMALIES(VIGIE_ANOMALY_ENUM)
#undef VIGIE_ANOMALY_ENUM
      kCount
};

inline constexpr size_t kAnomalyCount = static_cast<size_t>(Anomaly::kCount);

inline constexpr std::array<std::string_view, kAnomalyCount> kAnomalyNames = {
#define VIGIE_ANOMALY_NAME(name, help) #name,
    VIGIE_ANOMALIES(VIGIE_ANOMALY_NAME)
#undef VIGIE_ANOMALY_NAME
};

inline constexpr std::array<std::string_view, kAnomalyCount> kAnomalyHelp = {
#define VIGIE_ANOMALY_HELP(name, help) help,
    VIGIE_ANOMALIES(VIGIE_ANOMALY_HELP)
#undef VIGIE_ANOMALY_HELP
};

// One worker's counters.
struct Counters {
  std::array<uint64_t, kCounterCount> c{};
  std::array<uint64_t, kAnomalyCount> a{};

  void Inc(Counter k, uint64_t n = 1) { c[static_cast<size_t>(k)] += n; }
  void Inc(Anomaly k, uint64_t n = 1) { a[static_cast<size_t>(k)] += n; }
  uint64_t Get(Counter k) const { return c[static_cast<size_t>(k)]; }
  uint64_t Get(Anomaly k) const { return a[static_cast<size_t>(k)]; }
  void Add(const Counters& o) {
    for (size_t i = 0; i < kCounterCount; ++i) c[i] += o.c[i];
    for (size_t i = 0; i < kAnomalyCount; ++i) a[i] += o.a[i];
  }
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_BASE_COUNTERS_H_
