// The domain matcher: every app list compiled into one immutable structure.
//
// Built once (Matcher::Build) from the lists loaded by list_loader.h, then only
// read. It is published as std::shared_ptr<const Matcher> inside the policy
// snapshot, so a reload builds a new one and swaps the pointer; readers never
// lock. All const methods are safe to call from any number of threads.
//
// Rule semantics (DESIGN.md "Contracts"):
//   - a plain entry matches the domain and every subdomain on a label
//     boundary (`tiktok.com` matches `www.tiktok.com`, not `nottiktok.com`);
//   - `full:` matches exactly;
//   - a label pattern (`p16-*.akamaized.net`, see ParseLabelPattern in
//     domain.h) matches a name one label below its parent whose leftmost
//     label fits the pattern; never the parent, never a deeper name;
//   - the most specific rule decides: the one whose domain has the most
//     labels (a pattern counts as its parent's labels plus one), except that
//     a pattern ranks just below exact and suffix rules on the very name it
//     matched: more specific than a suffix rule on its parent (or above),
//     less specific than a `full:` or suffix rule on the host itself;
//     at equal specificity an allow rule (an app whose policy is allow)
//     beats a block rule; then an exact rule beats a suffix rule; then the
//     rule loaded first (app order, then line order).
//
// Lookups take a name already normalised by NormalizeDomain (domain.h) and
// allocate nothing; MatchRaw takes the name as it came off the wire and fuses
// the normalisation into the walk.
//
// Layout (matcher.cc): one open-addressing table of nodes keyed by the hash of
// the reversed label path ("uk", "uk.co", "uk.co.example", ...), probed in
// groups of 16 one-byte tags (SwissTable style); a node is 12 bytes (parent
// node id, offset of its label in a string pool, packed rule indices) and a
// node's id is its slot index. A lookup folds case, splits labels, hashes
// right to left and walks from the TLD; the walk stops at the first label
// that is absent (most names leave at the second level). Before each probe
// the walk checks a prefilter: a bitset (16 bits per node, 2 bits per key in
// one 64-bit word) over the same path hashes, ~1/7 of the table's size, so
// a name absent at the second level costs one load from it instead of a
// cache miss into the table; when the TLD carries no rule either, the table
// is not touched at all.
// Patterns stay off the hot path: a node that is the parent of a pattern has
// one bit set in the rule word the walk already loaded; only then, and only
// when exactly one label is left, are its patterns (a side table) compared.
// A name under no pattern parent pays one bit test per visited node.
//
// Limits: at most 2^30 - 1 rules and 2^31 nodes; label pool below 4 GiB.
#ifndef VIGIE_LISTS_MATCHER_H_
#define VIGIE_LISTS_MATCHER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace vigie {

// Small integer naming an app (one list file): index into Matcher::apps().
using AppId = uint16_t;

// One list entry, as loaded.
struct Rule {
  std::string domain;  // normalised domain (A-labels, lower case, no trailing dot);
                       // for a pattern, the normalised pattern ("p16-*.akamaized.net")
  bool exact = false;  // `full:` entry
  bool pattern = false;  // label pattern (domain holds one '*'); never also exact
  std::string text;    // the entry as written in the file, for the decision log
  std::string file;    // the list file it came from (as opened: may be absolute)
  uint32_t line = 0;   // 1-based line in that file
  // The list file relative to the lists directory ("tiktok.list",
  // "extra/x.list") when loaded by LoadListDir; the file's name otherwise.
  // Empty when the Rule was built by hand (source() then falls back to file).
  std::string rel_file;

  // "tiktok.list:42": what decisions report as rule_source.
  std::string source() const {
    std::string s = rel_file.empty() ? file : rel_file;
    s += ':';
    s += std::to_string(line);
    return s;
  }
};

// One app's list: the rules of one list file.
struct AppList {
  std::string app;   // app id: the file name without extension
  bool allow = false;  // allow-list (approved app): beats block rules at equal or greater specificity
  std::string file;
  std::string rel_file;  // see Rule::rel_file
  std::vector<Rule> rules;
  // `ip:CIDR` entries: Rule::domain holds the prefix text ("149.154.160.0/20");
  // compiled by IpMatcher (ip_matcher.h), not by Matcher.
  std::vector<Rule> ip_rules;
};

// What a lookup found.
struct RuleMatch {
  AppId app = 0;
  bool allow = false;
  const Rule* rule = nullptr;  // owned by the Matcher
  explicit operator bool() const { return rule != nullptr; }
};

class Matcher {
 public:
  struct Stats {
    size_t apps = 0;
    size_t entries = 0;        // rules compiled
    size_t nodes = 0;          // structure nodes (implementation-defined)
    size_t memory_bytes = 0;   // bytes held by the lookup structure
    double build_seconds = 0;  // time Build took
    size_t duplicates = 0;     // rules that lost to an equal rule (same domain and kind)
    size_t patterns = 0;       // label patterns compiled (after duplicates)
    size_t pattern_parents = 0;  // nodes that are the parent of at least one pattern
    size_t rule_bytes = 0;     // bytes held by the retained rules (text, file) for reporting
  };

  // Compiles the lists. Fails (naming file:line) on a rule whose domain is not
  // normalised or whose pattern ParseLabelPattern refuses. Duplicate entries
  // keep the first one loaded (an allow duplicate replaces a block one).
  static absl::StatusOr<std::shared_ptr<const Matcher>> Build(std::vector<AppList> lists);

  ~Matcher();
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  // `domain` must be normalised. Returns an empty RuleMatch when nothing matches.
  RuleMatch Match(std::string_view domain) const;

  // `raw_name` as it came from a packet: same answer as NormalizeDomain()
  // followed by Match(), or an empty RuleMatch if normalisation fails. ASCII
  // case folding, the trailing dot and the 253/63 checks are done in the same
  // pass as the walk (no allocation); a name holding bytes >= 0x80 takes the
  // NormalizeDomain (libidn2) path.
  RuleMatch MatchRaw(std::string_view raw_name) const;

  // Every rule of every list that covers `domain` (normalised), not only the
  // one Match() picks: for `vigie explain` and tests, never the packet path
  // (it scans every rule: O(rules), allocates the result). Most specific
  // first (longer rule domain first; at one domain, exact before suffix,
  // suffix before pattern), then in load order. Rules that lost to an equal
  // duplicate at build time are included.
  std::vector<RuleMatch> MatchAll(std::string_view domain) const;

  const std::string& app_name(AppId id) const;
  bool app_allowed(AppId id) const;
  size_t app_count() const;
  // The app with this name, if loaded.
  bool FindApp(std::string_view name, AppId* id) const;

  const Stats& stats() const { return stats_; }

 private:
  struct Impl;
  Matcher();
  std::unique_ptr<Impl> impl_;
  Stats stats_;
};

}  // namespace vigie

#endif  // VIGIE_LISTS_MATCHER_H_
