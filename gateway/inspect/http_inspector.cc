#include "gateway/inspect/http_inspector.h"

#include <algorithm>

#include "classifiers/http.h"

namespace vigie {

void HttpInspector::OnStream(absl::Span<const uint8_t> data, bool in_place, const PacketContext& cx,
                             PacketVerdict* v) {
  Flow* flow = cx.flow;
  FlowTable& flows = *env_.flows;
  Counters& counters = *env_.counters;
  auto finish = [&] { FinishFlow(env_, flow, v); };
  // Walks the stream: body bytes of the last request, then the next head.
  for (;;) {
    size_t used = 0;
    if (flow->http_chunked) {
      HttpChunkedResult c = SkipChunkedBody(&flow->http_chunk, data);
      if (c.status == ParseStatus::kMalformed) {
        GiveUpAfter(cx, "http_framing", v);
        return;
      }
      used = c.consumed;
      if (c.status == ParseStatus::kOk) flow->http_chunked = false;
    } else if (flow->http_body_left > 0) {
      used = static_cast<size_t>(std::min<uint64_t>(flow->http_body_left, data.size()));
      flow->http_body_left -= used;
    } else {
      HttpRequestInfo http;
      HttpParseResult r = ParseHttpRequest(data, &http);
      if (r.status == ParseStatus::kNeedMore) {
        if (data.size() >= kReassemblyCap || flow->stream.cap_hit) {
          GiveUp(env_, Proto::kHttp, cx, v);
        } else if (in_place && !flows.Retain(flow, data)) {
          GiveUp(env_, Proto::kHttp, cx, v);
        }
        return;
      }
      Decision d = env_.decider->NewDecision(cx, Proto::kHttp, Endpoints::kFlow);
      auto hosts = absl::MakeConstSpan(http.host_names, http.host_count);
      if (r.status == ParseStatus::kMalformed && r.error == HttpMalformed::kDuplicateHost) {
        // Servers differ (400, first Host, last Host): blocked if any Host
        // read so far is, else uninspectable from here.
        counters.Inc(Anomaly::k_http_malformed);
        counters.Inc(Counter::k_http_requests);
        if (env_.decider->StrictestAction(d, hosts) == Action::kBlock) {
          d.malformed = HttpMalformedName(r.error);
          env_.decider->DecideReadings(&d, hosts, "http_hosts");
          v->action = std::max(v->action, d.verdict.action);
          v->decided = true;
          finish();
        } else {
          GiveUpAfter(cx, "http_duplicate_host", v);
        }
        return;
      }
      bool named = !http.host.empty() || http.host_count > 0;
      if (!named && r.error != HttpMalformed::kNoHost) {
        if (flow->hellos == 0) {  // (hellos counts requests here)
          counters.Inc(Anomaly::k_http_malformed);
          env_.decider->Malformed(Proto::kHttp, HttpMalformedName(r.error), cx, v);
        }
        finish();
        return;
      }
      counters.Inc(Counter::k_http_requests);
      if (r.status == ParseStatus::kMalformed) {
        counters.Inc(Anomaly::k_http_malformed);
        if (named) d.malformed = HttpMalformedName(r.error);
      }
      if (!named) {
        d.has_sni = false;  // a request without a name: ip: rules and the no_sni policy
        env_.decider->Decide(&d);
      } else {
        if (hosts.empty()) hosts = absl::MakeConstSpan(&http.host, 1);
        env_.decider->DecideReadings(&d, hosts, "http_hosts");
      }
      v->action = std::max(v->action, d.verdict.action);
      v->decided = true;
      if (flow->hellos < 255) ++flow->hellos;
      if (v->action == Action::kBlock) {
        finish();
        return;
      }
      if (r.status == ParseStatus::kMalformed) {
        finish();  // (no Host in HTTP/1.1) the server answers 400 and closes
        return;
      }
      if (http.framing == HttpBodyFraming::kUnknown || http.framing_ambiguous) {
        // A server may read what follows differently (smuggling): stop here.
        GiveUpAfter(cx, "http_framing", v);
        return;
      }
      used = http.header_bytes;
      if (http.framing == HttpBodyFraming::kContentLength) flow->http_body_left = http.content_length;
      if (http.framing == HttpBodyFraming::kChunked) {
        flow->http_chunked = true;
        flow->http_chunk = HttpChunkedState{};
      }
    }
    flows.Consume(flow, static_cast<uint32_t>(used));
    flow->action = std::max(flow->action, static_cast<uint8_t>(v->action));
    data = data.subspan(used);
    if (in_place) {
      if (data.empty()) return;
      if (used == 0) {
        // Nothing moved (a body skipper waiting for bytes it already has):
        // keep them.
        if (!flows.Retain(flow, data)) GiveUp(env_, Proto::kHttp, cx, v);
        return;
      }
      continue;  // the rest of the same segment, still in place
    }
    data = flows.Contiguous(flow);
    if (data.empty() || used == 0) return;
  }
}

void HttpInspector::GiveUpAfter(const PacketContext& cx, std::string_view why, PacketVerdict* v) {
  Flow* flow = cx.flow;
  env_.decider->Uninspected(Proto::kHttp, why, cx, v);
  FinishFlow(env_, flow, v);
}

}  // namespace vigie
