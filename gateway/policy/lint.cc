#include "gateway/policy/lint.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "lists/list_loader.h"

namespace vigie {
namespace {

// The broader suffix rule of `list` covering `r`, if any.
const Rule* BroaderRule(const Rule& r, const absl::flat_hash_map<std::string, const Rule*>& suffix) {
  std::string_view d = r.domain;
  if (!r.exact) {
    // A suffix rule is shadowed only by a strictly broader suffix rule.
    size_t dot = d.find('.');
    if (dot == std::string_view::npos) return nullptr;
    d = d.substr(dot + 1);
  }
  for (;;) {
    auto it = suffix.find(std::string(d));
    if (it != suffix.end() && it->second != &r) return it->second;
    size_t dot = d.find('.');
    if (dot == std::string_view::npos) return nullptr;
    d = d.substr(dot + 1);
  }
}

bool CidrWithin(const Cidr& c, const CidrSet& set) {
  for (const Cidr& m : c.base.family == 4 ? set.v4() : set.v6()) {
    if (m.prefix <= c.prefix && m.Contains(c.base)) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::vector<AppList>> ReloadLists(const Policy& policy) {
  const Matcher& m = policy.matcher();
  return LoadListDir(policy.config().lists_dir, [&](std::string_view app) {
    AppId id;
    return m.FindApp(app, &id) && m.app_allowed(id);
  });
}

std::vector<LintWarning> LintPolicy(const Policy& policy, const std::vector<AppList>& lists, uint64_t now_us) {
  std::vector<LintWarning> out;
  const Matcher& m = policy.matcher();
  for (const AppList& list : lists) {
    absl::flat_hash_map<std::string, const Rule*> suffix;
    for (const Rule& r : list.rules) {
      if (!r.exact && !r.pattern) suffix.emplace(r.domain, &r);
    }
    for (const Rule& r : list.rules) {
      if (r.pattern) continue;
      if (const Rule* b = BroaderRule(r, suffix)) {
        out.push_back({r.source(), absl::StrCat("'", r.text, "' is shadowed by the broader rule '", b->text,
                                                "' (", b->source(), ") of the same list: it never decides")});
        continue;
      }
      if (list.allow) continue;
      RuleMatch w = m.Match(r.domain);
      if (w && w.allow && m.app_name(w.app) != list.app) {
        out.push_back({r.source(), absl::StrCat("block rule '", r.text, "' of ", list.app,
                                                " is hidden by allow-list rule '", w.rule->text, "' of ",
                                                m.app_name(w.app), " (", w.rule->source(),
                                                "): the name stays allowed")});
      }
    }
  }
  const Config& c = policy.config();
  if (c.log_max_bytes > 0 && c.log_path == "-") {
    out.push_back({absl::StrCat(c.path, ":", c.log_max_bytes_line),
                   "[log] max_bytes: the log is standard output, which is never rotated"});
  }
  for (const ExceptionRule& x : c.exceptions) {
    std::string where = absl::StrCat(c.path, ":", x.line);
    if (x.until_us && *x.until_us <= now_us) {
      out.push_back({where, absl::StrCat("exception '", x.id, "' expired on ", x.until_text,
                                         ": it no longer applies")});
    }
    for (const auto* v : {&x.devices.v4(), &x.devices.v6()}) {
      for (const Cidr& d : *v) {
        if (!CidrWithin(d, c.managed)) {
          out.push_back({where, absl::StrCat("exception '", x.id, "' names device ", d.ToString(),
                                             " outside the managed scope: it never applies")});
        }
      }
    }
  }
  return out;
}

}  // namespace vigie
