#include "gateway/inspect/tls_inspector.h"

#include <algorithm>
#include <cstring>

namespace vigie {

void DecideClientHello(const ClientHelloInfo& ch, Proto proto, const PacketContext& cx, const InspectEnv& env,
                       PacketVerdict* v) {
  Counters& counters = *env.counters;
  const Flow* flow = cx.flow;
  counters.Inc(proto == Proto::kQuic ? Counter::k_quic_client_hellos : Counter::k_tls_client_hellos);
  if (flow->stream.segments > 1) {
    counters.Inc(proto == Proto::kQuic ? Counter::k_quic_multi_crypto : Counter::k_tls_multi_segment);
  }
  if (ch.records > 1) counters.Inc(Counter::k_tls_multi_record);
  if (ch.ech) counters.Inc(Counter::k_tls_ech);
  Decision d = env.decider->NewDecision(cx, proto, Endpoints::kFlow);
  d.has_sni = ch.has_sni;
  d.alpn = ch.alpn_first;
  d.ech = ch.ech;
  d.tls_version = ch.max_version;
  (proto == Proto::kQuic ? d.crypto_frames : d.tcp_segments) = flow->stream.segments;
  d.tls_records = ch.records;
  if (!ch.has_sni) counters.Inc(Counter::k_tls_no_sni);
  d.domain_raw = ch.sni;
  // Two host_name entries (or two server_name extensions): the server may
  // take either; each is decided and the strictest kept.
  Action a = ch.sni_count > 1
                 ? env.decider->DecideReadings(&d, absl::MakeConstSpan(ch.sni_names, ch.sni_count), "sni_names")
                 : env.decider->Decide(&d);
  v->action = std::max(v->action, a);
  v->decided = true;
}

void TlsInspector::OnStream(absl::Span<const uint8_t> data, bool in_place, const PacketContext& cx,
                            PacketVerdict* v) {
  Flow* flow = cx.flow;
  FlowTable& flows = *env_.flows;
  Counters& counters = *env_.counters;
  auto finish = [&] { FinishFlow(env_, flow, v); };
  // Records are consumed as they complete (the stream buffer holds one
  // record at most); a hello spread over records is joined into the flow's
  // aux buffer, or first into the worker's scratch and moved there if it is
  // still incomplete at the end of the call.
  for (;;) {
    absl::Span<uint8_t> scratch = flow->aux >= 0 ? flows.Aux(flow) : absl::MakeSpan(scratch_);
    ClientHelloInfo ch;
    TlsAssembleResult r = AssembleClientHello(&flow->tls, data, scratch, &ch);
    counters.Inc(Counter::k_tls_bytes_parsed, r.scanned);
    if (r.status == ParseStatus::kNeedMore) {
      if (flow->aux < 0 && flow->tls.body_have > 0) {
        absl::Span<uint8_t> aux = flows.Aux(flow);
        if (aux.empty()) {
          GiveUp(env_, Proto::kTls, cx, v);
          return;
        }
        std::memcpy(aux.data(), scratch_.data(), flow->tls.body_have);
      }
      flows.Consume(flow, static_cast<uint32_t>(r.consumed));
      absl::Span<const uint8_t> rest = data.subspan(r.consumed);
      if (flow->stream.cap_hit || rest.size() >= kReassemblyCap) {
        counters.Inc(Counter::k_tcp_reasm_cap_hit);
        GiveUp(env_, Proto::kTls, cx, v);
      } else if (in_place && !rest.empty() && !flows.Retain(flow, rest)) {
        GiveUp(env_, Proto::kTls, cx, v);
      }
      return;
    }
    if (r.status == ParseStatus::kMalformed) {
      // After a first ClientHello, anything else (application data, a TLS 1.2
      // ClientKeyExchange, an alert) simply ends the inspection.
      if (flow->hellos == 0) {
        counters.Inc(r.error == TlsMalformed::kTooLarge ? Anomaly::k_tls_too_large : Anomaly::k_tls_malformed);
        env_.decider->Malformed(Proto::kTls, TlsMalformedName(r.error), cx, v);
      }
      finish();
      return;
    }
    DecideClientHello(ch, Proto::kTls, cx, env_, v);
    // A TLS 1.3 server may answer with a HelloRetryRequest, and the client
    // then sends a second ClientHello on the same connection: watch for it
    // unless the flow is already blocked.
    ++flow->hellos;
    if (v->action == Action::kBlock || flow->hellos >= kMaxClientHellosPerFlow) {
      finish();
      return;
    }
    flow->action = std::max(flow->action, static_cast<uint8_t>(v->action));
    flow->tls = TlsHelloAssembler{};
    flows.Consume(flow, static_cast<uint32_t>(r.consumed));
    flow->stream.segments = 0;
    data = data.subspan(r.consumed);
    if (in_place) {
      if (!data.empty() && !flows.Retain(flow, data)) GiveUp(env_, Proto::kTls, cx, v);
      return;
    }
    data = flows.Contiguous(flow);
    if (data.empty()) return;
  }
}

}  // namespace vigie
