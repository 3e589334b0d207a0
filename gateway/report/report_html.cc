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

namespace {

// Chart geometry (SVG user units; the page scales them to its width).
constexpr int kTimelineWidth = 1160;
constexpr int kTimelineHeight = 300;
constexpr int kBarChartWidth = 560;
constexpr int kBarRowHeight = 26;
// Bars in the app and device charts: what fits beside each other on a page.
constexpr size_t kChartApps = 12;
constexpr size_t kChartDevices = 10;
// Longest label drawn in a chart (bytes); the full text is in its tooltip.
constexpr size_t kMaxChartLabel = 30;
// Rows of the per-app and per-reason tables: every app and reason of a
// policy fits; a log with more distinct labels is hostile or broken.
constexpr size_t kMaxTableRows = 200;

constexpr const char* kColorBlock = "#c0392b";
constexpr const char* kColorLog = "#e69a28";
constexpr const char* kColorAllow = "#9fb3c8";
constexpr const char* kColorOther = "#8e6bbf";
// Per-app colours in the device chart, in order of blocks; later apps share grey.
constexpr const char* kAppPalette[] = {"#c0392b", "#2e86de", "#e67e22", "#8e44ad", "#16a085",
                                       "#d4ac0d", "#34495e", "#e84393", "#6ab04c", "#a0522d"};
constexpr const char* kColorOthers = "#b2bec3";

std::string Fmt(double v) { return absl::StrFormat("%.1f", v); }

// The largest label prefix of at most kMaxChartLabel bytes that does not cut
// a UTF-8 sequence, with an ellipsis when cut.
std::string ChartLabel(std::string_view s) {
  if (s.size() <= kMaxChartLabel) return std::string(s);
  size_t n = kMaxChartLabel - 1;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return absl::StrCat(AV(s.substr(0, n)), "\xE2\x80\xA6");
}

// A round axis step (1, 2, 5 x 10^k) giving about `ticks` ticks up to `max`.
uint64_t NiceStep(uint64_t max, int ticks) {
  double raw = std::max(1.0, static_cast<double>(max) / ticks);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double f : {1.0, 2.0, 5.0, 10.0}) {
    if (f * mag >= raw) return std::max<uint64_t>(1, static_cast<uint64_t>(f * mag));
  }
  return static_cast<uint64_t>(10 * mag);
}

std::string Civil2(int64_t ts_us, const char* what) {
  int64_t secs = FloorDiv(ts_us, kUsPerSecond);
  int64_t days = FloorDiv(secs, 86400);
  int64_t hour = (secs - days * 86400) / 3600;
  Civil c = CivilFromDays(days);
  std::string_view w = what;
  if (w == "date") return absl::StrFormat("%04d-%02d-%02d", c.y, c.m, c.d);
  if (w == "md") return absl::StrFormat("%02d-%02d", c.m, c.d);
  if (w == "year") return absl::StrFormat("%04d", c.y);
  if (w == "month") return absl::StrFormat("%04d-%02d", c.y, c.m);
  return absl::StrFormat("%02d:00", hour);
}

struct Bucketing {
  int64_t size_us;
  const char* unit;  // "hour", "day", ...
};
constexpr Bucketing kBucketings[] = {{kUsPerHour, "hour"},
                                     {kUsPerDay, "day"},
                                     {7 * kUsPerDay, "week"},
                                     {30 * kUsPerDay, "30 days"},
                                     {365 * kUsPerDay, "365 days"}};

struct Timeline {
  Bucketing bucketing;
  bool sparse = false;  // only buckets with decisions, gaps marked
  std::vector<std::pair<int64_t, ActionCounts>> bars;
};

Timeline BuildTimeline(const Report& r) {
  Timeline t{kBucketings[0], false, {}};
  if (r.per_hour.empty()) return t;
  for (const Bucketing& b : kBucketings) {
    std::map<int64_t, ActionCounts> agg;
    for (const auto& [h, c] : r.per_hour) {
      ActionCounts& a = agg[FloorDiv(h, b.size_us) * b.size_us];
      a.block += c.block;
      a.log += c.log;
      a.allow += c.allow;
      a.other += c.other;
    }
    const int64_t first = agg.begin()->first, last = agg.rbegin()->first;
    const uint64_t span = static_cast<uint64_t>((last - first) / b.size_us) + 1;
    const bool coarsest = &b == &kBucketings[std::size(kBucketings) - 1];
    if (span <= kMaxTimelineBars) {
      t = {b, false, {}};
      for (int64_t at = first; at <= last; at += b.size_us) {
        auto it = agg.find(at);
        t.bars.emplace_back(at, it == agg.end() ? ActionCounts() : it->second);
      }
      return t;
    }
    if (agg.size() <= kMaxTimelineBars || coarsest) {
      t = {b, true, {agg.begin(), agg.end()}};
      return t;
    }
  }
  return t;
}

void TimelineSvg(const Report& r, std::string* o) {
  const Timeline t = BuildTimeline(r);
  const int ml = 56, mr = 16, mt = 18, mb = 58;
  const double pw = kTimelineWidth - ml - mr, ph = kTimelineHeight - mt - mb;
  absl::StrAppendFormat(o,
                        "<svg id=\"chart-timeline\" class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
                        "aria-label=\"decisions per %s by action\" data-unit=\"%s\" data-sparse=\"%d\" "
                        "data-bars=\"%d\">\n",
                        kTimelineWidth, kTimelineHeight, t.bucketing.unit, t.bucketing.unit, t.sparse ? 1 : 0,
                        t.bars.size());
  if (t.bars.empty()) {
    absl::StrAppendFormat(o, "<text x=\"%d\" y=\"%d\" class=\"empty\" text-anchor=\"middle\">no decisions</text>\n",
                          kTimelineWidth / 2, kTimelineHeight / 2);
    *o += "</svg>\n";
    return;
  }
  uint64_t max = 0;
  for (const auto& [at, c] : t.bars) max = std::max(max, c.total());
  const uint64_t step = NiceStep(max, 5);
  const uint64_t top = std::max<uint64_t>(step, (max + step - 1) / step * step);
  auto y = [&](uint64_t v) { return mt + ph - ph * static_cast<double>(v) / static_cast<double>(top); };
  for (uint64_t v = 0; v <= top; v += step) {
    absl::StrAppendFormat(o, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%s\" y2=\"%s\"/>", ml,
                          kTimelineWidth - mr, Fmt(y(v)), Fmt(y(v)));
    absl::StrAppendFormat(o, "<text class=\"tick\" x=\"%d\" y=\"%s\" text-anchor=\"end\">%d</text>\n", ml - 6,
                          Fmt(y(v) + 4), v);
  }
  const double slot = pw / static_cast<double>(t.bars.size());
  const double bw = std::max(1.0, slot * 0.78);
  const size_t label_every = std::max<size_t>(1, (t.bars.size() + 13) / 14);
  const bool hourly = t.bucketing.size_us == kUsPerHour;
  const bool daily = t.bucketing.size_us == kUsPerDay || t.bucketing.size_us == 7 * kUsPerDay;
  std::string last_second_line;
  for (size_t i = 0; i < t.bars.size(); ++i) {
    const auto& [at, c] = t.bars[i];
    const double x = ml + slot * static_cast<double>(i) + (slot - bw) / 2;
    if (t.sparse && i > 0 && at - t.bars[i - 1].first > t.bucketing.size_us) {
      const double gx = ml + slot * static_cast<double>(i);
      absl::StrAppendFormat(o, "<line class=\"gap\" x1=\"%s\" x2=\"%s\" y1=\"%d\" y2=\"%s\"/>", Fmt(gx), Fmt(gx), mt,
                            Fmt(mt + ph));
    }
    const std::string when = hourly ? FormatHour(at) : Civil2(at, "date");
    absl::StrAppendFormat(o,
                          "<g class=\"bar\" data-bucket=\"%s\" data-block=\"%d\" data-log=\"%d\" data-allow=\"%d\" "
                          "data-other=\"%d\" data-total=\"%d\"><title>%s%s: %d block, %d log, %d allow</title>",
                          when, c.block, c.log, c.allow, c.other, c.total(), hourly ? "" : "from ", when, c.block,
                          c.log, c.allow);
    uint64_t base = 0;
    for (auto [v, color] : {std::pair{c.block, kColorBlock}, std::pair{c.log, kColorLog},
                            std::pair{c.allow, kColorAllow}, std::pair{c.other, kColorOther}}) {
      if (v == 0) continue;
      absl::StrAppendFormat(o, "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"/>", Fmt(x),
                            Fmt(y(base + v)), Fmt(bw), Fmt(y(base) - y(base + v)), color);
      base += v;
    }
    *o += "</g>\n";
    if (i % label_every == 0) {
      const double cx = ml + slot * (static_cast<double>(i) + 0.5);
      std::string first = hourly ? Civil2(at, "hour")
                          : daily ? Civil2(at, "md")
                          : t.bucketing.size_us == 30 * kUsPerDay ? Civil2(at, "month")
                                                                  : Civil2(at, "year");
      std::string second = hourly ? Civil2(at, "date") : daily ? Civil2(at, "year") : "";
      absl::StrAppendFormat(o, "<text class=\"tick\" x=\"%s\" y=\"%s\" text-anchor=\"middle\">%s</text>", Fmt(cx),
                            Fmt(mt + ph + 16), first);
      if (!second.empty() && second != last_second_line) {
        absl::StrAppendFormat(o, "<text class=\"tick date\" x=\"%s\" y=\"%s\" text-anchor=\"middle\">%s</text>",
                              Fmt(cx), Fmt(mt + ph + 32), second);
        last_second_line = second;
      }
      *o += "\n";
    }
  }
  // Legend.
  double lx = ml;
  const double ly = kTimelineHeight - 12;
  for (auto [name, color] : {std::pair{"block", kColorBlock}, std::pair{"log", kColorLog},
                             std::pair{"allow", kColorAllow}}) {
    absl::StrAppendFormat(o,
                          "<rect x=\"%s\" y=\"%s\" width=\"12\" height=\"12\" rx=\"2\" fill=\"%s\"/>"
                          "<text class=\"legend\" x=\"%s\" y=\"%s\">%s</text>",
                          Fmt(lx), Fmt(ly - 10), color, Fmt(lx + 17), Fmt(ly), name);
    lx += 80;
  }
  if (t.sparse) {
    absl::StrAppendFormat(o,
                          "<line class=\"gap\" x1=\"%s\" x2=\"%s\" y1=\"%s\" y2=\"%s\"/>"
                          "<text class=\"legend\" x=\"%s\" y=\"%s\">gap: %ss without decisions not drawn</text>",
                          Fmt(lx + 6), Fmt(lx + 6), Fmt(ly - 12), Fmt(ly + 2), Fmt(lx + 14), Fmt(ly),
                          t.bucketing.unit);
  }
  *o += "</svg>\n";
}

struct Segment {
  uint64_t value;
  std::string color;
  std::string name;  // for the tooltip (escaped on output)
};
struct BarRow {
  std::string label;
  std::string attr;  // data attribute name for the row key, e.g. "data-app"
  std::vector<Segment> segments;
  uint64_t total() const {
    uint64_t t = 0;
    for (const Segment& s : segments) t += s.value;
    return t;
  }
};

void BarChartSvg(const char* id, const char* empty_text, int label_width, const std::vector<BarRow>& rows,
                 std::string* o) {
  const int mt = 6, value_width = 56;
  const int height = std::max<int>(60, mt * 2 + kBarRowHeight * static_cast<int>(rows.size()));
  absl::StrAppendFormat(o, "<svg id=\"%s\" class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" data-rows=\"%d\">\n",
                        id, kBarChartWidth, height, rows.size());
  if (rows.empty()) {
    absl::StrAppendFormat(o, "<text x=\"%d\" y=\"34\" class=\"empty\" text-anchor=\"middle\">%s</text>\n",
                          kBarChartWidth / 2, empty_text);
    *o += "</svg>\n";
    return;
  }
  uint64_t max = 1;
  for (const BarRow& r : rows) max = std::max(max, r.total());
  const double pw = kBarChartWidth - label_width - value_width - 8;
  for (size_t i = 0; i < rows.size(); ++i) {
    const BarRow& row = rows[i];
    const double y = mt + kBarRowHeight * static_cast<double>(i);
    const std::string label = HtmlEscape(row.label);
    absl::StrAppendFormat(o, "<g class=\"hbar\" %s=\"%s\" data-value=\"%d\"><title>%s: %d</title>", row.attr, label,
                          row.total(), label, row.total());
    absl::StrAppendFormat(o, "<text class=\"label\" x=\"%d\" y=\"%s\" text-anchor=\"end\">%s</text>",
                          label_width - 8, Fmt(y + kBarRowHeight * 0.65), HtmlEscape(ChartLabel(row.label)));
    double x = label_width;
    for (const Segment& s : row.segments) {
      const double w = pw * static_cast<double>(s.value) / static_cast<double>(max);
      absl::StrAppendFormat(o,
                            "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%d\" rx=\"2\" fill=\"%s\">"
                            "<title>%s: %s %d</title></rect>",
                            Fmt(x), Fmt(y + 4), Fmt(std::max(1.0, w)), kBarRowHeight - 8, s.color, label,
                            HtmlEscape(s.name), s.value);
      x += w;
    }
    absl::StrAppendFormat(o, "<text class=\"value\" x=\"%s\" y=\"%s\">%d</text></g>\n", Fmt(x + 6),
                          Fmt(y + kBarRowHeight * 0.65), row.total());
  }
  *o += "</svg>\n";
}

// One <td> with a numeric sort key.
std::string NumCell(uint64_t v, const char* extra_attr = "") {
  return absl::StrCat("<td class=\"n\" data-v=\"", v, "\"", extra_attr, ">", v, "</td>");
}

void Kpi(const char* attr, const char* label, uint64_t v, const char* cls, std::string* o) {
  absl::StrAppendFormat(o, "<div class=\"kpi %s\"><div class=\"v\" %s=\"%d\">%d</div><div class=\"k\">%s</div></div>\n",
                        cls, attr, v, v, label);
}

constexpr const char* kCss = R"CSS(
:root{--ink:#1f2a37;--muted:#5b6b7c;--line:#e3e8ee;--bg:#f4f6f9;--card:#fff;--navy:#1d2a44;--block:#c0392b}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif}
header{background:var(--navy);color:#fff;padding:22px 32px 18px}
header h1{margin:0;font-size:22px;font-weight:600;letter-spacing:.2px}
header h1 span{color:#8fb3ff;font-weight:400}
header .sub{margin-top:6px;color:#c9d3e6;font-size:13px}
main{padding:20px 32px 40px;max-width:1280px;margin:0 auto}
.kpis{display:grid;grid-template-columns:repeat(8,1fr);gap:12px;margin-bottom:18px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px;border-top:4px solid #9fb3c8}
.kpi .v{font-size:24px;font-weight:700;font-variant-numeric:tabular-nums}
.kpi .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.5px}
.kpi.block{border-top-color:var(--block)}.kpi.block .v{color:var(--block)}
.kpi.log{border-top-color:#e69a28}.kpi.allow{border-top-color:#9fb3c8}.kpi.info{border-top-color:#2e86de}
.kpi.bad{border-top-color:#8e6bbf}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 18px;margin-bottom:18px}
section h2{margin:0 0 10px;font-size:16px;font-weight:600}
section h2 small{color:var(--muted);font-weight:400;font-size:12px;margin-left:8px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:18px}
.grid2 section{margin-bottom:0}
.row{margin-bottom:18px}
svg.chart{width:100%;height:auto;display:block}
svg .grid{stroke:#e8ecf1;stroke-width:1}
svg .gap{stroke:#7f8c8d;stroke-width:1;stroke-dasharray:3 3}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;fill:#5b6b7c}
svg text.label{fill:#1f2a37;font-size:12px}
svg text.value{fill:#1f2a37;font-size:12px;font-weight:600}
svg text.legend{fill:#1f2a37;font-size:12px}
svg text.date{font-weight:600}
svg text.empty{font-size:14px}
svg g.bar:hover rect,svg g.hbar:hover rect{opacity:.8}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#f7f9fb;color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.4px;cursor:pointer;user-select:none;white-space:nowrap}
th:hover{color:var(--ink)}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
td.n{text-align:right}th.n{text-align:right}
td.name{word-break:break-all;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px}
td.b{color:var(--block);font-weight:600}
tr:hover td{background:#fafbfd}
.pill{display:inline-block;padding:1px 7px;margin:1px 2px;border-radius:10px;background:#fdecea;color:#962d22;font-size:12px}
.muted{color:var(--muted)}
details summary{cursor:pointer;font-weight:600;font-size:16px}
details[open] summary{margin-bottom:10px}
footer{color:var(--muted);font-size:12px;text-align:center;padding:10px 0 30px}
@media print{body{background:#fff}section{break-inside:avoid}}
)CSS";

// Sorts a table by the clicked header: numbers by data-v, text otherwise.
constexpr const char* kScript = R"JS(
(function(){
  document.querySelectorAll('table.sortable').forEach(function(t){
    t.querySelectorAll('th').forEach(function(th,col){
      th.addEventListener('click',function(){
        var asc=th.getAttribute('aria-sort')!=='ascending';
        t.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort');});
        th.setAttribute('aria-sort',asc?'ascending':'descending');
        var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
        var key=function(r){var c=r.cells[col];if(!c)return '';var v=c.getAttribute('data-v');return v!==null?parseFloat(v):c.textContent.toLowerCase();};
        rows.sort(function(a,b){var x=key(a),y=key(b);var d=(typeof x==='number'&&typeof y==='number')?x-y:(x<y?-1:x>y?1:0);return asc?d:-d;});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
})();
)JS";

}  // namespace

std::string RenderHtml(const Report& r) {
  std::string o;
  o.reserve(64 * 1024);
  o += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  // Nothing may load from anywhere: the page is read offline, and its text is
  // attacker-influenced (escaped, and this is the second line of defence).
  o += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
       "script-src 'unsafe-inline'\">\n";
  o += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n";
  std::string period = r.first_us ? absl::StrCat(FormatTime(*r.first_us), " to ", FormatTime(*r.last_us)) : "no decisions";
  absl::StrAppend(&o, "<title>Vigie decision report: ", HtmlEscape(period), "</title>\n<style>", kCss,
                  "</style></head>\n<body>\n");
  absl::StrAppend(&o, "<header><h1>Vigie <span>decision report</span></h1><div class=\"sub\" id=\"period\"");
  if (r.first_us) {
    absl::StrAppend(&o, " data-first=\"", FormatTime(*r.first_us), "\" data-last=\"", FormatTime(*r.last_us), "\"");
  }
  absl::StrAppend(&o, ">", HtmlEscape(period), " (UTC) &middot; ", r.files.size(), " log file",
                  r.files.size() == 1 ? "" : "s", " &middot; ", r.lines, " lines");
  if (r.filter.since_us || r.filter.until_us) {
    absl::StrAppend(&o, " &middot; filter ", r.filter.since_us ? FormatTime(*r.filter.since_us) : "&hellip;", " to ",
                    r.filter.until_us ? FormatTime(*r.filter.until_us) : "&hellip;", " (", r.filtered_out,
                    " decisions outside)");
  }
  o += "</div></header>\n<main>\n<div class=\"kpis\" id=\"totals\">\n";
  Kpi("data-total-decisions", "decisions", r.totals.total(), "info", &o);
  Kpi("data-total-blocks", "blocked", r.totals.block, "block", &o);
  Kpi("data-total-logs", "logged", r.totals.log, "log", &o);
  Kpi("data-total-allows", "allowed", r.totals.allow, "allow", &o);
  Kpi("data-total-devices", "devices", r.devices.size(), "info", &o);
  Kpi("data-total-names", "names", r.names.size(), "info", &o);
  uint64_t exception_uses = 0;
  for (const auto& [k, n] : r.exceptions) exception_uses += n;
  Kpi("data-total-exception-uses", "exception uses", exception_uses, "log", &o);
  Kpi("data-total-bad-lines", "bad lines", r.bad_lines, "bad", &o);
  o += "</div>\n";

  // Timeline.
  o += "<section class=\"row\"><h2>Decisions over time<small>UTC, stacked by action</small></h2>\n";
  TimelineSvg(r, &o);
  o += "</section>\n";

  // Blocks per app and top devices charts.
  // The app chart uses the device chart's per-app colours: it is its legend.
  const auto apps = ByValueDesc(r.blocks_per_app);
  std::map<std::string, std::string> app_color;
  for (size_t i = 0; i < apps.size() && i < std::size(kAppPalette); ++i) app_color[apps[i].first] = kAppPalette[i];
  std::vector<BarRow> app_rows;
  uint64_t other_blocks = 0;
  for (size_t i = 0; i < apps.size(); ++i) {
    if (i < kChartApps) {
      auto c = app_color.find(apps[i].first);
      app_rows.push_back(
          {apps[i].first, "data-app", {{apps[i].second, c == app_color.end() ? kColorOthers : c->second, "blocks"}}});
    } else {
      other_blocks += apps[i].second;
    }
  }
  if (other_blocks) app_rows.push_back({"(other apps)", "data-app", {{other_blocks, kColorOthers, "blocks"}}});
  std::vector<BarRow> device_rows;
  for (const auto& [ip, d] : TopDevices(r, kChartDevices)) {
    if (d->counts.block == 0) break;
    BarRow row{ip, "data-device", {}};
    uint64_t grey = 0;
    for (const auto& [app, n] : ByValueDesc(d->blocked_apps)) {
      auto c = app_color.find(app);
      if (c == app_color.end()) {
        grey += n;
      } else {
        row.segments.push_back({n, c->second, app});
      }
    }
    if (grey) row.segments.push_back({grey, kColorOthers, "other apps"});
    device_rows.push_back(std::move(row));
  }
  o += "<div class=\"grid2 row\">\n<section><h2>Blocks per app</h2>\n";
  BarChartSvg("chart-apps", "no blocks in this period", 150, app_rows, &o);
  o += "</section>\n<section><h2>Top devices by blocks<small>coloured by app</small></h2>\n";
  BarChartSvg("chart-devices", "no device was blocked in this period", 200, device_rows, &o);
  o += "</section>\n</div>\n";

  // Blocks per app table.
  std::map<std::string, uint64_t> devices_per_app;
  for (const auto& [ip, d] : r.devices) {
    for (const auto& [app, n] : d.blocked_apps) ++devices_per_app[app];
  }
  o += "<div class=\"grid2 row\">\n<section><h2>Blocked apps<small>devices: how many had the app blocked</small></h2>\n<table id=\"table-apps\" class=\"sortable\">"
       "<thead><tr><th>app</th><th class=\"n\">blocks</th><th class=\"n\">share</th><th class=\"n\">devices</th>"
       "</tr></thead><tbody>\n";
  for (size_t i = 0; i < apps.size() && i < kMaxTableRows; ++i) {
    const auto& [app, n] = apps[i];
    const std::string a = HtmlEscape(app);
    absl::StrAppend(&o, "<tr data-app=\"", a, "\"><td>", a, "</td>", NumCell(n, " data-blocks"),
                    "<td class=\"n\" data-v=\"", n, "\">", Percent(n, r.totals.block), "</td>",
                    NumCell(devices_per_app[app]), "</tr>\n");
  }
  o += "</tbody></table></section>\n";

  // Reasons table.
  o += "<section><h2>Decisions by reason</h2>\n<table id=\"table-reasons\" class=\"sortable\"><thead><tr>"
       "<th>reason</th><th class=\"n\">decisions</th><th class=\"n\">share</th></tr></thead><tbody>\n";
  const auto reasons = ByValueDesc(r.reasons);
  for (size_t i = 0; i < reasons.size() && i < kMaxTableRows; ++i) {
    const auto& [reason, n] = reasons[i];
    absl::StrAppend(&o, "<tr><td>", HtmlEscape(reason), "</td>", NumCell(n), "<td class=\"n\" data-v=\"", n, "\">",
                    Percent(n, r.totals.total()), "</td></tr>\n");
  }
  o += "</tbody></table></section>\n</div>\n";

  // Top devices table.
  absl::StrAppendFormat(&o,
                        "<section><h2>Top devices<small>%d of %d, by blocks</small></h2>\n"
                        "<table id=\"table-devices\" class=\"sortable\"><thead><tr><th>device</th>"
                        "<th class=\"n\">decisions</th><th class=\"n\">blocks</th><th class=\"n\">logs</th>"
                        "<th class=\"n\">allows</th><th>blocked apps</th></tr></thead><tbody>\n",
                        std::min(kTopDevices, r.devices.size()), r.devices.size());
  for (const auto& [ip, d] : TopDevices(r, kTopDevices)) {
    const std::string e = HtmlEscape(ip);
    absl::StrAppend(&o, "<tr data-device=\"", e, "\"><td class=\"name\">", e, "</td>", NumCell(d->counts.total()),
                    "<td class=\"n", d->counts.block ? " b" : "", "\" data-v=\"", d->counts.block, "\">", d->counts.block, "</td>",
                    NumCell(d->counts.log), NumCell(d->counts.allow), "<td>");
    for (const auto& [app, n] : ByValueDesc(d->blocked_apps)) {
      absl::StrAppend(&o, "<span class=\"pill\">", HtmlEscape(app), " ", n, "</span>");
    }
    o += "</td></tr>\n";
  }
  o += "</tbody></table></section>\n";

  // Top names table.
  absl::StrAppendFormat(&o,
                        "<section><h2>Top names<small>%d of %d, by blocks</small></h2>\n"
                        "<table id=\"table-names\" class=\"sortable\"><thead><tr><th>name</th><th>app</th>"
                        "<th class=\"n\">decisions</th><th class=\"n\">blocks</th><th class=\"n\">logs</th>"
                        "<th class=\"n\">allows</th></tr></thead><tbody>\n",
                        std::min(kTopNames, r.names.size()), r.names.size());
  for (const auto& [name, n] : TopNames(r, kTopNames)) {
    const std::string e = HtmlEscape(name);
    absl::StrAppend(&o, "<tr data-name=\"", e, "\"><td class=\"name\">", e, "</td><td>",
                    n->app.empty() ? "<span class=\"muted\">&ndash;</span>" : HtmlEscape(n->app), "</td>",
                    NumCell(n->counts.total()), "<td class=\"n", n->counts.block ? " b" : "", "\" data-v=\"", n->counts.block, "\">",
                    n->counts.block, "</td>", NumCell(n->counts.log), NumCell(n->counts.allow), "</tr>\n");
  }
  o += "</tbody></table></section>\n";

  // Exception use.
  o += "<section><h2>Exception use</h2>\n";
  if (r.exceptions.empty()) {
    o += "<p class=\"muted\" id=\"no-exceptions\">No decision was made under an exception in this period.</p>\n";
  }
  o += "<table id=\"table-exceptions\" class=\"sortable\"><thead><tr><th>exception</th><th>ticket</th><th>app</th>"
       "<th class=\"n\">decisions</th></tr></thead><tbody>\n";
  for (const auto& [k, n] : r.exceptions) {
    absl::StrAppend(&o, "<tr data-exception=\"", HtmlEscape(k.id), "\"><td>", HtmlEscape(k.id), "</td><td>",
                    HtmlEscape(Or(k.ticket, "-")), "</td><td>", HtmlEscape(Or(k.app, "-")), "</td>", NumCell(n),
                    "</tr>\n");
  }
  o += "</tbody></table></section>\n";

  // Per hour, folded: long for a week of logs.
  absl::StrAppendFormat(&o,
                        "<section><details id=\"per-hour\"><summary>Decisions per hour<small class=\"muted\"> "
                        "&nbsp;%d hours with decisions, UTC</small></summary>\n"
                        "<table id=\"table-hours\" class=\"sortable\"><thead><tr><th>hour</th><th class=\"n\">block"
                        "</th><th class=\"n\">log</th><th class=\"n\">allow</th><th class=\"n\">total</th></tr>"
                        "</thead><tbody>\n",
                        r.per_hour.size());
  for (const auto& [h, c] : r.per_hour) {
    absl::StrAppend(&o, "<tr><td>", FormatHour(h), "</td>", NumCell(c.block), NumCell(c.log), NumCell(c.allow),
                    NumCell(c.total()), "</tr>\n");
  }
  o += "</tbody></table></details></section>\n";

  if (r.bad_lines || r.untracked) {
    absl::StrAppendFormat(&o, "<section id=\"bad-lines\" data-bad-lines=\"%d\"><h2>Input problems</h2>\n",
                          r.bad_lines);
    if (r.untracked) {
      absl::StrAppendFormat(&o, "<p>%d decisions counted in the totals but not ranked (over %d distinct keys).</p>\n",
                            r.untracked, kMaxDistinctKeys);
    }
    if (r.bad_lines) {
      absl::StrAppendFormat(&o, "<p>%d bad lines%s, skipped:</p>\n", r.bad_lines,
                            r.bad_lines > r.bad.size() ? absl::StrCat(" (first ", r.bad.size(), " listed)") : "");
      o += "<table class=\"sortable\"><thead><tr><th>where</th><th>why</th></tr></thead><tbody>\n";
      for (const BadLine& b : r.bad) {
        absl::StrAppend(&o, "<tr><td class=\"name\">", HtmlEscape(b.where), "</td><td>", HtmlEscape(b.why),
                        "</td></tr>\n");
      }
      o += "</tbody></table>\n";
    }
    o += "</section>\n";
  }
  o += "<footer>Files: ";
  for (size_t i = 0; i < r.files.size(); ++i) {
    absl::StrAppend(&o, i ? ", " : "", HtmlEscape(r.files[i]));
  }
  absl::StrAppend(&o, " &middot; ", r.vigie_lines, " Vigie and ", r.eve_lines, " EVE decisions &middot; generated by "
                  "<b>vigie report</b></footer>\n</main>\n<script>", kScript, "</script>\n</body></html>\n");
  return o;
}

}  // namespace vigie::report
