// Suricata-compatible EVE JSON lines for Vigie decisions.
//
// One decision -> one line that validates against Suricata 8's
// etc/schema.json (additionalProperties: false), with the fields and value
// forms Suricata itself writes (src/output-json.c CreateEveHeader,
// src/output-json-alert.c AlertJsonHeader, src/output-json-drop.c,
// rust/src/dns/log.rs v3 "log_json", rust/src/quic/logger.rs,
// src/output-json-tls.c, src/output-json-http.c):
//
//   {"timestamp":"2023-03-24T10:11:12.123456+0000","flow_id":N,"pcap_cnt":N,
//    "event_type":"alert"|"drop","src_ip":..,"src_port":N,"dest_ip":..,
//    "dest_port":N,"proto":"TCP"|"UDP"|..,"ip_v":4|6,"community_id":"1:..",
//    "direction":"to_server","alert":{"action":"allowed"|"blocked","gid":1,
//    "signature_id":N,"rev":N,"signature":..,"category":..,"severity":N,
//    "metadata":{"app":[..],"list":[..],"rule":[..],..}},
//    ["drop":{"reason":"rules"},] "app_proto":"dns"|"tls"|"quic"|"http",
//    "dns":{"version":3,"type":"request","id":N,"queries":[{"rrname":..,
//    "rrtype":"A"}]} | "tls":{"sni":..,"version":"TLS 1.3"} |
//    "quic":{"sni":..,"version":"1"} | "http":{"hostname":..}}
//
// Timestamps are UTC ("+0000"); Suricata writes local time with its offset,
// so the form is the same. flow_id is reduced to 51 bits exactly as Suricata's
// FlowGetId does (JSON consumers in JavaScript lose integers above 2^53), so
// it is always a positive integer.
//
// Strings from the wire are escaped so every line is valid JSON and valid
// UTF-8 whatever bytes they held: '"', '\' and control bytes (and DEL, so no
// raw control byte reaches a terminal or a syslog MSG) are JSON escapes
// (\u0000 for NUL, \u007f); a string that is valid UTF-8 is kept as is; one that is
// not has every byte >= 0x80 written as the text \xNN (JSON "\\xNN"), as
// Suricata's JsonBuilder::set_string_from_bytes does, so a SOC rule written
// against Suricata's output sees the same text.
//
// Signature ids (EveSignatureId): one per (app, reason), in a range no public
// ruleset uses:
//   sid = 4 000 000 000 + (FNV-1a-32(app) mod 2 000 000) * 100 + reason code
// Snort/Talos use 1-999 999 and 1 000 000+ for local rules, ET Open
// 2 000 000-2 103 999, Suricata's own event rules 2 200 000-2 299 999, ET Pro
// 2 800 000-2 899 999, other vendors stay below 100 000 000; Suricata sids
// are uint32, so 4 000 000 000-4 199 999 999 fits. The last two digits are
// the reason (kEveReasonCodes; 99 for a reason not in the table), so two
// reasons of one app never collide, and the app part hashes the app's *name*
// (not its load-order AppId): the sid is the same after a reload, after lists
// are added, removed or reordered, and on every gateway. Two app names may
// share a bucket (2 000 000 buckets: ~1 in 40 000 for 10 apps); the test
// checks the shipped app names do not.
//
// Ownership: EveEvent holds views valid during AppendEve only. AppendEve
// appends to the caller's string (reuse one per writer: no allocation once it
// has grown to the longest line). Thread safety: pure functions.
#ifndef VIGIE_GATEWAY_OUTPUT_EVE_H_
#define VIGIE_GATEWAY_OUTPUT_EVE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/types/span.h"

namespace vigie {

enum class EveEventType : uint8_t { kAlert, kDrop };
enum class EveAppProto : uint8_t { kNone, kDns, kTls, kQuic, kHttp };

struct EveDnsQuery {
  std::string_view rrname;  // as on the wire (dotted, no trailing dot)
  uint16_t rrtype = 1;      // written as Suricata's name ("A", "HTTPS") or the number
};

struct EveAlert {
  bool blocked = false;        // "action": "blocked" / "allowed"
  uint32_t gid = 1;            // Suricata's generator id for rule alerts
  uint32_t signature_id = 0;   // 0: EveSignatureId(metadata app, reason)
  uint32_t rev = 1;            // bump kEveSignatureRev when the scheme changes
  std::string_view signature;  // empty: "VIGIE POLICY <app> <reason>"
  std::string_view category;   // Suricata classification text (kEveCategory*)
  uint32_t severity = 3;       // 1 (high) .. 3 (low), Suricata's priority
};

// Vigie-only fields, written as one-string arrays in alert.metadata (the
// schema allows any property there, Suricata writes rule metadata the same
// way) under the keys app, list, rule, rule_entry, reason, vigie_action,
// exception_id, exception_ticket, exception_reason. Empty fields are left out.
struct EveVigieMetadata {
  std::string_view app;               // app name ("tiktok")
  std::string_view list;              // the list kind, as in the Vigie log: "block" / "allow"
  std::string_view rule_file;         // the rule's list file; empty: no rule
  uint32_t rule_line = 0;             // 1-based; written as "rule": ["FILE:LINE"]
  std::string_view rule_entry;        // the entry as written ("tiktok.com", "full:x.y")
  std::string_view reason;            // ReasonName ("list", "no-sni", ...)
  std::string_view action;            // Vigie's action (allow / log / block)
  std::string_view exception_id;      // the exception applied
  std::string_view exception_ticket;
  std::string_view exception_reason;
};

struct EveEvent {
  uint64_t timestamp_us = 0;     // packet time, µs since the epoch (UTC)
  uint64_t flow_id = 0;          // 0: left out (no flow), else masked to 51 bits
  uint64_t pcap_cnt = 0;         // 1-based frame in replay; 0: left out (live)
  EveEventType event_type = EveEventType::kAlert;
  std::string_view src_ip, dest_ip;  // text form
  uint16_t src_port = 0, dest_port = 0;
  uint8_t ip_proto = 17;         // "proto": TCP/UDP/ICMP/IPV6-ICMP/SCTP or the number
  uint8_t ip_version = 0;        // "ip_v": 4 or 6; 0: left out
  std::string_view community_id; // empty: left out
  bool to_server = true;         // "direction"
  EveAlert alert;
  EveVigieMetadata vigie;
  EveAppProto app_proto = EveAppProto::kNone;
  // dns
  int32_t dns_id = -1;           // the query's id; -1: left out
  absl::Span<const EveDnsQuery> dns_queries;  // the question(s); empty: no "queries" key
  // tls / quic / http: the name
  std::string_view sni;          // tls.sni, quic.sni
  std::string_view hostname;     // http.hostname
  uint16_t tls_version = 0;      // wire version (0x0304); 0: left out
  uint32_t quic_version = 0;     // wire version (0x00000001); 0: left out
};

// Appends one EVE line for `e`, ending in '\n', to `out`. `metadata_end`
// (optional): set to the offset in `out` of the '}' closing alert.metadata,
// where more metadata members (",\"count\":[..]") may be inserted later, or
// to std::string::npos when no metadata was written.
void AppendEve(const EveEvent& e, std::string* out, size_t* metadata_end = nullptr);

// Appends `s` as a JSON string (quotes included) by the rules above.
void AppendEveString(std::string_view s, std::string* out);

// "2023-03-24T10:11:12.123456+0000" (UTC), as Suricata's CreateIsoTimeString.
void AppendEveTimestamp(uint64_t us, std::string* out);

// The signature id scheme above.
inline constexpr uint32_t kEveSignatureIdBase = 4'000'000'000u;
inline constexpr uint32_t kEveSignatureAppBuckets = 2'000'000u;
inline constexpr uint32_t kEveSignatureReasonSlots = 100u;
inline constexpr uint32_t kEveReasonCodeOther = 99u;
inline constexpr uint32_t kEveSignatureRev = 1;
uint32_t EveSignatureId(std::string_view app, std::string_view reason);
// The fixed code of a Vigie reason name (never renumber: sids depend on it).
uint32_t EveReasonCode(std::string_view reason);

// Suricata classification.config texts for `category`.
inline constexpr std::string_view kEveCategoryPolicyViolation = "Potential Corporate Privacy Violation";
inline constexpr std::string_view kEveCategoryNotSuspicious = "Not Suspicious Traffic";
inline constexpr std::string_view kEveCategoryProtocolAnomaly = "Generic Protocol Command Decode";

// Suricata's names for wire versions (rust/src/tls_version.rs,
// rust/src/quic/parser.rs, rust/src/dns/dns.rs); exposed for tests.
std::string_view EveTlsVersionName(uint16_t v);  // "UNDETERMINED" when unknown
void AppendEveQuicVersion(uint32_t v, std::string* out);  // without quotes
void AppendEveRrtype(uint16_t t, std::string* out);       // without quotes

}  // namespace vigie

#endif  // VIGIE_GATEWAY_OUTPUT_EVE_H_
