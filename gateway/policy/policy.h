// Stage policy: the config contract (config.h), the policy snapshot and its
// verdicts. May depend on: flow (table sizes in the config), base, lists.
// Knows nothing of inspection, enforcement, sources or output formats.
//
// The policy snapshot: scope, app lists (matcher), per-app actions and
// exceptions, built once from a Config and then only read.
//
// Published as std::shared_ptr<const Policy>; a reload builds a new snapshot
// and swaps the pointer; a failed build keeps the old one (the caller holds
// it) and the error names file:line.
//
// Decide() is the "policy" stage of DESIGN.md: scope x app x exceptions ->
// action. It allocates nothing and is safe from any thread.
#ifndef VIGIE_GATEWAY_POLICY_POLICY_H_
#define VIGIE_GATEWAY_POLICY_POLICY_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/policy/config.h"
#include "gateway/base/ip_address.h"
#include "lists/ip_matcher.h"
#include "lists/matcher.h"

namespace vigie {

enum class Reason : uint8_t {
  kList, kException, kAllowlist, kNoMatch, kUnmanaged, kMalformed,
  kIp,      // an ip: rule matched the destination (no name visible)
  kEch,     // [inspect] ech policy
  kNoSni,   // [inspect] no_sni policy
  kPort,    // [inspect] dot policy (port 853)
  kSvcb,    // [dns] svcb = nodata
  kUninspected,  // [inspect] uninspected: Vigie could not read the connection to the end
  kConflict,     // two readings of the same bytes (overlaps, fragments, names) disagreed; the strictest won
};
std::string_view ReasonName(Reason r);

struct Verdict {
  Action action = Action::kAllow;
  Reason reason = Reason::kNoMatch;
  RuleMatch match;                         // the list rule, if any
  const ExceptionRule* exception = nullptr;  // the exception applied, if any
};

class Policy {
 public:
  // Loads the lists named by the config and builds the matcher. Errors name
  // the config or list file and line.
  static absl::StatusOr<std::shared_ptr<const Policy>> Build(Config config);

  bool IsManaged(const IpAddress& src) const { return config_.managed.Contains(src); }

  // `domain` must be normalised (NormalizeDomain). `now_us`: the packet's time,
  // against which exceptions' `until` dates are checked.
  Verdict Decide(const IpAddress& src, std::string_view domain, uint64_t now_us) const;
  // For a flow whose name is not visible: the ip: rules on the destination
  // (reason ip when one matches).
  Verdict DecideIp(const IpAddress& src, const IpAddress& dst, uint64_t now_us) const;
  // How the lists and per-app policy decide a name for a managed device with
  // no exception (vigie lookup without --src).
  Verdict DecideName(std::string_view domain) const;
  // What the inspection policies ([inspect] ech / no_sni, [dns] svcb) make of
  // a verdict from the lists, for a managed source. `nameless`: a handshake
  // without server_name; `ech`: it carried encrypted_client_hello; `qtype`: the
  // DNS question type (0 for handshakes).
  void Refine(Verdict* v, bool nameless, bool ech, uint16_t qtype) const;
  // For a message that could not be parsed.
  Verdict DecideMalformed(const IpAddress& src) const;
  // For a connection Vigie gave up on ([inspect] uninspected).
  Verdict DecideUninspected(const IpAddress& src) const;

  const Config& config() const { return config_; }
  const Matcher& matcher() const { return *matcher_; }
  const IpMatcher& ip_matcher() const { return ip_matcher_; }
  // The action configured for an app (allow when no policy names it).
  Action app_action(AppId id) const { return app_action_[id]; }
  bool app_has_policy(AppId id) const { return app_has_policy_[id]; }

 private:
  Policy() = default;
  // Scope, app action and exceptions applied to a list match.
  Verdict FromMatch(const IpAddress& src, RuleMatch match, Reason list_reason, uint64_t now_us) const;
  Config config_;
  std::shared_ptr<const Matcher> matcher_;
  IpMatcher ip_matcher_;
  std::vector<Action> app_action_;
  std::vector<bool> app_has_policy_;
  // Per exception, the app ids it covers (empty = all apps).
  std::vector<std::vector<AppId>> exception_apps_;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_POLICY_POLICY_H_
