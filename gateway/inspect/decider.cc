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

void Decider::Rekey() {
  const Matcher& m = policy().matcher();
  const size_t apps = m.app_count();
  std::vector<std::array<uint64_t, 3>> fresh(apps + 1, {0, 0, 0});
  const auto add = [](std::array<uint64_t, 3>* to, const std::array<uint64_t, 3>& from) {
    for (size_t j = 0; j < 3; ++j) (*to)[j] += from[j];
  };
  if (by_app_policy_ != nullptr && !by_app_.empty()) {
    const Matcher& old = by_app_policy_->matcher();
    for (size_t i = 0; i + 1 < by_app_.size(); ++i) {
      const std::string& name = old.app_name(static_cast<AppId>(i));
      AppId id;
      if (m.FindApp(name, &id)) {
        add(&fresh[id], by_app_[i]);
        continue;
      }
      auto it = std::find_if(retired_.begin(), retired_.end(), [&](const AppDecisions& r) { return r.app == name; });
      if (it == retired_.end()) it = retired_.insert(retired_.end(), AppDecisions{name, {0, 0, 0}});
      add(&it->n, by_app_[i]);
    }
    add(&fresh[apps], by_app_.back());  // no app
  }
  for (auto it = retired_.begin(); it != retired_.end();) {  // apps loaded again
    AppId id;
    if (m.FindApp(it->app, &id)) {
      add(&fresh[id], it->n);
      it = retired_.erase(it);
    } else {
      ++it;
    }
  }
  by_app_ = std::move(fresh);
  by_app_policy_ = *policy_;
}

std::vector<AppDecisions> Decider::by_app_name() const {
  std::vector<AppDecisions> out;
  if (by_app_policy_ != nullptr) {
    const Matcher& m = by_app_policy_->matcher();
    for (size_t i = 0; i < by_app_.size(); ++i) {
      const bool no_app = i + 1 == by_app_.size();
      out.push_back({no_app ? std::string() : m.app_name(static_cast<AppId>(i)), by_app_[i]});
    }
  }
  out.insert(out.end(), retired_.begin(), retired_.end());
  return out;
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
  if (by_app_policy_.get() != &pol) Rekey();
  size_t apps = pol.matcher().app_count();
  size_t slot = d.verdict.match ? d.verdict.match.app : apps;
  by_app_[slot][static_cast<size_t>(d.verdict.action)]++;
  if (sink_ && ShouldLog(d, log_mode_)) {
    sink_->Write(d, pol);
    counters_->Inc(Counter::k_log_events_written);
  }
}

}  // namespace vigie
