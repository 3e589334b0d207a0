// Importing maintained public lists into Vigie lists, and diffing lists.
//
// ImportLists reads one or more source files in one format and produces the
// entries of one Vigie list (list_loader.h syntax):
//   - every name normalised by NormalizeDomain (A-labels, lower case);
//   - duplicates removed, and entries already covered by a broader entry of
//     the same output removed: a suffix entry covers itself as full:,
//     everything under it and patterns under it; a label pattern covers the
//     full: entries it fits;
//   - what has no exact Vigie equivalent (v2fly keyword:/regexp:/include:,
//     adblock exceptions, modifiers that narrow a rule, paths, wildcards that
//     are not a label pattern, hosts boilerplate) is reported as skipped with
//     file:line and why; nothing is dropped silently.
// A source file that is not text fails the whole import with file:line:
// a NUL byte, a line longer than kMaxImportLineLength, invalid UTF-8.
//
// Formats (ImportFormat):
//   v2fly             v2fly/domain-list-community data/<name>: "domain:x" and
//                     plain "x" (x and its subdomains), "full:x", "keyword:",
//                     "regexp:", "include:" (skipped: import the included
//                     file too), "@attr" annotations after an entry (ignored:
//                     they tag an entry, e.g. @ads, @!cn; they do not change
//                     which names it matches), "#" comments.
//   adguard-services  AdGuard HostlistsRegistry services/*.yml: the items of
//                     the top-level "rules:" list, each an adblock rule.
//   adblock           adblock / AdGuard DNS syntax, one rule per line:
//                     "||x^" -> x; "|x^" and "|https://x/" -> full:x;
//                     "||p16-*.x^" -> label pattern p16-*.x (see below);
//                     "@@" exceptions, cosmetic rules, /regex/, paths,
//                     modifiers other than $important/$all/$document -> skipped.
//   hosts             "0.0.0.0 a b": each name as full: (a hosts file names
//                     hosts, not domains); localhost & co. skipped.
//   plain             Vigie's own syntax: "x", "full:x", label patterns.
//
// Adblock wildcards: "*" in adblock matches any characters, dots included,
// and "||" also matches subdomains, so no adblock wildcard rule is exactly a
// Vigie label pattern. The one shape imported is a single "*" inside the
// leftmost label of a "||...^" or "|...^" rule with at least a two-label
// parent ("||p16-tiktok-*.ibyteimg.com^"): it becomes the label pattern, which
// matches the hosts such rules are written for (one label under a CDN
// parent) and never widens onto the shared parent; the narrowing is noted in
// the report. Every other wildcard ("||*.x^", "||a.*.x^", "||x*^", two "*")
// is skipped.
//
// Why adguard-services uses a narrow YAML reader and not libyaml-cpp: the
// services files are machine-generated with one shape (scalar keys id, name,
// icon_svg, group, and "rules:" followed by "  - '<rule>'" items); a reader of
// exactly that subset keeps vigie_lists free of a YAML dependency (STYLE.md
// 8), reports each rule's own file:line, and fails with file:line on any
// construct it does not understand in the rules list (flow sequences, block
// scalars, anchors, escapes) instead of guessing.
//
// Thread safety: pure functions over their arguments; file I/O only in the
// *Files/*Paths helpers. Not for the packet path.
#ifndef VIGIE_LISTS_IMPORT_H_
#define VIGIE_LISTS_IMPORT_H_

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lists/matcher.h"

namespace vigie {

// Longest source line accepted. Real list lines are under 300 bytes (a 253-
// character name plus a prefix and modifiers); AdGuard's icon_svg lines reach
// a few KiB. 64 KiB leaves room for those and stops a hostile 10 MB line.
inline constexpr size_t kMaxImportLineLength = 64 * 1024;

enum class ImportFormat : uint8_t { kV2fly, kAdguardServices, kAdblock, kHosts, kPlain };

// "v2fly", "adguard-services", "adblock", "hosts", "plain".
absl::StatusOr<ImportFormat> ParseImportFormat(std::string_view name);
std::string_view ImportFormatName(ImportFormat f);

// One source file: `name` is how it is reported (file:line) and named in
// the output header; `text` its bytes.
struct ImportSource {
  std::string name;
  std::string text;
};

// One output entry, in Vigie syntax ("tiktok.com", "full:x.y", "p16-*.x.net").
struct ImportedEntry {
  std::string entry;
  std::string file;
  uint32_t line = 0;
};

// A source line (or part of one) not carried into the output.
struct ImportNote {
  std::string file;
  uint32_t line = 0;
  std::string text;  // the rule as written
  std::string why;
};

struct ImportResult {
  std::vector<ImportedEntry> entries;  // first-seen order
  std::vector<ImportNote> skipped;     // no Vigie equivalent
  std::vector<ImportNote> removed;     // duplicates and covered entries
  std::vector<ImportNote> narrowed;    // adblock wildcards imported as patterns
};

// Parses every source; fails only on a source that is not text (see top).
absl::StatusOr<ImportResult> ImportLists(ImportFormat format,
                                         const std::vector<ImportSource>& sources);

struct ImportHeader {
  ImportFormat format = ImportFormat::kPlain;
  std::string app;                  // may be empty
  std::string date;                 // "2026-12-01"
  std::vector<std::string> sources; // names of the source files
};

// Writes the Vigie list: a "#" header naming format, app, sources and date,
// counts, then one entry per line.
void WriteImportedList(const ImportResult& result, const ImportHeader& header,
                       std::ostream& out);
// Writes one "file:line: skipped|removed|narrowed: text: why" line per note.
void WriteImportReport(const ImportResult& result, std::ostream& report);

// Reads `paths`, imports, writes the list to `out` and the report to
// `report`. `date` empty: today (UTC).
absl::Status ImportFiles(ImportFormat format, std::string_view app,
                         const std::vector<std::string>& paths, std::string_view date,
                         std::ostream& out, std::ostream& report);

// Today's date in UTC, "YYYY-MM-DD".
std::string TodayUtc();

// What a change to the lists adds and removes, per app (entries in Vigie
// syntax: "x", "full:x", "p*.x", "ip:1.2.3.0/24").
struct ListDiff {
  std::string app;
  std::vector<std::string> added;    // sorted
  std::vector<std::string> removed;  // sorted
};

// Apps matched by name; an app only in one side is all added or all removed.
// Apps without changes are left out. Sorted by app.
std::vector<ListDiff> DiffLists(const std::vector<AppList>& old_lists,
                                const std::vector<AppList>& new_lists);

// `old_path` and `new_path`: each a list file or a lists directory. Two files
// are compared as one app (named after the new file).
absl::StatusOr<std::vector<ListDiff>> DiffListPaths(const std::string& old_path,
                                                    const std::string& new_path);

// "app: +entry" / "app: -entry" lines, then a per-app count line.
void WriteListDiff(const std::vector<ListDiff>& diff, std::ostream& out);

// The entry of `r` in Vigie syntax.
std::string EntryText(const Rule& r);

}  // namespace vigie

#endif  // VIGIE_LISTS_IMPORT_H_
