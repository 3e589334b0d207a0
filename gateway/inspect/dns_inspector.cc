#include "gateway/inspect/dns_inspector.h"

#include "classifiers/dns.h"

namespace vigie {

void DnsInspector::OnMessage(absl::Span<const uint8_t> msg, const PacketContext& cx, PacketVerdict* v) {
  Counters& counters = *env_.counters;
  DnsMessageInfo info;
  DnsParseResult r = ParseDnsMessage(msg, &info);
  if (r.status != ParseStatus::kOk && r.error == DnsMalformed::kShortHeader) {
    counters.Inc(Anomaly::k_dns_malformed);
    env_.decider->Malformed(Proto::kDns, DnsMalformedName(r.error), cx, v);
    return;
  }
  if (info.is_response) {
    counters.Inc(Counter::k_dns_responses_ignored);
    return;
  }
  if (info.opcode != 0) return;  // NOTIFY, UPDATE, ...: no name to police
  counters.Inc(Counter::k_dns_queries);
  Decision d = env_.decider->NewDecision(cx, Proto::kDns, Endpoints::kPacket);
  for (uint8_t i = 0; i < info.question_count; ++i) {
    counters.Inc(Counter::k_dns_questions);
    d.domain_raw = info.questions[i].view();
    d.qtype = info.questions[i].qtype;
    Action a = env_.decider->Decide(&d);
    if (a > v->action) v->action = a;
    v->decided = true;
  }
  if (r.status != ParseStatus::kOk && r.error != DnsMalformed::kNoQuestion) {
    counters.Inc(Anomaly::k_dns_malformed);
    env_.decider->Malformed(Proto::kDns, DnsMalformedName(r.error), cx, v);
  }
}

void DnsInspector::OnTcpStream(absl::Span<const uint8_t> data, bool in_place, const PacketContext& cx,
                               PacketVerdict* v) {
  FlowTable& flows = *env_.flows;
  Flow* flow = cx.flow;
  size_t consumed = 0;
  while (consumed < data.size()) {
    DnsTcpFrame f = ReadDnsTcpFrame(data.subspan(consumed));
    if (f.status == ParseStatus::kNeedMore) break;
    if (f.status == ParseStatus::kMalformed) {
      // A length shorter than a DNS header: no server reads on as DNS, and
      // Vigie cannot say what follows. Uninspectable ([inspect] uninspected,
      // block by default), never silently let through.
      env_.counters->Inc(Anomaly::k_dns_tcp_bad_length);
      env_.decider->Uninspected(Proto::kDns, "dns_tcp_length", cx, v);
      FinishFlow(env_, flow, v);
      return;
    }
    env_.counters->Inc(Counter::k_dns_tcp_messages);
    OnMessage(f.msg, cx, v);
    if (flow->hellos < 255) ++flow->hellos;  // a message decided (flow.h)
    consumed += f.consumed;
  }
  flows.Consume(flow, static_cast<uint32_t>(consumed));
  if (in_place && consumed < data.size() && !flows.Retain(flow, data.subspan(consumed))) {
    GiveUp(env_, Proto::kDns, cx, v);
  }
}

}  // namespace vigie
