// Longest-prefix matching of destination addresses against the `ip:CIDR`
// entries of the app lists (IPv4 and IPv6), for apps reached by address with
// no name visible (e.g. Telegram's published ranges).
//
// Built once with the domain matcher, immutable afterwards, part of the same
// policy snapshot; Match is safe from any thread and allocates nothing.
// Structure: per address family, a bitmap of the /16s (first 16 bits) that
// hold a prefix, so that most addresses miss with one bit test; then one hash
// map per prefix length present, walked longest first (at most 33 / 129
// probes, in practice a handful).
#ifndef VIGIE_LISTS_IP_MATCHER_H_
#define VIGIE_LISTS_IP_MATCHER_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "lists/ip_address.h"
#include "lists/matcher.h"

namespace vigie {

class IpMatcher {
 public:
  // Reads the ip_rules of `lists` (app ids = positions in `lists`, as for
  // Matcher). Each rule's `domain` holds the prefix text; a bad prefix fails
  // with its file:line. The same prefix in two lists: an allow list wins,
  // else the first loaded.
  static absl::StatusOr<IpMatcher> Build(const std::vector<AppList>& lists);

  // The most specific prefix holding `addr`, if any.
  RuleMatch Match(const IpAddress& addr) const;

  size_t size() const { return rules_.size(); }

 private:
  using Key = std::array<uint8_t, 16>;
  struct Level {
    uint8_t prefix;
    absl::flat_hash_map<Key, uint32_t> entries;  // masked address -> index in rules_
  };
  struct Entry {
    AppId app;
    bool allow;
    Rule rule;
  };
  std::vector<Level> v4_, v6_;  // longest prefix first
  // Bit t set: some prefix covers addresses whose first 16 bits are t.
  std::array<uint64_t, 65536 / 64> any4_{}, any6_{};
  std::vector<Entry> rules_;
};

}  // namespace vigie

#endif  // VIGIE_LISTS_IP_MATCHER_H_
