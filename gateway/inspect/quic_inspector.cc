#include "gateway/inspect/quic_inspector.h"

#include <algorithm>

#include "gateway/inspect/tls_inspector.h"

namespace vigie {

void QuicInspector::OnDatagram(const PacketContext& cx, PacketVerdict* v) {
  const DecodedPacket& pkt = cx.pkt;
  Flow* flow = cx.flow;
  FlowTable& flows = *env_.flows;
  Counters& counters = *env_.counters;
  if (pkt.src != flow->client_ip || pkt.src_port != flow->client_port) {
    // The server's Initial, unless it decrypts with its own DCID's keys: then
    // this side is the client (the flow was guessed by ports).
    if (flow->kind == StreamKind::kQuic) return;
    QuicInitialInfo probe;
    if (quic_.DecryptInitial(pkt.payload, absl::MakeSpan(plain_), &probe).status != ParseStatus::kOk) return;
    flows.TurnRound(flow);
  }
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
    flows.Release(flow);
  };
  auto restart = [&](absl::Span<const uint8_t> dcid) {
    // A new ClientHello on this 5-tuple: after a Retry, or the first Initial.
    flows.Release(flow);
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
    absl::Span<const uint8_t> dcid = QuicLongHeaderDcid(rest);
    absl::Span<const uint8_t> key(flow->quic_dcid, flow->quic_dcid_len);
    QuicParseResult r;
    if (flow->quic_dcid_len == 0 || std::equal(dcid.begin(), dcid.end(), key.begin(), key.end())) {
      r = quic_.DecryptInitial(rest, absl::MakeSpan(plain_), &info);
      if (r.status == ParseStatus::kOk && flow->quic_dcid_len == 0) restart(dcid);
    } else {
      // Another DCID. Keys from its own DCID: a new connection attempt (after a
      // Retry); else keys from the first DCID: the same ClientHello going on,
      // addressed to the server's chosen connection ID.
      r = quic_.DecryptInitial(rest, absl::MakeSpan(plain_), &info);
      if (r.status == ParseStatus::kOk) {
        restart(dcid);
      } else if (flow->state == FlowState::kDecided) {
        return;
      } else {
        r = quic_.DecryptInitial(rest, absl::MakeSpan(plain_), &info, key);
      }
    }
    if (r.status != ParseStatus::kOk) {
      if (r.error == QuicMalformed::kNotInitial && info.packet_length > 0 && info.packet_length <= rest.size()) {
        rest = rest.subspan(info.packet_length);  // 0-RTT or Handshake coalesced with it
        continue;
      }
      if (r.error != QuicMalformed::kNotLongHeader) counters.Inc(Anomaly::k_quic_undecryptable);
      return;
    }
    if (flow->state == FlowState::kDecided) return;  // a retransmitted Initial
    counters.Inc(Counter::k_quic_initials);
    if (info.crypto_frames_capped) counters.Inc(Counter::k_quic_crypto_capped);
    for (uint8_t i = 0; i < info.crypto_count; ++i) {
      const QuicCryptoFrame& cf = info.crypto[i];
      if (cf.offset + cf.data.size() > kMaxQuicCryptoBytes) {  // beyond the ClientHello cap
        counters.Inc(Counter::k_quic_crypto_capped);
        continue;
      }
      bool in_place = false;
      absl::Span<const uint8_t> data =
          flows.AddSegment(flow, static_cast<uint32_t>(cf.offset), false, cf.data, &in_place);
      if (data.empty()) continue;
      ClientHelloInfo ch;
      TlsParseResult tr = ParseClientHelloHandshake(data, &ch);
      if (tr.status == ParseStatus::kOk) {
        DecideClientHello(ch, Proto::kQuic, cx, env_, v);
        finish();
        return;
      }
      if (tr.status == ParseStatus::kMalformed) {
        counters.Inc(tr.error == TlsMalformed::kTooLarge ? Anomaly::k_tls_too_large : Anomaly::k_tls_malformed);
        env_.decider->Malformed(Proto::kQuic, TlsMalformedName(tr.error), cx, v);
        finish();
        return;
      }
      if (in_place && !flows.Retain(flow, data)) {
        GiveUp(env_, Proto::kQuic, cx, v);
        return;
      }
    }
    if (info.packet_length == 0 || info.packet_length > rest.size()) break;
    rest = rest.subspan(info.packet_length);
  }
}

ParseStatus QuicInspector::ReadHelloNames(absl::Span<const uint8_t> datagram, const Flow& flow,
                                          std::string_view* names, size_t* n) {
  *n = 0;
  if (alt_plain_.empty()) {
    alt_plain_.resize(kMaxQuicDatagram);
    alt_crypto_.resize(kMaxQuicCryptoBytes);
  }
  QuicCryptoAssembler crypto(absl::MakeSpan(alt_crypto_));
  absl::Span<const uint8_t> key(flow.quic_dcid, flow.quic_dcid_len);
  bool any = false;
  absl::Span<const uint8_t> rest = datagram;
  while (!rest.empty()) {
    QuicInitialInfo info;
    QuicParseResult r = quic_.DecryptInitial(rest, absl::MakeSpan(alt_plain_), &info, key);
    if (r.status != ParseStatus::kOk) {
      if (r.error == QuicMalformed::kNotInitial && info.packet_length > 0 && info.packet_length <= rest.size()) {
        rest = rest.subspan(info.packet_length);
        continue;
      }
      break;
    }
    any = true;
    for (uint8_t i = 0; i < info.crypto_count; ++i) crypto.Add(info.crypto[i].offset, info.crypto[i].data);
    if (info.packet_length == 0 || info.packet_length > rest.size()) break;
    rest = rest.subspan(info.packet_length);
  }
  if (!any) return ParseStatus::kMalformed;
  ClientHelloInfo ch;
  ParseStatus st = ParseClientHelloHandshake(crypto.contiguous(), &ch).status;
  if (st != ParseStatus::kOk) return st;
  if (!ch.has_sni) return ParseStatus::kOk;
  for (; *n < ch.sni_count; ++*n) names[*n] = ch.sni_names[*n];
  if (*n == 0) names[(*n)++] = ch.sni;
  return ParseStatus::kOk;
}

}  // namespace vigie
