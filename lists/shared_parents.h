// The shared-parent guard: list entries that would block a public suffix or
// a shared infrastructure parent (a CDN, a cloud) for everyone behind the
// gateway.
//
// Two sources:
//   - the Public Suffix List (https://publicsuffix.org/list/, Debian package
//     `publicsuffix`: kDebianPublicSuffixList), parsed with its rules
//     ("com"), wildcards ("*.ck": every label under ck is a suffix),
//     exceptions ("!www.ck": that one is not), its ICANN and PRIVATE
//     sections (PRIVATE: appspot.com, s3.amazonaws.com, blogspot.com ...),
//     U-labels converted to A-labels, and the implicit "*" rule (every
//     single-label name is a public suffix);
//   - lists/shared_parents.list: one domain per line, '#' comments; parents
//     that app hosts live under but that are not in the PSL, or that must be
//     named whatever the PSL says (akamaized.net, cloudfront.net ...).
//
// What is flagged (CheckSharedParents):
//   - any entry (suffix or full:) EQUAL to a public suffix;
//   - any entry EQUAL to a shared parent (a suffix entry blocks the whole
//     CDN; a full: entry on the bare parent is flagged too, as it is almost
//     always a mistaken import);
//   - a suffix entry ABOVE a shared parent ("amazonaws.com" above
//     "s3.amazonaws.com") is flagged only when it is itself a public suffix
//     or listed: list both when both matter (shared_parents.list does).
// Not flagged: a full: entry or a label pattern UNDER a public suffix or a
// shared parent ("full:tiktok-bucket.s3.amazonaws.com",
// "p16-*.akamaized.net"): it names the app's own hosts.
//
// Thread safety: the sets are immutable after loading; functions are pure.
#ifndef VIGIE_LISTS_SHARED_PARENTS_H_
#define VIGIE_LISTS_SHARED_PARENTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "lists/matcher.h"

namespace vigie {

inline constexpr char kDebianPublicSuffixList[] = "/usr/share/publicsuffix/public_suffix_list.dat";

class PublicSuffixList {
 public:
  enum class Section : uint8_t { kNone, kIcann, kPrivate };

  // Why a name is a public suffix: the rule that made it one.
  struct Hit {
    Section section = Section::kNone;
    std::string rule;   // as written ("*.ck", "appspot.com"), "*" for the implicit rule
    uint32_t line = 0;  // in the PSL file; 0 for the implicit rule
  };

  // Parses PSL text; `file` names it in errors. A rule that does not
  // normalise fails with file:line.
  static absl::StatusOr<PublicSuffixList> Parse(std::string_view text, std::string_view file);
  static absl::StatusOr<PublicSuffixList> Load(const std::string& path);

  // `domain` normalised. True if it is a public suffix (PSL algorithm:
  // exception rules win, then exact and wildcard rules, then the implicit
  // "*"); fills `hit`.
  bool IsPublicSuffix(std::string_view domain, Hit* hit) const;

  size_t rule_count() const { return rules_.size() + wildcards_.size() + exceptions_.size(); }

 private:
  struct Entry {
    Section section;
    std::string text;
    uint32_t line;
  };
  absl::flat_hash_map<std::string, Entry> rules_;       // "co.uk"
  absl::flat_hash_map<std::string, Entry> wildcards_;   // "ck" for "*.ck"
  absl::flat_hash_map<std::string, Entry> exceptions_;  // "www.ck" for "!www.ck"
};

std::string_view SectionName(PublicSuffixList::Section s);

// lists/shared_parents.list: normalised domain -> line.
class SharedParentSet {
 public:
  static absl::StatusOr<SharedParentSet> Parse(std::string_view text, std::string_view file);
  static absl::StatusOr<SharedParentSet> Load(const std::string& path);
  // Line of `domain` (normalised) in the file, or 0.
  uint32_t LineOf(std::string_view domain) const;
  const std::string& file() const { return file_; }
  size_t size() const { return parents_.size(); }

 private:
  std::string file_;
  absl::flat_hash_map<std::string, uint32_t> parents_;
};

// One warning for `vigie check`.
struct SharedParentWarning {
  std::string file;      // the list file (Rule::source() form: relative when known)
  uint32_t line = 0;
  std::string entry;     // Vigie syntax ("akamaized.net", "full:appspot.com")
  std::string why;       // "public suffix (PRIVATE section, rule appspot.com, line 12)"
};

// Every entry of `lists` that the guard flags, in list order. `psl` or
// `parents` may be null (that source is not consulted).
std::vector<SharedParentWarning> CheckSharedParents(const std::vector<AppList>& lists,
                                                    const PublicSuffixList* psl,
                                                    const SharedParentSet* parents);

}  // namespace vigie

#endif  // VIGIE_LISTS_SHARED_PARENTS_H_
