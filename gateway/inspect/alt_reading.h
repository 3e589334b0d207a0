// Decides the alternate reading of a TCP stream (flow.h, AltReading): the
// bytes the server may read instead of what the reassembly keeps (the losers
// of differing overlaps, the urgent byte inline, MD5 and low-TTL segments
// delivered). DESIGN.md "Soundness: ambiguity never allows".
//
// Before the stream's inspector runs, the alternate's first message is parsed
// whole (TLS ClientHello, HTTP request head, DNS-over-TCP query); a reading
// stricter than the flow so far is recorded (reason conflict, `conflict` =
// tcp_overlap | tcp_urgent | tcp_md5 | tcp_ttl | ip_fragment, counted in conflicts) and a
// block ends the flow. An alternate that does not parse adds nothing (the
// server would reject those bytes too). When the flow is decided while its
// alternate could not be held or is not whole yet, it is uninspected
// ("alternate_reading") unless already blocked.
//
// Thread safety: one per worker (InspectEnv). Allocation: a scratch buffer
// for a hello over several records, once.
#ifndef VIGIE_GATEWAY_INSPECT_ALT_READING_H_
#define VIGIE_GATEWAY_INSPECT_ALT_READING_H_

#include <algorithm>
#include <string_view>
#include <vector>

#include "classifiers/dns.h"
#include "classifiers/http.h"
#include "classifiers/tls.h"
#include "gateway/inspect/inspector.h"

namespace vigie {

class AltReader {
 public:
  explicit AltReader(InspectEnv env);

  // What the last Check found.
  enum class State : uint8_t { kNone, kRead, kOpen };  // kOpen: lost or not whole
  // Decides the flow's alternate if it has one; returns kOpen when it cannot
  // be read (yet). Sets *finished when a stricter reading blocked the flow.
  State Check(const PacketContext& cx, PacketVerdict* v, bool* finished);
  // The names of another reading of this packet (a datagram whose IP
  // fragments conflicted): when stricter than the packet's verdict so far,
  // decided now (reason conflict, conflict = `what`) and its action returned;
  // else merged into the next decision about the flow on this packet
  // (Decider::SetAlternate; the views must live until then) and kAllow.
  Action DecideReading(const PacketContext& cx, Proto proto, Endpoints e, absl::Span<const std::string_view> names,
                       std::string_view what, PacketVerdict* v);
  // After the stream's inspector: a flow decided while its alternate was open.
  void AfterDecision(const PacketContext& cx, State before, PacketVerdict* v);

 private:
  InspectEnv env_;
  std::vector<uint8_t> scratch_;
  // The names of the last alternate read (views into its bytes, scratch_ or
  // dns_), kept for the decision of the same packet (Decider::SetAlternate).
  std::string_view names_[std::max({kMaxTlsSniNames, kMaxHttpHostNames, kDnsMaxQuestions})];
  DnsMessageInfo dns_;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_INSPECT_ALT_READING_H_
