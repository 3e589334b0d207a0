// Domain normalisation: the one place where a name becomes a lookup key.
//
// Used by list loading and by every lookup on the packet path (DESIGN.md
// "Contracts"): ASCII case folding, one trailing dot removed, empty labels
// rejected, length limits of RFC 1035 §2.3.4 (253 characters of text, 63 per
// label), and IDN U-labels converted to A-labels (RFC 5891) with libidn2.
//
// Thread safety: pure functions. Allocation: none on the ASCII path (the
// common one); a name holding non-ASCII bytes goes through libidn2, which
// allocates.
#ifndef VIGIE_LISTS_DOMAIN_H_
#define VIGIE_LISTS_DOMAIN_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vigie {

// RFC 1035 §2.3.4: 255 octets on the wire is 253 characters of text.
inline constexpr size_t kMaxDomainLength = 253;
// RFC 1035 §2.3.4.
inline constexpr size_t kMaxLabelLength = 63;

enum class DomainError : uint8_t {
  kOk,
  kEmpty,         // "" or "."
  kTooLong,       // > 253 characters after normalisation
  kLabelTooLong,  // a label > 63 characters
  kEmptyLabel,    // "a..b", ".a", "a.."
  kBadIdn,        // non-ASCII that libidn2 cannot turn into A-labels
};

std::string_view DomainErrorName(DomainError e);

// A normalised domain in a fixed buffer (no allocation).
struct DomainBuf {
  char data[kMaxDomainLength + 1];
  uint8_t len = 0;
  std::string_view view() const { return {data, len}; }
};

// Normalises `in` into `out`. Bytes other than ASCII letters are kept as
// they are (the wire may carry '_' or odd bytes; lists are checked further by
// their loader), except that a name with bytes >= 0x80 is converted from
// UTF-8 U-labels to A-labels.
DomainError NormalizeDomain(std::string_view in, DomainBuf* out);

// True if every byte is a letter, digit, '-' or '_' or a '.' between labels:
// the characters a list entry may hold once normalised.
bool IsHostnameSyntax(std::string_view normalized);

// True for a dotted-quad IPv4 address ("1.2.3.4", as inet_pton reads it):
// hostname syntax, but not a name. A list line that is one reads as a hosts
// line, so an entry may never be one (an address rule is "ip:1.2.3.4").
bool IsIpv4Literal(std::string_view normalized);

// Label patterns: a list entry "<prefix>*<suffix>.<parent>" such as
// "*-tiktokcdn-com.akamaized.net" or "igcdn-photos-*.akamaihd.net".
//   - exactly one '*', inside the leftmost label; the '*' stands for one or
//     more characters other than '.';
//   - the leftmost label must hold more than the '*': a bare "*.parent"
//     would be a suffix rule on a shared parent in disguise, and is refused;
//   - the parent (the rest) is exact labels, at least two of them: a pattern
//     directly under a top-level domain ("tiktok*.com") would match other
//     people's registrable domains.
// A pattern matches a name with exactly one more label than its parent whose
// leftmost label fits: never the parent itself, never a deeper name.
inline constexpr char kPatternWildcard = '*';

struct LabelPattern {
  std::string_view prefix;  // leftmost label before '*' (may be empty)
  std::string_view suffix;  // leftmost label after '*' (may be empty)
  std::string_view parent;  // the exact labels after the leftmost one
};

// `normalized` as NormalizeDomain returned it (NormalizeDomain keeps '*').
// Returns "" and fills `out` (views into `normalized`) if it is a valid
// pattern, else why not (a static string).
std::string_view ParseLabelPattern(std::string_view normalized, LabelPattern* out);

// True if `label` (one label, no dot) fits prefix '*' suffix.
bool LabelFitsPattern(std::string_view prefix, std::string_view suffix, std::string_view label);

}  // namespace vigie

#endif  // VIGIE_LISTS_DOMAIN_H_
