#include "gateway/report/report.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lists/absl_compat.h"

#include "gateway/report/report_util.h"

namespace vigie::report {

std::string RenderText(const Report& r) {
  std::string o;
  absl::StrAppend(&o, "Vigie report: ", r.totals.total(), " decisions from ", r.files.size(), " file(s), ",
                  r.lines, " lines");
  if (r.first_us) absl::StrAppend(&o, ", ", FormatTime(*r.first_us), " .. ", FormatTime(*r.last_us));
  o += "\n";
  if (r.filter.since_us || r.filter.until_us) {
    absl::StrAppend(&o, "  filter: since ", r.filter.since_us ? FormatTime(*r.filter.since_us) : "-", " until ",
                    r.filter.until_us ? FormatTime(*r.filter.until_us) : "-", " (", r.filtered_out,
                    " decisions outside)\n");
  }
  if (r.skipped) absl::StrAppend(&o, "  ", r.skipped, " lines were not decisions (other EVE events, blank)\n");
  if (r.vigie_lines && r.eve_lines) {
    absl::StrAppend(&o, "  formats: ", r.vigie_lines, " Vigie, ", r.eve_lines, " EVE\n");
  }

  o += "\nDecisions by action\n";
  const uint64_t total = r.totals.total();
  auto action_row = [&](const char* name, uint64_t n) {
    absl::StrAppendFormat(&o, "  %-8s %10d  %6s\n", name, n, Percent(n, total));
  };
  action_row("block", r.totals.block);
  action_row("log", r.totals.log);
  action_row("allow", r.totals.allow);
  if (r.totals.other) action_row("other", r.totals.other);
  absl::StrAppendFormat(&o, "  %-8s %10d\n", "total", total);

  o += "\nDecisions by reason\n";
  for (const auto& [reason, n] : ByValueDesc(r.reasons)) {
    absl::StrAppendFormat(&o, "  %-12s %10d\n", Printable(reason), n);
  }

  o += "\nBlocks per app\n";
  if (r.blocks_per_app.empty()) o += "  (no blocks)\n";
  for (const auto& [app, n] : ByValueDesc(r.blocks_per_app)) {
    absl::StrAppendFormat(&o, "  %-20s %10d  %6s\n", Printable(app), n, Percent(n, r.totals.block));
  }

  absl::StrAppendFormat(&o, "\nTop devices (of %d, by blocks)\n", r.devices.size());
  absl::StrAppendFormat(&o, "  %-39s %9s %7s %5s  %s\n", "device", "decisions", "blocks", "logs", "blocked apps");
  for (const auto& [ip, d] : TopDevices(r, kTopDevices)) {
    absl::StrAppendFormat(&o, "  %-39s %9d %7d %5d  %s\n", Printable(ip), d->counts.total(), d->counts.block,
                          d->counts.log, Printable(BlockedAppsText(*d)));
  }

  absl::StrAppendFormat(&o, "\nTop names (of %d, by blocks)\n", r.names.size());
  absl::StrAppendFormat(&o, "  %-48s %-14s %9s %7s\n", "name", "app", "decisions", "blocks");
  for (const auto& [name, n] : TopNames(r, kTopNames)) {
    absl::StrAppendFormat(&o, "  %-48s %-14s %9d %7d\n", Printable(name), Printable(Or(n->app, "-")),
                          n->counts.total(), n->counts.block);
  }

  o += "\nException use\n";
  if (r.exceptions.empty()) o += "  (none)\n";
  for (const auto& [k, n] : r.exceptions) {
    absl::StrAppendFormat(&o, "  %-28s ticket %-14s app %-14s %8d decisions\n", Printable(k.id),
                          Printable(Or(k.ticket, "-")), Printable(Or(k.app, "-")), n);
  }

  o += "\nDecisions per hour (UTC)\n";
  absl::StrAppendFormat(&o, "  %-16s %7s %7s %7s %8s\n", "hour", "block", "log", "allow", "total");
  for (const auto& [h, c] : r.per_hour) {
    absl::StrAppendFormat(&o, "  %-16s %7d %7d %7d %8d\n", FormatHour(h), c.block, c.log, c.allow, c.total());
  }
  if (r.untracked) {
    absl::StrAppend(&o, "\n", r.untracked, " decisions counted in the totals but not ranked (over ",
                    kMaxDistinctKeys, " distinct keys)\n");
  }
  if (r.bad_lines) {
    absl::StrAppend(&o, "\nBad lines: ", r.bad_lines);
    if (r.bad_lines > r.bad.size()) absl::StrAppend(&o, " (first ", r.bad.size(), " shown)");
    o += "\n";
    for (const BadLine& b : r.bad) absl::StrAppend(&o, "  ", Printable(b.where), ": ", Printable(b.why), "\n");
  }
  return o;
}

}  // namespace vigie::report
