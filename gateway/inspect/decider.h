// The decision side of inspection, shared by every protocol inspector of one
// worker: the one place a Decision is built (NewDecision), a name is
// normalised and put to the policy (Decide), and a decision is counted,
// tallied per app and handed to the sink per log mode (Record). It also keeps
// the strongest decision of the packet being processed, for enforcement.
//
// Depends on: policy (the snapshot), flow and decode (what a decision is
// about), lists (NormalizeDomain). Thread safety: one per worker, with its
// Pipeline. Ownership: borrows the pipeline's policy pointer, sink and
// counters. Allocation: none per decision (the sink formats).
#ifndef VIGIE_GATEWAY_INSPECT_DECIDER_H_
#define VIGIE_GATEWAY_INSPECT_DECIDER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "gateway/base/counters.h"
#include "gateway/decode/decode.h"
#include "gateway/flow/flow.h"
#include "gateway/inspect/decision.h"
#include "gateway/policy/policy.h"

namespace vigie {

// What the source should do with the packet.
struct PacketVerdict {
  Action action = Action::kAllow;  // kBlock: drop (and answer / reset)
  bool decided = false;            // a decision was made on this packet
  bool flow_final = false;         // the flow needs no more inspection
  // What the strongest decision on this packet was about, for enforcement
  // (a DNS answer naming the app, or a TCP reset).
  Proto proto = Proto::kDns;
  Reason reason = Reason::kNoMatch;
  bool has_app = false;
  AppId app = 0;
};

// The packet being inspected and its flow.
struct PacketContext {
  const DecodedPacket& pkt;
  Flow* flow;  // may be null only for decisions made before a flow exists
  uint64_t ts_us;
  uint64_t frame_no;
};

// Decisions of one app (by name; "" = no app) by action (index = Action).
struct AppDecisions {
  std::string app;
  std::array<uint64_t, 3> n{};
};

// Whose addresses a decision carries: the flow's client -> server (TLS, QUIC,
// HTTP, ip:), or the packet's own (DNS queries, malformed messages).
enum class Endpoints : uint8_t { kFlow, kPacket };

class Decider {
 public:
  Decider(const std::shared_ptr<const Policy>* policy, DecisionSink* sink, LogMode log_mode, Counters* counters)
      : policy_(policy), sink_(sink), log_mode_(log_mode), counters_(counters) {}

  // The one Decision builder: time, proto, addresses, flow id, frame,
  // capture and tunnel depth filled; the verdict is the caller's to decide.
  Decision NewDecision(const PacketContext& cx, Proto proto, Endpoints e) const;

  // Normalises d->domain_raw, asks the policy (the ip: rules for a nameless
  // TLS/QUIC/HTTP decision), refines, records. Returns the action.
  Action Decide(Decision* d);
  // Several readings of one name (`names`, as on the wire): each is decided,
  // the strictest verdict is kept and recorded once, with d->conflict =
  // `what` when there was more than one distinct reading (reason conflict
  // when their actions differed; counted). One name: as Decide.
  Action DecideReadings(Decision* d, absl::Span<const std::string_view> names, std::string_view what);
  // Another reading of a flow's bytes (its `names`) stricter than what the
  // flow was decided so far: the strictest is recorded with d->conflict =
  // `what`, reason conflict, counted (conflicts).
  Action DecideAlternate(Decision* d, absl::Span<const std::string_view> names, std::string_view what);
  // Readings of the flow `flow_id`'s bytes other than the one its inspector
  // reads on this packet (AltReader): the next decision about that flow on
  // this packet decides them too, the strictest wins, reason conflict when
  // they disagree. The views must live until then; BeginPacket forgets them.
  void SetAlternate(uint64_t flow_id, absl::Span<const std::string_view> names, std::string_view what) {
    alt_flow_ = flow_id, alt_names_ = names, alt_what_ = what;
  }
  // The strictest action among `names` for d's source, without recording.
  Action StrictestAction(const Decision& d, absl::Span<const std::string_view> names) const;
  // A message that could not be read: decided per [inspect] malformed.
  void Malformed(Proto proto, std::string_view why, const PacketContext& cx, PacketVerdict* v);
  // For a flow without a visible name: decides by the ip: rules on its
  // destination; false (nothing logged) when none matches.
  bool DecideByIp(const PacketContext& cx, PacketVerdict* v);
  // A connection (or, with cx.flow null, a packet of one the flow table
  // refused) Vigie could not inspect to the end: decided per
  // [inspect] uninspected, reason uninspected, `why` in the malformed field.
  // `write` false: counted but not logged (a flood's repeats).
  void Uninspected(Proto proto, std::string_view why, const PacketContext& cx, PacketVerdict* v,
                   bool write = true);
  // Counts a decision and hands it to the sink per log mode (`write` false:
  // counted only).
  void Record(const Decision& d, bool write = true);

  // Per packet: forget the strongest decision of the last one.
  void BeginPacket() {
    current_ = PacketVerdict();
    alt_names_ = {};
  }
  const PacketVerdict& current() const { return current_; }
  // Puts back the packet's strongest decision (after decisions about other
  // flows made on its way, e.g. evicted ones).
  void RestoreCurrent(const PacketVerdict& v) { current_ = v; }

  void SetCaptureName(std::string_view name) { capture_ = name; }
  // Decisions by app (index = AppId of the snapshot of the last decision;
  // the last slot = no app) and action.
  const std::vector<std::array<uint64_t, 3>>& by_app() const { return by_app_; }
  // The same keyed by app name, over every snapshot this worker has used: a
  // reload that adds, removes or reorders lists keeps each app's figures
  // (an app no longer loaded keeps its last ones), so metrics counters never
  // go backwards. Allocates: for snapshots (once a second), not per decision.
  std::vector<AppDecisions> by_app_name() const;

 private:
  const Policy& policy() const { return **policy_; }
  // Re-indexes by_app_ for the current snapshot, by app name (on the first
  // decision after a reload: once per reload, not per decision).
  void Rekey();

  const std::shared_ptr<const Policy>* policy_;
  DecisionSink* sink_;
  LogMode log_mode_;
  Counters* counters_;
  std::vector<std::array<uint64_t, 3>> by_app_;
  // The snapshot by_app_'s indexes refer to, held so that its app names stay
  // readable (and its address is not reused by a later snapshot) until the
  // next Rekey.
  std::shared_ptr<const Policy> by_app_policy_;
  std::vector<AppDecisions> retired_;  // apps the current snapshot does not load
  std::string_view capture_;
  PacketVerdict current_;
  uint64_t alt_flow_ = 0;
  absl::Span<const std::string_view> alt_names_;
  std::string_view alt_what_;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_INSPECT_DECIDER_H_
