// What every protocol inspector of a worker shares (DESIGN.md "inspect"):
// the policy snapshot, the counters, the flow table whose streams it reads
// and consumes, and the Decider that turns names into decisions.
//
// Each inspector (dns_inspector.h, tls_inspector.h, quic_inspector.h,
// http_inspector.h) is fed the bytes of one flow by the Pipeline, which
// recognises the protocol; an inspector parses with classifiers/, decides
// through the Decider and moves the flow's state on (inspecting, decided,
// ignored). Thread safety: all of it belongs to one worker.
#ifndef VIGIE_GATEWAY_INSPECT_INSPECTOR_H_
#define VIGIE_GATEWAY_INSPECT_INSPECTOR_H_

#include <memory>

#include "gateway/base/counters.h"
#include "gateway/flow/flow.h"
#include "gateway/inspect/decider.h"
#include "gateway/policy/policy.h"

namespace vigie {

struct InspectEnv {
  const std::shared_ptr<const Policy>* policy;  // the pipeline's current snapshot
  Counters* counters;
  FlowTable* flows;
  Decider* decider;

  const Policy& pol() const { return **policy; }
};

// Ends the inspection of a flow Vigie cannot read further (no reassembly
// buffer, the cap reached before the message was whole): an uninspected
// decision, the flow decided with it and its buffer released.
void GiveUp(const InspectEnv& env, Proto proto, const PacketContext& cx, PacketVerdict* v);

// The flow is decided: its strongest action so far is the packet's verdict,
// nothing more is inspected, its buffers go back.
void FinishFlow(const InspectEnv& env, Flow* flow, PacketVerdict* v);

// What a decision about a flow of this kind is about.
Proto ProtoOfStream(StreamKind k);

// Why a flow's stream could not be held or finished, for GiveUp.
std::string_view GiveUpReason(const Flow& flow);

}  // namespace vigie

#endif  // VIGIE_GATEWAY_INSPECT_INSPECTOR_H_
