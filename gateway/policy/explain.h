// `vigie explain`: every step by which the policy decides one name for one
// device, for a person asking "why was this blocked?". Read-only over a
// policy snapshot; the same functions as the packet path (NormalizeDomain,
// Policy::Decide, Policy::Refine) give the verdict, and the steps around it
// are gathered from the config and Matcher::MatchAll, so the explanation
// cannot disagree with what the gateway does.
//
// Not for the packet path: it allocates and scans every rule.
// Thread safety: a pure function of the snapshot.
#ifndef VIGIE_GATEWAY_POLICY_EXPLAIN_H_
#define VIGIE_GATEWAY_POLICY_EXPLAIN_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/policy/policy.h"

namespace vigie {

// The protocol the name is seen in (what the inspection policies and the
// enforcement depend on).
enum class ExplainProto : uint8_t { kDns, kTls, kQuic, kHttp };

struct ExplainException {
  const ExceptionRule* rule = nullptr;
  bool covers_device = false;  // no devices, or the device is in them
  bool covers_app = false;     // no apps, or the winning app is one of them
  bool expired = false;        // `until` passed at the time asked
  bool relaxes = false;        // its action is weaker than the app's
  bool applied = false;        // the one the verdict used
};

struct Explanation {
  std::string input;           // the name as given
  std::string name;            // normalised (empty when it does not normalise)
  std::string name_error;      // DomainErrorName when it does not
  IpAddress src;
  bool managed = false;
  std::string managed_prefix;  // the longest [scope] managed prefix holding src
  std::vector<RuleMatch> candidates;  // every rule covering the name, most specific first
  RuleMatch winner;            // the rule the matcher picks (also in candidates)
  const PolicyRule* policy = nullptr;  // the [[policy]] that set the winner's app's action
  Action app_action = Action::kAllow;  // that policy's action
  std::vector<ExplainException> exceptions;  // those naming the app (or every app)
  Verdict verdict;             // the final answer, as the gateway decides it
};

// `now_us`: the time against which exceptions' `until` dates are checked.
Explanation Explain(const Policy& policy, const IpAddress& src, std::string_view name, ExplainProto proto,
                    uint64_t now_us);

}  // namespace vigie

#endif  // VIGIE_GATEWAY_POLICY_EXPLAIN_H_
