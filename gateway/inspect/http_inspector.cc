#include "gateway/inspect/http_inspector.h"

#include <algorithm>

#include "classifiers/http.h"

namespace vigie {

void HttpInspector::OnStream(absl::Span<const uint8_t> data, bool in_place, const PacketContext& cx,
                             PacketVerdict* v) {
  Flow* flow = cx.flow;
  Counters& counters = *env_.counters;
  HttpRequestInfo http;
  HttpParseResult r = ParseHttpRequest(data, &http);
  if (r.status == ParseStatus::kNeedMore) {
    if (in_place && !env_.flows->Retain(flow, data)) flow->state = FlowState::kIgnored;
    return;
  }
  // The first request of the connection decides it (later requests on a
  // kept-alive connection are not inspected).
  Decision d = env_.decider->NewDecision(cx, Proto::kHttp, Endpoints::kFlow);
  if (r.status == ParseStatus::kMalformed && http.host.empty()) {
    counters.Inc(Anomaly::k_http_malformed);
    if (r.error == HttpMalformed::kNoHost) {
      d.has_sni = false;  // a request without a name: ip: rules and the no_sni policy
      counters.Inc(Counter::k_http_requests);
      env_.decider->Decide(&d);
      v->action = std::max(v->action, d.verdict.action);
      v->decided = true;
    } else {
      env_.decider->Malformed(Proto::kHttp, HttpMalformedName(r.error), cx, v);
    }
  } else {
    // A duplicate Host (a smuggling attempt) still decides on the first one.
    if (r.status == ParseStatus::kMalformed) {
      counters.Inc(Anomaly::k_http_malformed);
      d.malformed = HttpMalformedName(r.error);
    }
    counters.Inc(Counter::k_http_requests);
    d.domain_raw = http.host;
    env_.decider->Decide(&d);
    v->action = std::max(v->action, d.verdict.action);
    v->decided = true;
  }
  flow->state = FlowState::kDecided;
  flow->action = std::max(flow->action, static_cast<uint8_t>(v->action));
  v->flow_final = true;
  env_.flows->Release(flow);
}

}  // namespace vigie
