// Decisions and the decision log (DESIGN.md "Decision event").
//
// A Decision is made on a worker and formatted to one JSON line by
// FormatDecision; sinks write lines. Strings from the wire are escaped so
// every line is valid JSON whatever bytes the packet held (invalid UTF-8 and
// control bytes become \u00XX escapes).
//
// Ownership: a Decision holds views (domain, ALPN, rule) valid only during the
// DecisionSink::Write call; a sink that keeps it must format or copy first.
#ifndef VIGIE_GATEWAY_INSPECT_DECISION_H_
#define VIGIE_GATEWAY_INSPECT_DECISION_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "gateway/policy/config.h"
#include "gateway/base/ip_address.h"
#include "gateway/policy/policy.h"

namespace vigie {

// kIp: a flow decided by its destination address alone (ip: rules).
enum class Proto : uint8_t { kDns, kTls, kQuic, kHttp, kIp };
std::string_view ProtoName(Proto p);

struct Decision {
  uint64_t ts_us = 0;  // packet time
  Verdict verdict;
  Proto proto = Proto::kDns;
  uint8_t transport = 17;  // IP protocol number
  IpAddress src, dst;
  uint16_t src_port = 0, dst_port = 0;
  std::string_view domain;       // normalised name (empty if it failed normalisation)
  std::string_view domain_raw;   // the name as on the wire
  uint64_t flow_id = 0;
  uint64_t frame = 0;            // 1-based capture frame (0: not from a capture)
  uint8_t encap_depth = 0;
  std::string_view capture;      // replay: the capture file's name
  // DNS
  uint16_t qtype = 0;
  // TLS
  bool has_sni = true;
  std::string_view alpn;
  bool ech = false;
  uint16_t tls_version = 0;
  uint16_t tcp_segments = 0;
  uint32_t tls_records = 0;
  uint16_t crypto_frames = 0;    // QUIC: CRYPTO frames the ClientHello came in
  // Why a message was malformed (reason malformed) or not inspected (reason
  // uninspected).
  std::string_view malformed;
  // Set when the bytes had several readings (two SNI host names, several
  // HTTP hosts, conflicting TCP overlaps or IP fragments): what disagreed.
  // Every reading was decided and the strictest kept (reason conflict when
  // their actions differed).
  std::string_view conflict;
  uint8_t readings = 0;  // how many readings were decided (with `conflict`)
  bool readings_differ = false;  // their actions differed: reason conflict
};

class DecisionSink {
 public:
  virtual ~DecisionSink() = default;
  virtual void Write(const Decision& d, const Policy& policy) = 0;
  virtual void Flush() {}
};

// Whether a decision is written under a log mode.
bool ShouldLog(const Decision& d, LogMode mode);

}  // namespace vigie

#endif  // VIGIE_GATEWAY_INSPECT_DECISION_H_
