// `vigie report`: reads decision logs and summarises them for the people who
// read reports (issue 11): totals by action, blocks per app, top devices with
// their blocked apps, top names, exception use, decisions per hour; as text
// and as one self-contained HTML page (inline CSS, inline SVG charts, a small
// inline script to sort tables; no external script, font or image).
//
// Input, auto-detected per line:
// - Vigie's decision events (README "Decision events"): `timestamp` RFC 3339,
//   `action`, `reason`, `proto`, `src_ip`, `domain`, `app`, `list`, `rule`,
//   `exception`, `exception_ticket`.
// - Suricata EVE (`event_type` alert or drop): `timestamp` as Suricata writes
//   it (2023-03-24T10:11:12.123456+0000), `src_ip`, `alert.action`
//   (allowed/blocked), the name from dns.queries[0].rrname (v3; dns.rrname in
//   v2), tls.sni, quic.sni or http.hostname, and Vigie's fields in
//   `alert.metadata` as arrays of strings: vigie_action, and vigie_app,
//   vigie_reason, vigie_list, vigie_rule, vigie_exception, vigie_ticket or
//   the EVE writer's keys (gateway/output/eve.h) app, reason, list,
//   rule_entry, exception_id, exception_ticket. Without vigie_action, an
//   alert that passed traffic is a log, a blocked alert or drop a block.
//   Other EVE event types (flow, stats, ...) are skipped, not errors.
// Files may be gzip-compressed (detected by magic, whatever the name); "-" is
// standard input.
//
// Bad input: a line that is not JSON, not an object, or lacks a valid
// timestamp or action is counted with its file:line and why (the first
// kMaxBadLinesKept are kept for the report); never fatal. A file that cannot be
// opened or read fails ReadLog with its name.
//
// Everything read from a log is attacker-influenced (names come off the
// wire): RenderHtml escapes every such string, in text, attributes and SVG.
//
// Thread safety: none; a Report is built and rendered by one thread.
#ifndef VIGIE_GATEWAY_REPORT_REPORT_H_
#define VIGIE_GATEWAY_REPORT_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace vigie::report {

// Bad lines kept with their file:line (all are counted): enough to find the
// pattern, bounded so a corrupt multi-GB log cannot grow the report.
inline constexpr size_t kMaxBadLinesKept = 50;
// Longest line read (Vigie's lines are < 2 KiB; EVE alerts with a full DNS
// answer a few KiB). Longer lines are bad lines, read past in bounded memory.
inline constexpr size_t kMaxLineBytes = 64 * 1024;
// Rows in the text and HTML rankings: a weekly report a person reads.
inline constexpr size_t kTopDevices = 20;
inline constexpr size_t kTopNames = 25;
// Distinct devices, names, apps tracked; past this, events still count in the
// totals and per hour, and the report says how many were not ranked. Bounds
// memory on a log full of random names (a DNS tunnel) or spoofed sources.
inline constexpr size_t kMaxDistinctKeys = 1'000'000;
// Bars in the timeline chart. Over this many hours in the period, the chart
// shows only the hours that have decisions (gaps marked); over this many such
// hours, buckets grow to a day, then a week.
inline constexpr size_t kMaxTimelineBars = 240;

inline constexpr int64_t kUsPerSecond = 1'000'000;
inline constexpr int64_t kUsPerHour = 3600 * kUsPerSecond;
inline constexpr int64_t kUsPerDay = 24 * kUsPerHour;

// One decision, as either log format gives it. Absent fields are empty.
struct Event {
  int64_t ts_us = 0;    // microseconds since the Unix epoch, UTC
  std::string action;   // block | log | allow (others kept as written)
  std::string reason;   // list, exception, allowlist, no-match, ...
  std::string proto;    // dns, tls, quic, http, ip
  std::string src_ip;
  std::string domain;
  std::string app;
  std::string list;
  std::string rule;
  std::string exception;
  std::string ticket;
  bool eve = false;     // read from an EVE line
};

enum class LineKind { kDecision, kSkipped };

// Parses one log line (no newline). kSkipped: valid JSON that is not a
// decision (an EVE flow or stats event, an empty line). Error: why the line
// is bad (message without file:line).
absl::StatusOr<LineKind> ParseLine(std::string_view line, Event* out);

// "YYYY-MM-DD" (midnight UTC) or RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM)",
// also Suricata's "+HHMM" offset and a space for 'T'. Microseconds since the
// epoch, UTC. `date_only` (optional) tells whether T was a bare date.
absl::StatusOr<int64_t> ParseTime(std::string_view text, bool* date_only = nullptr);

// "2025-06-02T09:00:00Z" style, seconds resolution; for hours "2025-06-02 09:00".
std::string FormatTime(int64_t ts_us);
std::string FormatHour(int64_t hour_start_us);

// Decisions kept: since <= ts < until.
struct Filter {
  std::optional<int64_t> since_us;
  std::optional<int64_t> until_us;
  bool Keep(int64_t ts_us) const {
    return (!since_us || ts_us >= *since_us) && (!until_us || ts_us < *until_us);
  }
};

struct ActionCounts {
  uint64_t block = 0, log = 0, allow = 0, other = 0;
  uint64_t total() const { return block + log + allow + other; }
  void Add(std::string_view action);
};

struct DeviceStats {
  ActionCounts counts;
  std::map<std::string, uint64_t> blocked_apps;  // app (or "(reason)") -> blocks
};

struct NameStats {
  ActionCounts counts;
  std::string app;  // the app of the last decision naming it ("" if none)
};

struct ExceptionKey {
  std::string id, ticket, app;
  auto operator<=>(const ExceptionKey&) const = default;
};

struct BadLine {
  std::string where;  // file:line
  std::string why;
};

// The aggregate of every decision read (after the filter).
struct Report {
  std::vector<std::string> files;
  uint64_t lines = 0;          // lines read, all files
  uint64_t skipped = 0;        // valid, not decisions (other EVE event types)
  uint64_t filtered_out = 0;   // decisions outside --since/--until
  uint64_t bad_lines = 0;
  std::vector<BadLine> bad;    // the first kMaxBadLinesKept
  uint64_t vigie_lines = 0, eve_lines = 0;  // decisions by input format
  Filter filter;

  ActionCounts totals;
  std::optional<int64_t> first_us, last_us;
  std::map<std::string, uint64_t> blocks_per_app;   // app or "(reason)"
  std::map<std::string, uint64_t> reasons;          // reason -> decisions
  std::map<std::string, DeviceStats> devices;       // src_ip
  std::map<std::string, NameStats> names;           // domain
  std::map<ExceptionKey, uint64_t> exceptions;
  std::map<int64_t, ActionCounts> per_hour;         // hour start (us) -> counts
  uint64_t untracked = 0;  // decisions past kMaxDistinctKeys not ranked

  // Adds one decision (which the caller has filtered).
  void Add(const Event& e);
  // Counts a bad line, keeping the first kMaxBadLinesKept.
  void AddBad(std::string where, std::string why);
};

// The label a block without an app is counted under: "(reason)".
std::string BlockLabel(const Event& e);

// Reads one log file (plain or gzip; "-": standard input) into `report`.
absl::Status ReadLog(const std::string& path, Report* report);

// Rankings, largest first (ties by key).
std::vector<std::pair<std::string, const DeviceStats*>> TopDevices(const Report& r, size_t n);
std::vector<std::pair<std::string, const NameStats*>> TopNames(const Report& r, size_t n);

// Escapes & < > " ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view s);

std::string RenderText(const Report& r);
std::string RenderHtml(const Report& r);

// `vigie report LOG... [--html FILE] [--since T] [--until T]`; argv[0] is
// "report". Text on standard output, errors on standard error. Exit 0 (bad
// lines included: they are reported, not fatal); 2 on a usage error, a log
// that cannot be opened or read, or an HTML file that cannot be written.
int RunReportCommand(int argc, char** argv);

}  // namespace vigie::report

#endif  // VIGIE_GATEWAY_REPORT_REPORT_H_
