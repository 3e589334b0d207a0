// What `vigie check` says of a config that loads: the warnings an operator
// should read before deploying it. Nothing here changes a decision; errors
// (which refuse the config) come from LoadConfig and Policy::Build.
//
//  - a rule shadowed by a broader rule of the same list (it can never decide);
//  - a block rule that an allow-list rule hides (the name stays allowed);
//  - an exception already expired;
//  - an exception device outside the managed scope (it never applies);
//  - [log] max_bytes with the log on standard output (never rotated);
//  - an entry that is a public suffix or a shared infrastructure parent
//    (lists/shared_parents.h), which would block a CDN for the whole ministry.
//
// Thread safety: pure functions over a built policy and its lists.
#ifndef VIGIE_GATEWAY_POLICY_LINT_H_
#define VIGIE_GATEWAY_POLICY_LINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "gateway/policy/policy.h"
#include "lists/matcher.h"

namespace vigie {

struct LintWarning {
  std::string where;  // "tiktok.list:42" or "/etc/vigie/vigie.toml:31"
  std::string why;
};

// `lists`: the same files the policy was built from (LoadListDir of its
// config's lists dir). `now_us`: the time against which `until` is checked.
std::vector<LintWarning> LintPolicy(const Policy& policy, const std::vector<AppList>& lists, uint64_t now_us);

// Loads the lists of `policy`'s config again (for LintPolicy and the
// shared-parent guard).
absl::StatusOr<std::vector<AppList>> ReloadLists(const Policy& policy);

}  // namespace vigie

#endif  // VIGIE_GATEWAY_POLICY_LINT_H_
