#include "gateway/policy/explain.h"

#include <algorithm>

#include "lists/domain.h"

namespace vigie {

Explanation Explain(const Policy& policy, const IpAddress& src, std::string_view name, ExplainProto proto,
                    uint64_t now_us) {
  const Config& c = policy.config();
  Explanation e;
  e.input = std::string(name);
  e.src = src;
  e.managed = policy.IsManaged(src);
  int best_len = -1;
  for (const std::string& text : c.managed_text) {
    auto cidr = Cidr::Parse(text);
    if (cidr.ok() && cidr->Contains(src) && cidr->prefix > best_len) {
      best_len = cidr->prefix;
      e.managed_prefix = text;
    }
  }
  DomainBuf norm;
  const DomainError err = NormalizeDomain(name, &norm);
  if (err != DomainError::kOk) {
    e.name_error = std::string(DomainErrorName(err));
    e.verdict.reason = e.managed ? Reason::kNoMatch : Reason::kUnmanaged;  // as the Decider does
    return e;
  }
  e.name = std::string(norm.view());
  const Matcher& m = policy.matcher();
  e.candidates = m.MatchAll(e.name);
  e.winner = m.Match(e.name);
  if (e.winner) {
    const std::string& app = m.app_name(e.winner.app);
    for (const PolicyRule& p : c.policies) {  // first matching [[policy]] wins
      if (std::find(p.apps.begin(), p.apps.end(), app) != p.apps.end()) {
        e.policy = &p;
        break;
      }
    }
    e.app_action = policy.app_action(e.winner.app);
    for (const ExceptionRule& x : c.exceptions) {
      ExplainException ex;
      ex.rule = &x;
      ex.covers_app = x.apps.empty() || std::find(x.apps.begin(), x.apps.end(), app) != x.apps.end();
      if (!ex.covers_app) continue;
      ex.covers_device = x.devices.empty() || x.devices.Contains(src);
      ex.expired = x.until_us && now_us >= *x.until_us;
      ex.relaxes = x.action < e.app_action;
      e.exceptions.push_back(ex);
    }
  }
  e.verdict = policy.Decide(src, e.name, now_us);
  constexpr uint16_t kQtypeA = 1;
  policy.Refine(&e.verdict, /*nameless=*/false, /*ech=*/false, proto == ExplainProto::kDns ? kQtypeA : 0);
  for (ExplainException& ex : e.exceptions) ex.applied = ex.rule == e.verdict.exception;
  return e;
}

}  // namespace vigie
