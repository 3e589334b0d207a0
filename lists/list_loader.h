// Loading per-app list files.
//
// One file per app; the file name without extension is the app id. A line is
//   # comment                     (also after an entry, after white space)
//   tiktok.com                    domain and its subdomains
//   full:www.tiktok.com           exactly this name
// and the formats operators already have:
//   0.0.0.0 tiktok.com            hosts file (127.0.0.1, ::, ::1 too; several names per line)
//   ||tiktok.com^                 adblock domain rule
//   address=/tiktok.com/0.0.0.0   dnsmasq (server=/tiktok.com/... too)
//   domain:tiktok.com             v2fly style, same as plain
// A hosts line may start with any IPv4/IPv6 address; the names a hosts file
// keeps for the machine itself (localhost, ip6-*, broadcasthost) are skipped.
// Adblock rules are accepted only when they name a whole domain: "||x^",
// "||x^|", "||x^$important" ($all, $document too). Exception rules (@@),
// cosmetic rules (##), paths and narrowing modifiers ($domain=, $client=...)
// fail the load rather than being silently widened or dropped.
// A label pattern (domain.h ParseLabelPattern) is written as a plain entry or
// an adblock rule: "p16-*.akamaized.net", "||p16-*.akamaized.net^"; a '*'
// anywhere else (full:, hosts, dnsmasq, a second '*', outside the leftmost
// label, a bare "*.parent") fails the load with file:line.
// Each entry is normalised by NormalizeDomain. An entry that cannot be read
// fails the whole load with "file:line: why"; nothing is half-loaded.
//
// Thread safety: functions only; I/O happens here, never on the packet path.
#ifndef VIGIE_LISTS_LIST_LOADER_H_
#define VIGIE_LISTS_LIST_LOADER_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lists/matcher.h"

namespace vigie {

// Parses list text (as read from `file`, used in error messages and in Rule).
absl::StatusOr<AppList> ParseList(std::string_view text, std::string_view app,
                                  std::string_view file, bool allow);

// Reads and parses one list file.
absl::StatusOr<AppList> LoadListFile(const std::string& path, std::string_view app,
                                     bool allow);

// Loads every `*.list` file of `dir` (sorted by name, so app ids are stable);
// `is_allow(app)` says which apps are allow-lists. Rule::rel_file is the
// file's path relative to `dir` ("tiktok.list"); ParseList and LoadListFile
// set it to the file's name.
absl::StatusOr<std::vector<AppList>> LoadListDir(
    const std::string& dir, const std::function<bool(std::string_view)>& is_allow);

}  // namespace vigie

#endif  // VIGIE_LISTS_LIST_LOADER_H_
