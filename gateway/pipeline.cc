#include "gateway/pipeline.h"

#include <algorithm>

#include "classifiers/dns.h"
#include "lists/domain.h"

namespace vigie {
namespace {
constexpr uint16_t kNetbiosNsPort = 137;  // RFC 1002
constexpr uint16_t kDotPort = 853;        // DNS over TLS (RFC 7858) and over QUIC (RFC 9250)
}  // namespace

Pipeline::Pipeline(std::shared_ptr<const Policy> policy, DecisionSink* sink, PipelineOptions opts,
                   uint64_t flow_id_base, uint64_t flow_id_step)
    : policy_(std::move(policy)),
      sink_(sink),
      opts_(opts),
      flows_(policy_->config().flows, &counters_, flow_id_base, flow_id_step),
      frags_(&counters_),
      tls_scratch_(kMaxClientHelloBytes) {}

bool Pipeline::IsDnsPort(uint16_t port) const {
  const auto& ports = policy_->config().dns_ports;
  return std::find(ports.begin(), ports.end(), port) != ports.end();
}

PacketVerdict Pipeline::Process(int linktype, absl::Span<const uint8_t> frame, uint64_t ts_us,
                                uint64_t frame_no) {
  counters_.Inc(Counter::k_packets);
  counters_.Inc(Counter::k_bytes, frame.size());
  current_ = PacketVerdict();
  PacketVerdict v = ProcessFrame(linktype, frame, ts_us, frame_no);
  v.proto = current_.proto;
  v.has_app = current_.has_app;
  v.app = current_.app;
  return v;
}

PacketVerdict Pipeline::ProcessFrame(int linktype, absl::Span<const uint8_t> frame, uint64_t ts_us,
                                     uint64_t frame_no) {
  PacketVerdict v;
  DecodedPacket pkt;
  DecodeStatus st = DecodeFrame(linktype, frame, &pkt);
  if (pkt.note != Anomaly::kCount) counters_.Inc(pkt.note);
  if (st == DecodeStatus::kFragment) {
    absl::Span<const uint8_t> whole;
    uint8_t proto;
    if (!frags_.Add(pkt, ts_us, &whole, &proto)) return v;  // held (or dropped, counted)
    st = DecodeIpPayload(proto, whole, &pkt);
    if (st == DecodeStatus::kFragment) return v;  // fragment inside a reassembled tunnel: not followed
  }
  switch (st) {
    case DecodeStatus::kNotIp:
      counters_.Inc(Counter::k_packets_not_ip);
      return v;
    case DecodeStatus::kMalformed:
      counters_.Inc(pkt.anomaly);
      return v;
    default:
      break;
  }
  return Handle(pkt, ts_us, frame_no);
}

PacketVerdict Pipeline::Handle(DecodedPacket& pkt, uint64_t ts_us, uint64_t frame_no) {
  PacketVerdict v;
  counters_.Inc(pkt.src.family == 4 ? Counter::k_packets_ipv4 : Counter::k_packets_ipv6);
  if (pkt.encap_depth > 0) counters_.Inc(Counter::k_packets_tunnelled);
  if (pkt.l4_proto != kProtoUdp && pkt.l4_proto != kProtoTcp) {
    counters_.Inc(Counter::k_packets_other_l4);
    return v;
  }
  // Scope: only sources in managed subnets are policed. With log mode "all",
  // the rest is still classified so the log is a full record of names seen.
  if (!policy_->IsManaged(pkt.src)) {
    counters_.Inc(Counter::k_packets_unmanaged);
    if (opts_.log_mode != LogMode::kAll) return v;
  }
  flows_.Expire(ts_us);
  bool from_client = true;
  Flow* flow = flows_.Get(pkt, ts_us, &from_client);
  if (flow == nullptr) return v;
  if (flow->state == FlowState::kNew && from_client && flow->server_port == kDotPort &&
      policy_->config().dot_action != Action::kAllow && policy_->IsManaged(flow->client_ip)) {
    // DNS over TLS / QUIC: a way around the DNS policy, decided by port.
    Decision d = FlowDecision(flow, pkt.l4_proto == kProtoTcp ? Proto::kTls : Proto::kQuic, pkt, ts_us, frame_no);
    d.has_sni = false;
    d.verdict.action = policy_->config().dot_action;
    d.verdict.reason = Reason::kPort;
    Record(d);
    flow->state = FlowState::kDecided;
    flow->action = static_cast<uint8_t>(d.verdict.action);
    v.action = d.verdict.action;
    v.decided = true;
    v.flow_final = true;
    return v;
  }
  if (pkt.l4_proto == kProtoUdp) {
    if (flow->state == FlowState::kDecided) {
      if (from_client) v.action = static_cast<Action>(flow->action);
      v.flow_final = true;
      return v;
    }
    HandleUdp(pkt, flow, ts_us, frame_no, &v);
  } else {
    HandleTcp(pkt, flow, from_client, ts_us, frame_no, &v);
  }
  return v;
}

void Pipeline::HandleUdp(const DecodedPacket& pkt, Flow* flow, uint64_t ts_us, uint64_t frame_no,
                         PacketVerdict* v) {
  bool dns_port = IsDnsPort(pkt.dst_port) || IsDnsPort(pkt.src_port);
  if (!dns_port) {
    // NetBIOS name service (137) shares DNS's wire format; it is not DNS.
    if (pkt.dst_port == kNetbiosNsPort || pkt.src_port == kNetbiosNsPort) return;
    if (!policy_->config().dns_any_port || !LooksLikeDnsQuery(pkt.payload)) return;
    counters_.Inc(Counter::k_dns_nonstandard_port);
  }
  ClassifyDns(pkt.payload, pkt, flow, ts_us, frame_no, v);
}

void Pipeline::ClassifyDns(absl::Span<const uint8_t> msg, const DecodedPacket& pkt, const Flow* flow,
                           uint64_t ts_us, uint64_t frame_no, PacketVerdict* v) {
  DnsMessageInfo info;
  DnsParseResult r = ParseDnsMessage(msg, &info);
  if (r.status != ParseStatus::kOk && r.error == DnsMalformed::kShortHeader) {
    counters_.Inc(Anomaly::k_dns_malformed);
    Malformed(Proto::kDns, DnsMalformedName(r.error), pkt, flow, ts_us, frame_no, v);
    return;
  }
  if (info.is_response) {
    counters_.Inc(Counter::k_dns_responses_ignored);
    return;
  }
  if (info.opcode != 0) return;  // NOTIFY, UPDATE, ...: no name to police
  counters_.Inc(Counter::k_dns_queries);
  Decision d;
  d.ts_us = ts_us;
  d.proto = Proto::kDns;
  d.transport = pkt.l4_proto;
  d.src = pkt.src, d.dst = pkt.dst, d.src_port = pkt.src_port, d.dst_port = pkt.dst_port;
  d.flow_id = flow->id;
  d.frame = frame_no;
  d.capture = capture_;
  d.encap_depth = pkt.encap_depth;
  for (uint8_t i = 0; i < info.question_count; ++i) {
    counters_.Inc(Counter::k_dns_questions);
    d.domain_raw = info.questions[i].view();
    d.qtype = info.questions[i].qtype;
    Action a = Decide(&d);
    if (a > v->action) v->action = a;
    v->decided = true;
  }
  if (r.status != ParseStatus::kOk && r.error != DnsMalformed::kNoQuestion) {
    counters_.Inc(Anomaly::k_dns_malformed);
    Malformed(Proto::kDns, DnsMalformedName(r.error), pkt, flow, ts_us, frame_no, v);
  }
}

void Pipeline::HandleTcp(const DecodedPacket& pkt, Flow* flow, bool from_client, uint64_t ts_us,
                         uint64_t frame_no, PacketVerdict* v) {
  if (flow->state == FlowState::kDecided || flow->state == FlowState::kIgnored) {
    if (from_client && flow->state == FlowState::kDecided) v->action = static_cast<Action>(flow->action);
    v->flow_final = true;
    return;
  }
  if (!from_client) return;
  bool syn = pkt.tcp_flags & kTcpSyn;
  bool in_place = false;
  absl::Span<const uint8_t> data = flows_.AddSegment(flow, pkt.tcp_seq, syn, pkt.payload, &in_place);
  if (data.empty()) {
    if (flow->stream.cap_hit && flow->stream.contiguous >= kReassemblyCap) {
      counters_.Inc(Counter::k_tcp_reasm_cap_hit);
      flow->state = FlowState::kIgnored;
      flows_.Release(flow);
    }
    return;
  }
  flow->state = FlowState::kInspecting;
  if (flow->kind == StreamKind::kUnknown) {
    if (IsDnsPort(flow->server_port)) {
      flow->kind = StreamKind::kDnsTcp;
    } else if (data[0] == 0x16) {
      flow->kind = StreamKind::kTls;  // a TLS handshake record, on any port
    } else {
      flow->state = FlowState::kIgnored;
      flows_.Release(flow);
      v->flow_final = true;
      return;
    }
  }

  if (flow->kind == StreamKind::kTls) {
    InspectTls(data, in_place, pkt, flow, ts_us, frame_no, v);
    return;
  }

  // DNS over TCP: length-prefixed messages, several per connection.
  size_t consumed = 0;
  while (consumed < data.size()) {
    DnsTcpFrame f = ReadDnsTcpFrame(data.subspan(consumed));
    if (f.status == ParseStatus::kNeedMore) break;
    if (f.status == ParseStatus::kMalformed) {
      counters_.Inc(Anomaly::k_dns_tcp_bad_length);
      flow->state = FlowState::kIgnored;
      flows_.Release(flow);
      return;
    }
    counters_.Inc(Counter::k_dns_tcp_messages);
    ClassifyDns(f.msg, pkt, flow, ts_us, frame_no, v);
    consumed += f.consumed;
  }
  flows_.Consume(flow, static_cast<uint32_t>(consumed));
  if (in_place && consumed < data.size()) flows_.Retain(flow, data.subspan(consumed));
}

void Pipeline::InspectTls(absl::Span<const uint8_t> data, bool in_place, const DecodedPacket& pkt, Flow* flow,
                          uint64_t ts_us, uint64_t frame_no, PacketVerdict* v) {
  auto finish = [&] {
    flow->state = FlowState::kDecided;
    flow->action = std::max(flow->action, static_cast<uint8_t>(v->action));
    v->action = static_cast<Action>(flow->action);
    v->flow_final = true;
    flows_.Release(flow);
  };
  if (flow->hellos > 0) {
    // In middlebox-compatibility mode (RFC 8446 §D.4) the client may send a
    // ChangeCipherSpec record right before its second ClientHello: skip it.
    static constexpr uint8_t kCcs[] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
    if (data[0] == 0x14 && data.size() >= sizeof(kCcs) && std::equal(kCcs, kCcs + sizeof(kCcs), data.begin())) {
      flows_.Consume(flow, sizeof(kCcs));
      if (in_place) {
        data = data.subspan(sizeof(kCcs));
        if (data.empty()) return;
        flows_.Retain(flow, data);
        in_place = false;
      }
      // Consume moved the buffered bytes down: take the view afresh.
      data = flows_.Contiguous(flow);
      if (data.empty()) return;
    }
    if (data[0] != 0x16) {
      finish();  // after the ClientHello: ChangeCipherSpec, alert or application data
      return;
    }
  }
  ClientHelloInfo ch;
  TlsParseResult r = ParseClientHelloStream(data, absl::MakeSpan(tls_scratch_), &ch);
  if (r.status == ParseStatus::kNeedMore) {
    if (flow->stream.cap_hit || data.size() >= kReassemblyCap) {
      counters_.Inc(Counter::k_tcp_reasm_cap_hit);
      counters_.Inc(Anomaly::k_tls_too_large);
      Malformed(Proto::kTls, "reassembly_cap", pkt, flow, ts_us, frame_no, v);
      finish();
    } else if (in_place && !flows_.Retain(flow, data)) {
      flow->state = FlowState::kIgnored;
    }
    return;
  }
  if (r.status == ParseStatus::kMalformed) {
    // After a first ClientHello, another handshake message (a TLS 1.2
    // ClientKeyExchange) simply ends the inspection.
    if (flow->hellos == 0 || r.error != TlsMalformed::kNotClientHello) {
      counters_.Inc(r.error == TlsMalformed::kTooLarge ? Anomaly::k_tls_too_large : Anomaly::k_tls_malformed);
      Malformed(Proto::kTls, TlsMalformedName(r.error), pkt, flow, ts_us, frame_no, v);
    }
    finish();
    return;
  }
  ClassifyTls(ch, pkt, flow, ts_us, frame_no, v);
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
  flows_.Consume(flow, used);
  flow->stream.segments = 0;
  if (in_place && used < data.size()) flows_.Retain(flow, data.subspan(used));
}

Decision Pipeline::FlowDecision(const Flow* flow, Proto proto, const DecodedPacket& pkt, uint64_t ts_us,
                                uint64_t frame_no) const {
  Decision d;
  d.ts_us = ts_us;
  d.proto = proto;
  d.transport = flow->proto;
  d.src = flow->client_ip, d.dst = flow->server_ip;
  d.src_port = flow->client_port, d.dst_port = flow->server_port;
  d.flow_id = flow->id;
  d.frame = frame_no;
  d.capture = capture_;
  d.encap_depth = pkt.encap_depth;
  return d;
}

void Pipeline::ClassifyTls(const ClientHelloInfo& ch, const DecodedPacket& pkt, Flow* flow, uint64_t ts_us,
                           uint64_t frame_no, PacketVerdict* v) {
  counters_.Inc(Counter::k_tls_client_hellos);
  if (flow->stream.segments > 1) counters_.Inc(Counter::k_tls_multi_segment);
  if (ch.records > 1) counters_.Inc(Counter::k_tls_multi_record);
  if (ch.ech) counters_.Inc(Counter::k_tls_ech);
  Decision d = FlowDecision(flow, Proto::kTls, pkt, ts_us, frame_no);
  d.has_sni = ch.has_sni;
  d.alpn = ch.alpn_first;
  d.ech = ch.ech;
  d.tls_version = ch.max_version;
  d.tcp_segments = flow->stream.segments;
  d.tls_records = ch.records;
  if (!ch.has_sni) counters_.Inc(Counter::k_tls_no_sni);
  d.domain_raw = ch.sni;
  Action a = Decide(&d);
  v->action = std::max(v->action, a);
  v->decided = true;
}

void Pipeline::Malformed(Proto proto, std::string_view why, const DecodedPacket& pkt, const Flow* flow,
                         uint64_t ts_us, uint64_t frame_no, PacketVerdict* v) {
  Decision d;
  d.ts_us = ts_us;
  d.proto = proto;
  d.transport = pkt.l4_proto;
  d.src = pkt.src, d.dst = pkt.dst, d.src_port = pkt.src_port, d.dst_port = pkt.dst_port;
  d.flow_id = flow ? flow->id : 0;
  d.frame = frame_no;
  d.capture = capture_;
  d.encap_depth = pkt.encap_depth;
  d.has_sni = false;
  d.malformed = why;
  d.verdict = policy_->DecideMalformed(pkt.src);
  Record(d);
  v->action = std::max(v->action, d.verdict.action);
  v->decided = true;
}

Action Pipeline::Decide(Decision* d) {
  // A TLS handshake without server_name has no name to match: it is allowed
  // and logged as no-match (a policy for nameless handshakes is separate).
  bool named = d->proto == Proto::kDns || d->has_sni;
  DomainBuf norm;
  DomainError err = named ? NormalizeDomain(d->domain_raw, &norm) : DomainError::kEmpty;
  if (err == DomainError::kOk) {
    d->domain = norm.view();
    d->verdict = policy_->Decide(d->src, d->domain, d->ts_us);
  } else {
    // A name that cannot be a DNS name (empty, too long, bad IDN) matches
    // nothing; it is still logged as it was seen.
    if (named) counters_.Inc(Anomaly::k_name_invalid);
    d->domain = {};
    d->verdict = Verdict();
    d->verdict.reason = policy_->IsManaged(d->src) ? Reason::kNoMatch : Reason::kUnmanaged;
  }
  policy_->Refine(&d->verdict, !named, d->ech, d->proto == Proto::kDns ? d->qtype : 0);
  Record(*d);
  d->domain = {};
  return d->verdict.action;
}

void Pipeline::Record(const Decision& d) {
  if (!current_.decided || d.verdict.action > current_.action) {
    current_.decided = true;
    current_.action = d.verdict.action;
    current_.proto = d.proto;
    current_.has_app = static_cast<bool>(d.verdict.match);
    current_.app = d.verdict.match.app;
  }
  counters_.Inc(Counter::k_decisions);
  counters_.Inc(d.verdict.action == Action::kBlock ? Counter::k_decisions_block
                : d.verdict.action == Action::kLog ? Counter::k_decisions_log
                                                   : Counter::k_decisions_allow);
  size_t apps = policy_->matcher().app_count();
  if (by_app_.size() != apps + 1) by_app_.assign(apps + 1, {0, 0, 0});
  size_t slot = d.verdict.match ? d.verdict.match.app : apps;
  by_app_[slot][static_cast<size_t>(d.verdict.action)]++;
  if (sink_ && ShouldLog(d, opts_.log_mode)) {
    sink_->Write(d, *policy_);
    counters_.Inc(Counter::k_log_events_written);
  }
}

}  // namespace vigie
