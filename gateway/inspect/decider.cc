#include "gateway/inspect/decider.h"

#include <algorithm>

#include "lists/domain.h"

namespace vigie {

Decision Decider::NewDecision(const PacketContext& cx, Proto proto, Endpoints e) const {
  Decision d;
  d.ts_us = cx.ts_us;
  d.proto = proto;
  if (e == Endpoints::kFlow) {
    const Flow* f = cx.flow;
    d.transport = f->proto;
    d.src = f->client_ip, d.dst = f->server_ip;
    d.src_port = f->client_port, d.dst_port = f->server_port;
  } else {
    const DecodedPacket& p = cx.pkt;
    d.transport = p.l4_proto;
    d.src = p.src, d.dst = p.dst, d.src_port = p.src_port, d.dst_port = p.dst_port;
  }
  d.flow_id = cx.flow ? cx.flow->id : 0;
  d.frame = cx.frame_no;
  d.capture = capture_;
  d.encap_depth = cx.pkt.encap_depth;
  return d;
}

void Decider::Malformed(Proto proto, std::string_view why, const PacketContext& cx, PacketVerdict* v) {
  Decision d = NewDecision(cx, proto, Endpoints::kPacket);
  d.has_sni = false;
  d.malformed = why;
  d.verdict = policy().DecideMalformed(cx.pkt.src);
  Record(d);
  v->action = std::max(v->action, d.verdict.action);
  v->decided = true;
}

bool Decider::DecideByIp(const PacketContext& cx, PacketVerdict* v) {
  const Policy& pol = policy();
  if (pol.ip_matcher().size() == 0) return false;
  Flow* flow = cx.flow;
  Verdict verdict = pol.DecideIp(flow->client_ip, flow->server_ip, cx.ts_us);
  if (!verdict.match) return false;
  Decision d = NewDecision(cx, Proto::kIp, Endpoints::kFlow);
  d.has_sni = false;
  d.verdict = verdict;
  Record(d);
  v->action = std::max(v->action, verdict.action);
  v->decided = true;
  v->flow_final = true;
  flow->action = static_cast<uint8_t>(v->action);
  return true;
}

Action Decider::Decide(Decision* d) {
  const Policy& pol = policy();
  // A TLS handshake without server_name has no name to match: it is allowed
  // and logged as no-match (a policy for nameless handshakes is separate).
  bool named = d->proto == Proto::kDns || d->has_sni;
  DomainBuf norm;
  DomainError err = named ? NormalizeDomain(d->domain_raw, &norm) : DomainError::kEmpty;
  if (err == DomainError::kOk) {
    d->domain = norm.view();
    d->verdict = pol.Decide(d->src, d->domain, d->ts_us);
  } else if (!named) {
    d->domain = {};
    d->verdict = pol.DecideIp(d->src, d->dst, d->ts_us);  // no name: the address may be listed
  } else {
    // A name that cannot be a DNS name (empty, too long, bad IDN) matches
    // nothing; it is still logged as it was seen.
    counters_->Inc(Anomaly::k_name_invalid);
    d->domain = {};
    d->verdict = Verdict();
    d->verdict.reason = pol.IsManaged(d->src) ? Reason::kNoMatch : Reason::kUnmanaged;
  }
  pol.Refine(&d->verdict, !named, d->ech, d->proto == Proto::kDns ? d->qtype : 0);
  Record(*d);
  d->domain = {};
  return d->verdict.action;
}

void Decider::Record(const Decision& d) {
  if (!current_.decided || d.verdict.action > current_.action) {
    current_.decided = true;
    current_.action = d.verdict.action;
    current_.proto = d.proto;
    current_.has_app = static_cast<bool>(d.verdict.match);
    current_.app = d.verdict.match.app;
  }
  counters_->Inc(Counter::k_decisions);
  counters_->Inc(d.verdict.action == Action::kBlock ? Counter::k_decisions_block
                 : d.verdict.action == Action::kLog ? Counter::k_decisions_log
                                                    : Counter::k_decisions_allow);
  const Policy& pol = policy();
  size_t apps = pol.matcher().app_count();
  if (by_app_.size() != apps + 1) by_app_.assign(apps + 1, {0, 0, 0});
  size_t slot = d.verdict.match ? d.verdict.match.app : apps;
  by_app_[slot][static_cast<size_t>(d.verdict.action)]++;
  if (sink_ && ShouldLog(d, log_mode_)) {
    sink_->Write(d, pol);
    counters_->Inc(Counter::k_log_events_written);
  }
}

}  // namespace vigie
