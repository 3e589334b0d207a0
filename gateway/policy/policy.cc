#include "gateway/policy/policy.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gateway/base/absl_compat.h"
#include "lists/list_loader.h"

namespace vigie {

std::string_view ReasonName(Reason r) {
  switch (r) {
    case Reason::kList: return "list";
    case Reason::kException: return "exception";
    case Reason::kAllowlist: return "allowlist";
    case Reason::kNoMatch: return "no-match";
    case Reason::kUnmanaged: return "unmanaged";
    case Reason::kMalformed: return "malformed";
    case Reason::kIp: return "ip";
    case Reason::kEch: return "ech";
    case Reason::kNoSni: return "no-sni";
    case Reason::kPort: return "port";
    case Reason::kSvcb: return "svcb";
    case Reason::kUninspected: return "uninspected";
    case Reason::kConflict: return "conflict";
  }
  return "?";
}

absl::StatusOr<std::shared_ptr<const Policy>> Policy::Build(Config config) {
  // First matching policy wins: record each app's first action.
  absl::flat_hash_map<std::string, std::pair<Action, uint32_t>> first;
  for (const PolicyRule& p : config.policies) {
    for (const std::string& app : p.apps) first.emplace(app, std::make_pair(p.action, p.line));
  }
  auto lists = LoadListDir(config.lists_dir, [&](std::string_view app) {
    auto it = first.find(AV(app));
    return it != first.end() && it->second.first == Action::kAllow;
  });
  if (!lists.ok()) {
    // A list file names its own file:line; a missing directory is the config's fault.
    if (absl::IsNotFound(lists.status())) {
      return absl::NotFoundError(absl::StrCat(config.path, ":", config.lists_dir_line, ": [lists] dir: ",
                                              lists.status().message()));
    }
    return lists.status();
  }
  auto ip_matcher = IpMatcher::Build(*lists);
  if (!ip_matcher.ok()) return ip_matcher.status();
  auto matcher = Matcher::Build(*std::move(lists));
  if (!matcher.ok()) return matcher.status();

  std::shared_ptr<Policy> p(new Policy());
  p->matcher_ = *std::move(matcher);
  p->ip_matcher_ = *std::move(ip_matcher);
  const Matcher& m = *p->matcher_;
  p->app_action_.assign(m.app_count(), Action::kAllow);
  p->app_has_policy_.assign(m.app_count(), false);
  for (const auto& [app, action_line] : first) {
    AppId id;
    if (!m.FindApp(app, &id)) {
      return absl::InvalidArgumentError(absl::StrCat(config.path, ":", action_line.second, ": policy names app '",
                                                     app, "' but ", config.lists_dir, " has no ", app,
                                                     ".list"));
    }
    p->app_action_[id] = action_line.first;
    p->app_has_policy_[id] = true;
  }
  for (size_t id = 0; id < m.app_count(); ++id) {
    if (p->app_has_policy_[id]) continue;
    // Its rules would still win as the most specific match and allow the
    // names they cover, un-blocking them: refuse it.
    return absl::InvalidArgumentError(absl::StrCat(
        config.path, ":", config.lists_dir_line, ": [lists] dir: ", m.app_name(static_cast<AppId>(id)),
        ".list is in no [[policy]]: add the app to a [[policy]] (action block, log or allow) or remove the file"));
  }
  for (const ExceptionRule& x : config.exceptions) {
    std::vector<AppId> ids;
    for (const std::string& app : x.apps) {
      AppId id;
      if (!m.FindApp(app, &id)) {
        return absl::InvalidArgumentError(absl::StrCat(config.path, ":", x.line, ": exception '", x.id,
                                                       "' names app '", app, "' but ", config.lists_dir,
                                                       " has no ", app, ".list"));
      }
      ids.push_back(id);
    }
    p->exception_apps_.push_back(std::move(ids));
  }
  p->config_ = std::move(config);
  return std::shared_ptr<const Policy>(std::move(p));
}

Verdict Policy::Decide(const IpAddress& src, std::string_view domain, uint64_t now_us) const {
  return FromMatch(src, matcher_->Match(domain), Reason::kList, now_us);
}

Verdict Policy::DecideIp(const IpAddress& src, const IpAddress& dst, uint64_t now_us) const {
  Verdict v = FromMatch(src, ip_matcher_.Match(dst), Reason::kIp, now_us);
  return v;
}

Verdict Policy::FromMatch(const IpAddress& src, RuleMatch match, Reason list_reason, uint64_t now_us) const {
  Verdict v;
  v.match = match;
  if (!config_.managed.Contains(src)) {
    v.action = Action::kAllow;
    v.reason = Reason::kUnmanaged;
    return v;
  }
  if (!v.match) {
    v.action = Action::kAllow;
    v.reason = Reason::kNoMatch;
    return v;
  }
  AppId app = v.match.app;
  Action action = app_action_[app];
  if (v.match.allow) {
    v.action = Action::kAllow;
    v.reason = Reason::kAllowlist;
    return v;
  }
  v.action = action;
  v.reason = list_reason;
  if (action == Action::kAllow) return v;
  for (size_t i = 0; i < config_.exceptions.size(); ++i) {
    const ExceptionRule& x = config_.exceptions[i];
    if (x.until_us && now_us >= *x.until_us) continue;
    if (!x.devices.empty() && !x.devices.Contains(src)) continue;
    const auto& apps = exception_apps_[i];
    if (!apps.empty() && std::find(apps.begin(), apps.end(), app) == apps.end()) continue;
    if (x.action >= action) continue;  // an exception only relaxes
    v.action = x.action;
    v.reason = Reason::kException;
    v.exception = &x;
    return v;
  }
  return v;
}

Verdict Policy::DecideName(std::string_view domain) const {
  Verdict v;
  v.match = matcher_->Match(domain);
  if (!v.match) return v;
  if (v.match.allow) {
    v.reason = Reason::kAllowlist;
    return v;
  }
  v.action = app_action_[v.match.app];
  v.reason = Reason::kList;
  return v;
}

void Policy::Refine(Verdict* v, bool nameless, bool ech, uint16_t qtype) const {
  if (v->reason == Reason::kUnmanaged || v->reason == Reason::kAllowlist || v->reason == Reason::kException) return;
  if (nameless && v->reason == Reason::kNoMatch && config_.no_sni_action != Action::kAllow) {
    v->action = config_.no_sni_action;
    v->reason = Reason::kNoSni;
  }
  if (ech && config_.ech_action > v->action) {
    v->action = config_.ech_action;
    v->reason = Reason::kEch;
  }
  constexpr uint16_t kTypeSvcb = 64, kTypeHttps = 65;  // RFC 9460
  if ((qtype == kTypeSvcb || qtype == kTypeHttps) && config_.svcb_nodata && v->action != Action::kBlock) {
    v->action = Action::kBlock;
    v->reason = Reason::kSvcb;
  }
}

Verdict Policy::DecideMalformed(const IpAddress& src) const {
  Verdict v;
  v.reason = config_.managed.Contains(src) ? Reason::kMalformed : Reason::kUnmanaged;
  v.action = v.reason == Reason::kMalformed ? config_.malformed_action : Action::kAllow;
  return v;
}

Verdict Policy::DecideUninspected(const IpAddress& src) const {
  Verdict v;
  v.reason = config_.managed.Contains(src) ? Reason::kUninspected : Reason::kUnmanaged;
  v.action = v.reason == Reason::kUninspected ? config_.uninspected_action : Action::kAllow;
  return v;
}

}  // namespace vigie
