#include "gateway/inspect/tls_inspector.h"

#include <algorithm>

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
  Action a = env.decider->Decide(&d);
  v->action = std::max(v->action, a);
  v->decided = true;
}

void TlsInspector::OnStream(absl::Span<const uint8_t> data, bool in_place, const PacketContext& cx,
                            PacketVerdict* v) {
  Flow* flow = cx.flow;
  FlowTable& flows = *env_.flows;
  Counters& counters = *env_.counters;
  auto finish = [&] {
    flow->state = FlowState::kDecided;
    flow->action = std::max(flow->action, static_cast<uint8_t>(v->action));
    v->action = static_cast<Action>(flow->action);
    v->flow_final = true;
    flows.Release(flow);
  };
  if (flow->hellos > 0) {
    // In middlebox-compatibility mode (RFC 8446 §D.4) the client may send a
    // ChangeCipherSpec record right before its second ClientHello: skip it.
    static constexpr uint8_t kCcs[] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
    if (data[0] == 0x14 && data.size() >= sizeof(kCcs) && std::equal(kCcs, kCcs + sizeof(kCcs), data.begin())) {
      flows.Consume(flow, sizeof(kCcs));
      if (in_place) {
        data = data.subspan(sizeof(kCcs));
        if (data.empty()) return;
        flows.Retain(flow, data);
        in_place = false;
      }
      // Consume moved the buffered bytes down: take the view afresh.
      data = flows.Contiguous(flow);
      if (data.empty()) return;
    }
    if (data[0] != 0x16) {
      finish();  // after the ClientHello: ChangeCipherSpec, alert or application data
      return;
    }
  }
  ClientHelloInfo ch;
  TlsParseResult r = ParseClientHelloStream(data, absl::MakeSpan(scratch_), &ch);
  if (r.status == ParseStatus::kNeedMore) {
    if (flow->stream.cap_hit || data.size() >= kReassemblyCap) {
      counters.Inc(Counter::k_tcp_reasm_cap_hit);
      counters.Inc(Anomaly::k_tls_too_large);
      env_.decider->Malformed(Proto::kTls, "reassembly_cap", cx, v);
      finish();
    } else if (in_place && !flows.Retain(flow, data)) {
      flow->state = FlowState::kIgnored;
    }
    return;
  }
  if (r.status == ParseStatus::kMalformed) {
    // After a first ClientHello, another handshake message (a TLS 1.2
    // ClientKeyExchange) simply ends the inspection.
    if (flow->hellos == 0 || r.error != TlsMalformed::kNotClientHello) {
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
  uint32_t used = static_cast<uint32_t>(std::min(ch.stream_consumed, data.size()));
  flows.Consume(flow, used);
  flow->stream.segments = 0;
  if (in_place && used < data.size()) flows.Retain(flow, data.subspan(used));
}

}  // namespace vigie
