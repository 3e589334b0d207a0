#include "gateway/inspect/inspector.h"

#include <algorithm>

namespace vigie {

Proto ProtoOfStream(StreamKind k) {
  switch (k) {
    case StreamKind::kTls: return Proto::kTls;
    case StreamKind::kHttp: return Proto::kHttp;
    case StreamKind::kDnsTcp: return Proto::kDns;
    case StreamKind::kQuic: return Proto::kQuic;
    case StreamKind::kUnknown: break;
  }
  return Proto::kIp;
}

std::string_view GiveUpReason(const Flow& flow) {
  switch (flow.stream.no_buffer) {
    case TcpStream::NoBuffer::kPool: return "reassembly_pool_empty";
    case TcpStream::NoBuffer::kQuota: return "reassembly_quota";
    case TcpStream::NoBuffer::kNone: break;
  }
  return "reassembly_cap";
}

void GiveUp(const InspectEnv& env, Proto proto, const PacketContext& cx, PacketVerdict* v) {
  Flow* flow = cx.flow;
  env.decider->Uninspected(proto, GiveUpReason(*flow), cx, v);
  FinishFlow(env, flow, v);
}

void FinishFlow(const InspectEnv& env, Flow* flow, PacketVerdict* v) {
  flow->state = FlowState::kDecided;
  flow->action = std::max(flow->action, static_cast<uint8_t>(v->action));
  v->action = static_cast<Action>(flow->action);
  v->flow_final = true;
  env.flows->Release(flow);
}

}  // namespace vigie
