#include "gateway/inspect/pipeline.h"

#include <algorithm>

#include "classifiers/dns.h"
#include "classifiers/http.h"

namespace vigie {
namespace {
constexpr uint16_t kNetbiosNsPort = 137;  // RFC 1002
constexpr uint16_t kDotPort = 853;        // DNS over TLS (RFC 7858) and over QUIC (RFC 9250)
// Bytes after which a stream that is not yet a DNS query is taken for
// something else: the 2-byte length, the 12-byte header and a question of up
// to 255 + 4 bytes.
constexpr size_t kDnsSniffBytes = 2 + 12 + 255 + 4;
}  // namespace

Pipeline::Pipeline(std::shared_ptr<const Policy> policy, DecisionSink* sink, PipelineOptions opts,
                   uint64_t flow_id_base, uint64_t flow_id_step)
    : policy_(std::move(policy)),
      opts_(opts),
      flows_(policy_->config().flows, &counters_, flow_id_base, flow_id_step),
      frags_(&counters_),
      decider_(&policy_, sink, opts.log_mode, &counters_),
      dns_(InspectEnv{&policy_, &counters_, &flows_, &decider_}),
      tls_(InspectEnv{&policy_, &counters_, &flows_, &decider_}),
      quic_(InspectEnv{&policy_, &counters_, &flows_, &decider_}),
      http_(InspectEnv{&policy_, &counters_, &flows_, &decider_}),
      alt_(InspectEnv{&policy_, &counters_, &flows_, &decider_}) {}

bool Pipeline::IsDnsPort(uint16_t port) const {
  const auto& ports = policy_->config().dns_ports;
  return std::find(ports.begin(), ports.end(), port) != ports.end();
}

Pipeline::MemoryBound Pipeline::Bound(const FlowTableOptions& opts) {
  MemoryBound m;
  m.flows = FlowTable::MemoryBound(opts);
  m.fragments = IpReassembler::MemoryBound();
  m.total = m.flows.total + m.fragments;
  return m;
}

PacketVerdict Pipeline::Process(int linktype, absl::Span<const uint8_t> frame, uint64_t ts_us,
                                uint64_t frame_no) {
  FrameDecode decoded;
  return Process(linktype, frame, ts_us, frame_no, &decoded);
}

PacketVerdict Pipeline::Process(int linktype, absl::Span<const uint8_t> frame, uint64_t ts_us, uint64_t frame_no,
                                FrameDecode* decoded) {
  counters_.Inc(Counter::k_packets);
  counters_.Inc(Counter::k_bytes, frame.size());
  decider_.BeginPacket();
  PacketVerdict v = ProcessFrame(linktype, frame, ts_us, frame_no, decoded);
  const PacketVerdict& strongest = decider_.current();
  v.proto = strongest.proto;
  v.reason = strongest.reason;
  v.has_app = strongest.has_app;
  v.app = strongest.app;
  return v;
}

PacketVerdict Pipeline::ProcessFrame(int linktype, absl::Span<const uint8_t> frame, uint64_t ts_us,
                                     uint64_t frame_no, FrameDecode* decoded) {
  PacketVerdict v;
  DecodedPacket& pkt = decoded->pkt;
  DecodeStatus st = DecodeFrame(linktype, frame, &pkt);
  decoded->status = st;
  if (pkt.note != Anomaly::kCount) counters_.Inc(pkt.note);
  if (st == DecodeStatus::kFragment) {
    ReassembledDatagram whole;
    if (!frags_.Add(pkt, ts_us, &whole)) return v;  // held (or dropped, counted)
    DecodedPacket frag = pkt;
    st = DecodeIpPayload(whole.proto, whole.payload, &pkt);
    if (st == DecodeStatus::kFragment) return v;  // fragment inside a reassembled tunnel: not followed
    if (!whole.alternate.empty() || whole.alternate_lost) {
      return HandleReadings(pkt, st, frag, whole, ts_us, frame_no);
    }
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

PacketVerdict Pipeline::HandleReadings(DecodedPacket& first, DecodeStatus st, const DecodedPacket& frag,
                                       const ReassembledDatagram& whole, uint64_t ts_us, uint64_t frame_no) {
  DecodedPacket last = frag;
  bool has_last = false;
  if (!whole.alternate.empty()) {
    has_last = DecodeIpPayload(whole.proto, whole.alternate, &last) == DecodeStatus::kOk;
  }
  if (st != DecodeStatus::kOk) {
    if (st == DecodeStatus::kMalformed) counters_.Inc(first.anomaly);
    if (!has_last) return PacketVerdict();
    // Only the last-wins reading is a packet: it is the one read.
    return Handle(last, ts_us, frame_no);
  }
  if (has_last && policy_->config().checksums != ChecksumMode::kNever) {
    // A reading whose transport checksum is wrong is dropped by the receiver
    // that would read it: only the other one is left. (Both wrong: the
    // checksums are left to Handle, offload or not.)
    bool first_ok = TransportChecksumOk(first), last_ok = TransportChecksumOk(last);
    if (first_ok != last_ok) {
      counters_.Inc(Counter::k_checksum_bad);
      if (!first_ok) first = last;
      has_last = false;
    }
  }
  if (has_last && (last.l4_proto != first.l4_proto || last.src_port != first.src_port ||
                   last.dst_port != first.dst_port)) {
    // The readings differ in their transport header: two flows, each
    // inspected as a packet of its own; the strictest verdict is the packet's.
    frag_lost_ = whole.alternate_lost;
    PacketVerdict a = Handle(first, ts_us, frame_no);
    frag_lost_ = false;
    PacketVerdict b = Handle(last, ts_us, frame_no);  // the decider keeps the strongest of both
    a.action = std::max(a.action, b.action);
    a.decided |= b.decided;
    a.flow_final = a.flow_final && b.flow_final;
    return a;
  }
  frag_alt_ = has_last ? &last : nullptr;
  frag_lost_ = whole.alternate_lost;
  PacketVerdict v = Handle(first, ts_us, frame_no);
  frag_alt_ = nullptr;
  frag_lost_ = false;
  return v;
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
  if (flow == nullptr) {
    // Refused by the source's share of flows (or a table of size 0): not
    // inspectable. Logged when the source's refusals reach a power of two, so
    // a flood is counted in full but logged in a few lines.
    const PacketContext cx{pkt, nullptr, ts_us, frame_no};
    auto it = flows_.sources().find(pkt.src);
    uint64_t hits = it != flows_.sources().end() ? it->second.quota_hits : 1;
    decider_.Uninspected(Proto::kIp, "flow_quota", cx, &v, (hits & (hits - 1)) == 0);
    return v;
  }
  if (flows_.HasEvicted()) DecideEvicted(pkt, ts_us, frame_no);
  const PacketContext cx{pkt, flow, ts_us, frame_no};
  if (flow->was_evicted) {
    flow->was_evicted = false;
    if (pkt.l4_proto == kProtoTcp && from_client && !(pkt.tcp_flags & kTcpSyn)) {
      // The rest of a connection whose hello was being read when its flow
      // was evicted: it cannot be inspected now, never a silent allow.
      decider_.Uninspected(Proto::kIp, "evicted", cx, &v);
      FinishFlow(InspectEnv{&policy_, &counters_, &flows_, &decider_}, flow, &v);
      return v;
    }
  }
  if (from_client && (flow->state == FlowState::kNew || flow->state == FlowState::kInspecting) &&
      ServerDrops(pkt, *flow)) {
    return v;  // the server never reads it: neither does Vigie (a decoy)
  }
  if (from_client && DecideDotPort(cx, &v)) return v;
  if (pkt.l4_proto == kProtoUdp) {
    bool was_decided = flow->state == FlowState::kDecided;
    if (was_decided) {
      absl::Span<const uint8_t> dcid = QuicLongHeaderDcid(pkt.payload);
      bool new_quic_dcid = flow->kind == StreamKind::kQuic && from_client &&
                           LooksLikeQuicInitial(pkt.payload) &&
                           !std::equal(dcid.begin(), dcid.end(), flow->quic_dcid, flow->quic_dcid + flow->quic_dcid_len);
      if (!new_quic_dcid) {
        if (from_client) v.action = static_cast<Action>(flow->action);
        v.flow_final = true;
        return v;
      }
    }
    if (frag_alt_ != nullptr || frag_lost_) {
      if (DecideUdpReading(cx, &v)) return v;
    } else {
      HandleUdp(cx, &v);
    }
    if (was_decided && flow->state == FlowState::kDecided) {
      // Not a new connection after all: the client's later packets to the
      // server's chosen DCID (keys still from the first one) keep the flow's verdict.
      v.action = std::max(v.action, static_cast<Action>(flow->action));
      v.flow_final = true;
    }
  } else {
    HandleTcp(cx, from_client, &v);
  }
  return v;
}

void Pipeline::DecideEvicted(const DecodedPacket& pkt, uint64_t ts_us, uint64_t frame_no) {
  // Decisions about other connections: this packet's verdict stays its own.
  const PacketVerdict saved = decider_.current();
  for (Flow& gone : flows_.TakeEvicted()) {
    PacketVerdict ignored;
    decider_.Uninspected(ProtoOfStream(gone.kind), "evicted", PacketContext{pkt, &gone, ts_us, frame_no}, &ignored);
  }
  decider_.RestoreCurrent(saved);
}

bool Pipeline::ServerDrops(const DecodedPacket& pkt, const Flow& flow) {
  ChecksumMode mode = policy_->config().checksums;
  if (mode == ChecksumMode::kNever) return false;
  if (pkt.l4_proto == kProtoTcp && pkt.payload.empty() && !(pkt.tcp_flags & kTcpSyn)) return false;
  bool ok = TransportChecksumOk(pkt);
  FlowTable::SourceUsage* use = flows_.Source(flow.client_ip);
  if (mode == ChecksumMode::kAuto && use != nullptr) {
    if (ok) {
      ++use->checksum_good;
    } else if (++use->checksum_bad, use->checksum_good == 0) {
      // Every checksum of this source so far was wrong: a capture on the
      // sending host with checksum offload, not a decoy. Read it.
      if (use->checksum_bad == 1) counters_.Inc(Counter::k_checksum_offload);
      return false;
    }
  }
  if (ok) return false;
  counters_.Inc(Counter::k_checksum_bad);
  return true;
}

bool Pipeline::DecideDotPort(const PacketContext& cx, PacketVerdict* v) {
  Flow* flow = cx.flow;
  if (flow->state != FlowState::kNew || flow->server_port != kDotPort || policy_->config().dot_action == Action::kAllow ||
      !policy_->IsManaged(flow->client_ip)) {
    return false;
  }
  Decision d = decider_.NewDecision(cx, cx.pkt.l4_proto == kProtoTcp ? Proto::kTls : Proto::kQuic, Endpoints::kFlow);
  d.has_sni = false;
  d.verdict.action = policy_->config().dot_action;
  d.verdict.reason = Reason::kPort;
  decider_.Record(d);
  flow->state = FlowState::kDecided;
  flow->action = static_cast<uint8_t>(d.verdict.action);
  v->action = d.verdict.action;
  v->decided = true;
  v->flow_final = true;
  return true;
}

void Pipeline::HandleUdp(const PacketContext& cx, PacketVerdict* v) {
  const DecodedPacket& pkt = cx.pkt;
  Flow* flow = cx.flow;
  bool dns_port = IsDnsPort(pkt.dst_port) || IsDnsPort(pkt.src_port);
  if (!dns_port) {
    bool dns = policy_->config().dns_any_port && pkt.dst_port != kNetbiosNsPort &&
               pkt.src_port != kNetbiosNsPort && LooksLikeDnsQuery(pkt.payload);
    // (NetBIOS name service, port 137, shares DNS's wire format; it is not DNS.)
    if (!dns && (flow->kind == StreamKind::kQuic || LooksLikeQuicInitial(pkt.payload))) {
      quic_.OnDatagram(cx, v);
      return;
    }
    if (!dns) {
      // No name in this datagram: the flow may still go to an ip: listed address.
      if (flow->state == FlowState::kNew && pkt.src == flow->client_ip) {
        flow->state = decider_.DecideByIp(cx, v) ? FlowState::kDecided : FlowState::kIgnored;
      }
      return;
    }
    counters_.Inc(Counter::k_dns_nonstandard_port);
  }
  dns_.OnMessage(pkt.payload, cx, v);
}

bool Pipeline::DecideUdpReading(const PacketContext& cx, PacketVerdict* v) {
  Flow* flow = cx.flow;
  constexpr std::string_view kWhat = "ip_fragment";
  // A reading Vigie cannot decide (of the client's datagrams: a reply has no
  // name to decide).
  bool open = frag_lost_ && cx.pkt.src == flow->client_ip && cx.pkt.src_port == flow->client_port;
  if (frag_alt_ != nullptr) {
    const DecodedPacket& last = *frag_alt_;
    bool dns = IsDnsPort(last.dst_port) || IsDnsPort(last.src_port) ||
               (policy_->config().dns_any_port && last.dst_port != kNetbiosNsPort &&
                last.src_port != kNetbiosNsPort && LooksLikeDnsQuery(last.payload));
    size_t n = 0;
    if (dns) {
      ParseDnsMessage(last.payload, &frag_dns_);  // questions before a bad one still count
      if (!frag_dns_.is_response && frag_dns_.opcode == 0) {
        for (; n < frag_dns_.question_count; ++n) frag_names_[n] = frag_dns_.questions[n].view();
      }
      alt_.DecideReading(cx, Proto::kDns, Endpoints::kPacket, absl::MakeConstSpan(frag_names_, n), kWhat, v);
    } else if (LooksLikeQuicInitial(last.payload)) {
      ParseStatus st = quic_.ReadHelloNames(last.payload, *flow, frag_names_, &n);
      if (st == ParseStatus::kNeedMore) {
        open = true;  // its hello goes on in other datagrams: not followed
      } else if (st == ParseStatus::kOk &&
                 alt_.DecideReading(cx, Proto::kQuic, Endpoints::kFlow, absl::MakeConstSpan(frag_names_, n), kWhat,
                                    v) == Action::kBlock) {
        FinishFlow(InspectEnv{&policy_, &counters_, &flows_, &decider_}, flow, v);
        return true;
      }
    }
  }
  HandleUdp(cx, v);
  if (open && v->action != Action::kBlock) {
    // The other reading of these conflicting fragments cannot be read: never
    // a silent allow ([inspect] uninspected).
    Proto proto = flow->kind == StreamKind::kQuic ? Proto::kQuic : Proto::kIp;
    decider_.Uninspected(proto, kWhat, cx, v);
    if (flow->kind == StreamKind::kQuic && flow->state != FlowState::kIgnored) {
      flow->action = std::max(flow->action, static_cast<uint8_t>(v->action));
      if (v->action == Action::kBlock) FinishFlow(InspectEnv{&policy_, &counters_, &flows_, &decider_}, flow, v);
    }
  }
  return false;
}

void Pipeline::HandleTcp(const PacketContext& cx, bool from_client, PacketVerdict* v) {
  const DecodedPacket& pkt = cx.pkt;
  Flow* flow = cx.flow;
  bool syn = pkt.tcp_flags & kTcpSyn;
  if (syn && !(pkt.tcp_flags & kTcpAck) && from_client && flow->stream.syn_seen &&
      pkt.tcp_seq != flow->stream.isn &&
      (flow->closed || flow->state == FlowState::kDecided || flow->state == FlowState::kIgnored)) {
    // A new connection on this 4-tuple: it is inspected afresh, never
    // inheriting the last one's decision.
    flows_.Restart(flow);
  }
  if (pkt.tcp_flags & (kTcpFin | kTcpRst)) flow->closed = true;
  if (flow->state == FlowState::kDecided || flow->state == FlowState::kIgnored) {
    if (from_client && flow->state == FlowState::kDecided) v->action = static_cast<Action>(flow->action);
    v->flow_final = true;
    return;
  }
  if (!from_client) return;
  bool in_place = false;
  SegmentMeta meta;
  meta.ttl = pkt.ip_ttl;
  meta.md5 = pkt.tcp_md5;
  meta.urgent = pkt.tcp_flags & kTcpUrg;
  meta.urgent_ptr = pkt.tcp_urgent;
  absl::Span<const uint8_t> data = flows_.AddSegment(flow, pkt.tcp_seq, syn, pkt.payload, meta, &in_place);
  if (frag_alt_ != nullptr) {
    // Its IP fragments conflicted: the last-wins reading of the segment goes
    // to the flow's alternate reading (flow.h), decided below with the rest.
    const DecodedPacket& last = *frag_alt_;
    SegmentMeta alt_meta;
    alt_meta.ttl = last.ip_ttl;
    alt_meta.md5 = last.tcp_md5;
    alt_meta.fragment_alt = true;
    bool alt_syn = last.tcp_flags & kTcpSyn;
    bool ignored = false;
    flows_.AddSegment(flow, last.tcp_seq + (alt_syn ? 1u : 0u), false, last.payload, alt_meta, &ignored);
  } else if (frag_lost_) {
    // The other reading could not be held: the alternate is lost, so a flow
    // decided without it is uninspected (AltReader::AfterDecision).
    flow->alt.why |= kAltFragment;
    flow->alt.dirty |= !flow->alt.lost;
    flow->alt.lost = true;
  }
  // The bytes the server may read instead (overlap losers, urgent byte,
  // MD5 and low-TTL segments): decided too, the strictest wins.
  bool finished = false;
  AltReader::State alt = alt_.Check(cx, v, &finished);
  if (finished) return;
  InspectStream(cx, data, in_place, v);
  alt_.AfterDecision(cx, alt, v);
}

void Pipeline::InspectStream(const PacketContext& cx, absl::Span<const uint8_t> data, bool in_place,
                             PacketVerdict* v) {
  Flow* flow = cx.flow;
  if (data.empty()) {
    if (flow->stream.no_buffer != TcpStream::NoBuffer::kNone ||
        (flow->stream.cap_hit && flow->stream.contiguous >= kReassemblyCap)) {
      // The stream cannot be held (no buffer within the pool or the source's
      // share) or filled the cap undecided: never a silent allow.
      if (flow->stream.cap_hit) counters_.Inc(Counter::k_tcp_reasm_cap_hit);
      GiveUp(InspectEnv{&policy_, &counters_, &flows_, &decider_}, ProtoOfStream(flow->kind), cx, v);
    }
    return;
  }
  flow->state = FlowState::kInspecting;
  if (flow->kind == StreamKind::kUnknown) {
    if (IsDnsPort(flow->server_port)) {
      flow->kind = StreamKind::kDnsTcp;
    } else if (data[0] == 0x16 ||
               ((data[0] == 0x15 || data[0] == 0x14) && flow->stream.syn_seen && (data.size() < 2 || data[1] == 0x03))) {
      // A TLS record, on any port: a handshake; or, at the very start of a
      // connection seen from its SYN, an alert or change_cipher_spec that
      // servers skip before the hello.
      flow->kind = StreamKind::kTls;
    } else if (HttpRequestInfo http; ParseHttpRequest(data, &http).error != HttpMalformed::kNotHttp) {
      flow->kind = StreamKind::kHttp;  // a request line (or the start of one), on any port
    } else if (ParseStatus sniff = SniffDnsTcpQuery(data); sniff == ParseStatus::kOk) {
      flow->kind = StreamKind::kDnsTcp;  // a length-prefixed DNS query, on any port
      counters_.Inc(Counter::k_dns_nonstandard_port);
    } else if (sniff == ParseStatus::kNeedMore && data.size() < kDnsSniffBytes) {
      // Too few bytes to tell a DNS query from other bytes: wait for more.
      if (in_place && !flows_.Retain(flow, data)) {
        GiveUp(InspectEnv{&policy_, &counters_, &flows_, &decider_}, Proto::kIp, cx, v);
      }
      return;
    } else {
      // Neither TLS, HTTP nor DNS: no name will be seen (e.g. Telegram's MTProto);
      // the destination address may still be listed.
      flow->state = decider_.DecideByIp(cx, v) ? FlowState::kDecided : FlowState::kIgnored;
      flow->action = static_cast<uint8_t>(v->action);
      flows_.Release(flow);
      v->flow_final = true;
      return;
    }
  }
  switch (flow->kind) {
    case StreamKind::kTls:
      tls_.OnStream(data, in_place, cx, v);
      break;
    case StreamKind::kHttp:
      http_.OnStream(data, in_place, cx, v);
      break;
    default:
      dns_.OnTcpStream(data, in_place, cx, v);
      break;
  }
}

}  // namespace vigie
