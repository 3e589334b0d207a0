#include "gateway/inspect/decider.h"

#include <algorithm>

#include "lists/domain.h"

namespace vigie {
namespace {

// Digits and dots only (IPv4), or a colon (IPv6; HTTP's brackets are already
// removed by the parser): worth parsing as an address. Names never pay the
// parse (its error status allocates).
bool LooksLikeIpLiteral(std::string_view s) {
  if (s.empty() || s.size() > 45) return false;
  if (s.find(':') != std::string_view::npos) return true;
  for (char c : s) {
    if (c != '.' && (c < '0' || c > '9')) return false;
  }
  return true;
}

}  // namespace

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

void Decider::Uninspected(Proto proto, std::string_view why, const PacketContext& cx, PacketVerdict* v,
                          bool write) {
  Decision d = NewDecision(cx, proto, cx.flow ? Endpoints::kFlow : Endpoints::kPacket);
  d.has_sni = false;
  d.malformed = why;
  d.verdict = policy().DecideUninspected(d.src);
  counters_->Inc(Counter::k_uninspected);
  Record(d, write);
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

Action Decider::StrictestAction(const Decision& d, absl::Span<const std::string_view> names) const {
  const Policy& pol = policy();
  Action best = Action::kAllow;
  for (std::string_view name : names) {
    DomainBuf norm;
    if (NormalizeDomain(name, &norm) != DomainError::kOk) continue;
    Verdict v = pol.Decide(d.src, norm.view(), d.ts_us);
    pol.Refine(&v, false, d.ech, 0);
    best = std::max(best, v.action);
  }
  return best;
}

Action Decider::DecideReadings(Decision* d, absl::Span<const std::string_view> names, std::string_view what) {
  if (names.size() <= 1) {
    if (!names.empty()) d->domain_raw = names[0];
    return Decide(d);
  }
  const Policy& pol = policy();
  // Decide each reading (no record), keep the strictest, then record it.
  size_t best = 0;
  Verdict best_v;
  bool differ = false, distinct = false;
  for (size_t i = 0; i < names.size(); ++i) {
    DomainBuf norm;
    Verdict v;
    if (NormalizeDomain(names[i], &norm) == DomainError::kOk) {
      v = pol.Decide(d->src, norm.view(), d->ts_us);
    } else {
      v.reason = pol.IsManaged(d->src) ? Reason::kNoMatch : Reason::kUnmanaged;
    }
    pol.Refine(&v, false, d->ech, d->proto == Proto::kDns ? d->qtype : 0);
    if (i == 0) {
      best_v = v;
      continue;
    }
    if (names[i] != names[0]) distinct = true;
    if (v.action != best_v.action) differ = true;
    if (v.action > best_v.action) best = i, best_v = v;
  }
  d->domain_raw = names[best];
  if (!distinct) return Decide(d);
  d->conflict = what;
  d->readings = static_cast<uint8_t>(std::min<size_t>(names.size(), 255));
  d->readings_differ = differ;
  counters_->Inc(Counter::k_conflicts);
  return Decide(d);  // normalises, decides and records the strictest reading
}

Action Decider::DecideAlternate(Decision* d, absl::Span<const std::string_view> names, std::string_view what) {
  size_t best = 0;
  Action best_a = Action::kAllow;
  for (size_t i = 0; i < names.size(); ++i) {
    Action a = StrictestAction(*d, names.subspan(i, 1));
    if (i == 0 || a > best_a) best = i, best_a = a;
  }
  if (!names.empty()) d->domain_raw = names[best];
  d->conflict = what;
  d->readings = static_cast<uint8_t>(std::min<size_t>(names.size() + 1, 255));
  d->readings_differ = true;
  counters_->Inc(Counter::k_conflicts);
  return Decide(d);
}

Action Decider::Decide(Decision* d) {
  const Policy& pol = policy();
  if (!alt_names_.empty() && d->flow_id == alt_flow_ && d->flow_id != 0) {
    // The flow's other reading (SetAlternate): the strictest of both.
    absl::Span<const std::string_view> alt = alt_names_;
    alt_names_ = {};
    Action mine = d->has_sni ? StrictestAction(*d, absl::MakeConstSpan(&d->domain_raw, 1)) : Action::kAllow;
    size_t best = 0;
    Action other = Action::kAllow;
    for (size_t i = 0; i < alt.size(); ++i) {
      Action a = StrictestAction(*d, alt.subspan(i, 1));
      if (i == 0 || a > other) best = i, other = a;
    }
    bool same = d->has_sni && alt.size() == 1 && alt[0] == d->domain_raw;
    if (!same) {
      if (other > mine) {
        d->domain_raw = alt[best];
        d->has_sni = true;
      }
      d->conflict = alt_what_;
      d->readings = static_cast<uint8_t>(std::min<size_t>(alt.size() + 1, 255));
      d->readings_differ |= other != mine;
      counters_->Inc(Counter::k_conflicts);
    }
  }
  // A TLS handshake without server_name has no name to match: it is allowed
  // and logged as no-match (a policy for nameless handshakes is separate).
  bool named = d->proto == Proto::kDns || d->has_sni;
  IpAddress literal;
  if (named && d->proto == Proto::kHttp && LooksLikeIpLiteral(d->domain_raw)) {
    // An HTTP Host that is an address (Netflix's Open Connect caches are
    // reached so): the ip: rules decide, as for a nameless flow.
    if (auto ip = IpAddress::Parse(d->domain_raw); ip.ok()) literal = *ip;
  }
  DomainBuf norm;
  DomainError err = named ? NormalizeDomain(d->domain_raw, &norm) : DomainError::kEmpty;
  if (literal.family != 0) {
    d->domain = d->domain_raw;
    d->verdict = pol.DecideIp(d->src, literal, d->ts_us);
    if (!d->verdict.match) d->verdict.reason = pol.IsManaged(d->src) ? Reason::kNoMatch : Reason::kUnmanaged;
  } else if (err == DomainError::kOk) {
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
  if (d->readings_differ) d->verdict.reason = Reason::kConflict;
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

void Decider::Record(const Decision& d, bool write) {
  if (!current_.decided || d.verdict.action > current_.action) {
    current_.decided = true;
    current_.action = d.verdict.action;
    current_.proto = d.proto;
    current_.reason = d.verdict.reason;
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
  if (write && sink_ && ShouldLog(d, log_mode_)) {
    sink_->Write(d, pol);
    counters_->Inc(Counter::k_log_events);
  }
}

}  // namespace vigie
