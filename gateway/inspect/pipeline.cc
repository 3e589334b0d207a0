#include "gateway/inspect/pipeline.h"

#include <algorithm>

#include "classifiers/dns.h"
#include "classifiers/http.h"
#include "classifiers/quic.h"
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
      tls_scratch_(kMaxClientHelloBytes),
      quic_plain_(kMaxQuicDatagram) {}

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
    bool was_decided = flow->state == FlowState::kDecided;
    if (was_decided) {
      absl::Span<const uint8_t> dcid = QuicDcid(pkt.payload);
      bool new_quic_dcid = flow->kind == StreamKind::kQuic && from_client && LooksLikeQuicInitial(pkt.payload) &&
                           !std::equal(dcid.begin(), dcid.end(), flow->quic_dcid, flow->quic_dcid + flow->quic_dcid_len);
      if (!new_quic_dcid) {
        if (from_client) v.action = static_cast<Action>(flow->action);
        v.flow_final = true;
        return v;
      }
    }
    HandleUdp(pkt, flow, ts_us, frame_no, &v);
    if (was_decided && flow->state == FlowState::kDecided) {
      // Not a new connection after all: the client's later packets to the
      // server's chosen DCID (keys still from the first one) keep the flow's verdict.
      v.action = std::max(v.action, static_cast<Action>(flow->action));
      v.flow_final = true;
    }
  } else {
    HandleTcp(pkt, flow, from_client, ts_us, frame_no, &v);
  }
  return v;
}

void Pipeline::HandleUdp(const DecodedPacket& pkt, Flow* flow, uint64_t ts_us, uint64_t frame_no,
                         PacketVerdict* v) {
  bool dns_port = IsDnsPort(pkt.dst_port) || IsDnsPort(pkt.src_port);
  if (!dns_port) {
    bool dns = policy_->config().dns_any_port && pkt.dst_port != kNetbiosNsPort &&
               pkt.src_port != kNetbiosNsPort && LooksLikeDnsQuery(pkt.payload);
    // (NetBIOS name service, port 137, shares DNS's wire format; it is not DNS.)
    if (!dns && (flow->kind == StreamKind::kQuic || LooksLikeQuicInitial(pkt.payload))) {
      InspectQuic(pkt, flow, ts_us, frame_no, v);
      return;
    }
    if (!dns) {
      // No name in this datagram: the flow may still go to an ip: listed address.
      if (flow->state == FlowState::kNew && pkt.src == flow->client_ip) {
        flow->state = DecideByIp(pkt, flow, ts_us, frame_no, v) ? FlowState::kDecided : FlowState::kIgnored;
      }
      return;
    }
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
    } else if (HttpRequestInfo http; ParseHttpRequest(data, &http).error != HttpMalformed::kNotHttp) {
      flow->kind = StreamKind::kHttp;  // a request line (or the start of one), on any port
    } else {
      // Neither TLS, HTTP nor DNS: no name will be seen (e.g. Telegram's MTProto);
      // the destination address may still be listed.
      flow->state = DecideByIp(pkt, flow, ts_us, frame_no, v) ? FlowState::kDecided : FlowState::kIgnored;
      flow->action = static_cast<uint8_t>(v->action);
      flows_.Release(flow);
      v->flow_final = true;
      return;
    }
  }

  if (flow->kind == StreamKind::kTls) {
    InspectTls(data, in_place, pkt, flow, ts_us, frame_no, v);
    return;
  }
  if (flow->kind == StreamKind::kHttp) {
    InspectHttp(data, in_place, pkt, flow, ts_us, frame_no, v);
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
  ClassifyTls(ch, Proto::kTls, pkt, flow, ts_us, frame_no, v);
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

void Pipeline::InspectHttp(absl::Span<const uint8_t> data, bool in_place, const DecodedPacket& pkt, Flow* flow,
                           uint64_t ts_us, uint64_t frame_no, PacketVerdict* v) {
  HttpRequestInfo http;
  HttpParseResult r = ParseHttpRequest(data, &http);
  if (r.status == ParseStatus::kNeedMore) {
    if (in_place && !flows_.Retain(flow, data)) flow->state = FlowState::kIgnored;
    return;
  }
  // The first request of the connection decides it (later requests on a
  // kept-alive connection are not inspected).
  Decision d = FlowDecision(flow, Proto::kHttp, pkt, ts_us, frame_no);
  if (r.status == ParseStatus::kMalformed && http.host.empty()) {
    counters_.Inc(Anomaly::k_http_malformed);
    if (r.error == HttpMalformed::kNoHost) {
      d.has_sni = false;  // a request without a name: ip: rules and the no_sni policy
      counters_.Inc(Counter::k_http_requests);
      Decide(&d);
      v->action = std::max(v->action, d.verdict.action);
      v->decided = true;
    } else {
      Malformed(Proto::kHttp, HttpMalformedName(r.error), pkt, flow, ts_us, frame_no, v);
    }
  } else {
    // A duplicate Host (a smuggling attempt) still decides on the first one.
    if (r.status == ParseStatus::kMalformed) {
      counters_.Inc(Anomaly::k_http_malformed);
      d.malformed = HttpMalformedName(r.error);
    }
    counters_.Inc(Counter::k_http_requests);
    d.domain_raw = http.host;
    Decide(&d);
    v->action = std::max(v->action, d.verdict.action);
    v->decided = true;
  }
  flow->state = FlowState::kDecided;
  flow->action = std::max(flow->action, static_cast<uint8_t>(v->action));
  v->flow_final = true;
  flows_.Release(flow);
}

absl::Span<const uint8_t> Pipeline::QuicDcid(absl::Span<const uint8_t> p) {
  // RFC 9000 §17.2: flags(1) version(4) dcid_len(1) dcid.
  if (p.size() < 6 || p[5] > 20 || p.size() < 6u + p[5]) return {};
  return p.subspan(6, p[5]);
}

bool Pipeline::LooksLikeQuicInitial(absl::Span<const uint8_t> p) {
  // RFC 9000 §17.2: long header form and fixed bit, then a version we can decrypt.
  if (p.size() < 7 || (p[0] & 0xC0) != 0xC0) return false;
  uint32_t version = (uint32_t{p[1]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 8) | p[4];
  return IsQuicVersionSupported(version);
}

void Pipeline::InspectQuic(const DecodedPacket& pkt, Flow* flow, uint64_t ts_us, uint64_t frame_no,
                           PacketVerdict* v) {
  if (pkt.src != flow->client_ip || pkt.src_port != flow->client_port) return;  // server's Initial
  if (flow->kind != StreamKind::kQuic) {
    // CRYPTO data is a byte stream by offset: the TCP reassembly serves it,
    // with offset 0 fixed (no SYN to wait for).
    flow->kind = StreamKind::kQuic;
    flow->state = FlowState::kInspecting;
    TcpStream& s = flow->stream;
    s.has_base = s.syn_seen = s.base_fixed = true;
    s.base_seq = 0;
  }
  auto finish = [&] {
    flow->state = FlowState::kDecided;
    flow->action = std::max(flow->action, static_cast<uint8_t>(v->action));
    v->flow_final = true;
    flows_.Release(flow);
  };
  auto restart = [&](absl::Span<const uint8_t> dcid) {
    // A new ClientHello on this 5-tuple: after a Retry, or the first Initial.
    flows_.Release(flow);
    TcpStream& s = flow->stream;
    s = TcpStream();
    s.has_base = s.syn_seen = s.base_fixed = true;
    flow->state = FlowState::kInspecting;
    flow->quic_dcid_len = static_cast<uint8_t>(dcid.size());
    std::copy(dcid.begin(), dcid.end(), flow->quic_dcid);
  };
  absl::Span<const uint8_t> rest = pkt.payload;
  while (!rest.empty()) {
    QuicInitialInfo info;
    absl::Span<const uint8_t> dcid = QuicDcid(rest);
    absl::Span<const uint8_t> key(flow->quic_dcid, flow->quic_dcid_len);
    QuicParseResult r;
    if (flow->quic_dcid_len == 0 || std::equal(dcid.begin(), dcid.end(), key.begin(), key.end())) {
      r = quic_.DecryptInitial(rest, absl::MakeSpan(quic_plain_), &info);
      if (r.status == ParseStatus::kOk && flow->quic_dcid_len == 0) restart(dcid);
    } else {
      // Another DCID. Keys from its own DCID: a new connection attempt (after a
      // Retry); else keys from the first DCID: the same ClientHello going on,
      // addressed to the server's chosen connection ID.
      r = quic_.DecryptInitial(rest, absl::MakeSpan(quic_plain_), &info);
      if (r.status == ParseStatus::kOk) {
        restart(dcid);
      } else if (flow->state == FlowState::kDecided) {
        return;
      } else {
        r = quic_.DecryptInitial(rest, absl::MakeSpan(quic_plain_), &info, key);
      }
    }
    if (r.status != ParseStatus::kOk) {
      if (r.error == QuicMalformed::kNotInitial && info.packet_length > 0 && info.packet_length <= rest.size()) {
        rest = rest.subspan(info.packet_length);  // 0-RTT or Handshake coalesced with it
        continue;
      }
      if (r.error != QuicMalformed::kNotLongHeader) counters_.Inc(Anomaly::k_quic_undecryptable);
      return;
    }
    if (flow->state == FlowState::kDecided) return;  // a retransmitted Initial
    counters_.Inc(Counter::k_quic_initials);
    if (info.crypto_frames_capped) counters_.Inc(Counter::k_quic_crypto_capped);
    for (uint8_t i = 0; i < info.crypto_count; ++i) {
      const QuicCryptoFrame& cf = info.crypto[i];
      if (cf.offset + cf.data.size() > kMaxQuicCryptoBytes) {  // beyond the ClientHello cap
        counters_.Inc(Counter::k_quic_crypto_capped);
        continue;
      }
      bool in_place = false;
      absl::Span<const uint8_t> data =
          flows_.AddSegment(flow, static_cast<uint32_t>(cf.offset), false, cf.data, &in_place);
      if (data.empty()) continue;
      ClientHelloInfo ch;
      TlsParseResult tr = ParseClientHelloHandshake(data, &ch);
      if (tr.status == ParseStatus::kOk) {
        ClassifyTls(ch, Proto::kQuic, pkt, flow, ts_us, frame_no, v);
        finish();
        return;
      }
      if (tr.status == ParseStatus::kMalformed) {
        counters_.Inc(tr.error == TlsMalformed::kTooLarge ? Anomaly::k_tls_too_large : Anomaly::k_tls_malformed);
        Malformed(Proto::kQuic, TlsMalformedName(tr.error), pkt, flow, ts_us, frame_no, v);
        finish();
        return;
      }
      if (in_place && !flows_.Retain(flow, data)) {
        flow->state = FlowState::kIgnored;
        return;
      }
    }
    if (info.packet_length == 0 || info.packet_length > rest.size()) break;
    rest = rest.subspan(info.packet_length);
  }
}

bool Pipeline::DecideByIp(const DecodedPacket& pkt, Flow* flow, uint64_t ts_us, uint64_t frame_no,
                          PacketVerdict* v) {
  if (policy_->ip_matcher().size() == 0) return false;
  Verdict verdict = policy_->DecideIp(flow->client_ip, flow->server_ip, ts_us);
  if (!verdict.match) return false;
  Decision d = FlowDecision(flow, Proto::kIp, pkt, ts_us, frame_no);
  d.has_sni = false;
  d.verdict = verdict;
  Record(d);
  v->action = std::max(v->action, verdict.action);
  v->decided = true;
  v->flow_final = true;
  flow->action = static_cast<uint8_t>(v->action);
  return true;
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

void Pipeline::ClassifyTls(const ClientHelloInfo& ch, Proto proto, const DecodedPacket& pkt, Flow* flow,
                           uint64_t ts_us, uint64_t frame_no, PacketVerdict* v) {
  counters_.Inc(proto == Proto::kQuic ? Counter::k_quic_client_hellos : Counter::k_tls_client_hellos);
  if (flow->stream.segments > 1) {
    counters_.Inc(proto == Proto::kQuic ? Counter::k_quic_multi_crypto : Counter::k_tls_multi_segment);
  }
  if (ch.records > 1) counters_.Inc(Counter::k_tls_multi_record);
  if (ch.ech) counters_.Inc(Counter::k_tls_ech);
  Decision d = FlowDecision(flow, proto, pkt, ts_us, frame_no);
  d.has_sni = ch.has_sni;
  d.alpn = ch.alpn_first;
  d.ech = ch.ech;
  d.tls_version = ch.max_version;
  (proto == Proto::kQuic ? d.crypto_frames : d.tcp_segments) = flow->stream.segments;
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
  } else if (!named) {
    d->domain = {};
    d->verdict = policy_->DecideIp(d->src, d->dst, d->ts_us);  // no name: the address may be listed
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
