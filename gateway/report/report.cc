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

namespace vigie::report {
namespace {

using nlohmann::json;

// zlib's internal buffer: large sequential reads of multi-GB logs.
constexpr unsigned kGzBufferBytes = 128 * 1024;
// gzgets chunk; a line longer than this is read in several chunks.
constexpr int kReadChunkBytes = 8192;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t y;
  unsigned m, d;
};
Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `*pos`.
bool Digits(std::string_view s, size_t* pos, size_t n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

// The string at `key` of an object; "" when absent or null; nullopt when of
// another type.
std::optional<std::string> StringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// A string field that must be a string when present; an error names it.
absl::Status TakeString(const json& obj, const char* key, std::string* out) {
  std::optional<std::string> v = StringField(obj, key);
  if (!v) return absl::InvalidArgumentError(absl::StrCat("field '", key, "' is not a string"));
  *out = *std::move(v);
  return absl::OkStatus();
}

// alert.metadata.<key>: an array of strings (Suricata), first element; a bare
// string is accepted too. The first of `keys` present wins.
std::string MetadataField(const json& metadata, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    auto it = metadata.find(key);
    if (it == metadata.end()) continue;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_array() && !it->empty() && (*it)[0].is_string()) return (*it)[0].get<std::string>();
  }
  return "";
}

absl::StatusOr<LineKind> ParseVigie(const json& j, Event* e) {
  std::string ts;
  if (absl::Status s = TakeString(j, "timestamp", &ts); !s.ok()) return s;
  if (ts.empty()) return absl::InvalidArgumentError("no timestamp");
  absl::StatusOr<int64_t> t = ParseTime(ts);
  if (!t.ok()) return absl::InvalidArgumentError(absl::StrCat("timestamp: ", t.status().message()));
  e->ts_us = *t;
  struct {
    const char* key;
    std::string* out;
  } fields[] = {{"action", &e->action},   {"reason", &e->reason}, {"proto", &e->proto},
                {"src_ip", &e->src_ip},   {"domain", &e->domain}, {"app", &e->app},
                {"list", &e->list},       {"rule", &e->rule},     {"exception", &e->exception},
                {"exception_ticket", &e->ticket}};
  for (const auto& f : fields) {
    if (absl::Status s = TakeString(j, f.key, f.out); !s.ok()) return s;
  }
  if (e->action.empty()) return absl::InvalidArgumentError("no action");
  return LineKind::kDecision;
}

absl::StatusOr<LineKind> ParseEve(const json& j, Event* e) {
  std::string type;
  if (absl::Status s = TakeString(j, "event_type", &type); !s.ok()) return s;
  if (type != "alert" && type != "drop") return LineKind::kSkipped;
  e->eve = true;
  std::string ts;
  if (absl::Status s = TakeString(j, "timestamp", &ts); !s.ok()) return s;
  if (ts.empty()) return absl::InvalidArgumentError("no timestamp");
  absl::StatusOr<int64_t> t = ParseTime(ts);
  if (!t.ok()) return absl::InvalidArgumentError(absl::StrCat("timestamp: ", t.status().message()));
  e->ts_us = *t;
  if (absl::Status s = TakeString(j, "src_ip", &e->src_ip); !s.ok()) return s;
  auto alert = j.find("alert");
  if (alert == j.end() || !alert->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("EVE ", type, " without an alert object"));
  }
  std::string alert_action;
  if (absl::Status s = TakeString(*alert, "action", &alert_action); !s.ok()) return s;
  static const json kNoMetadata = json::object();
  auto md_it = alert->find("metadata");
  const json& md = (md_it != alert->end() && md_it->is_object()) ? *md_it : kNoMetadata;
  // Keys: vigie_* (issue 11's list) or the EVE writer's (gateway/output/eve.h:
  // app, list, rule_entry, reason, exception_id, exception_ticket; its
  // "rule" is the list FILE:LINE, read only when there is no entry).
  e->action = MetadataField(md, {"vigie_action"});
  if (e->action.empty()) {
    // A foreign Suricata alert: blocked (or a drop event) is a block; an
    // alert that let the traffic pass is what Vigie calls log.
    e->action = (type == "drop" || alert_action == "blocked") ? "block" : "log";
  }
  e->app = MetadataField(md, {"vigie_app", "app"});
  e->reason = MetadataField(md, {"vigie_reason", "reason"});
  e->list = MetadataField(md, {"vigie_list", "list"});
  e->rule = MetadataField(md, {"vigie_rule", "rule_entry", "rule"});
  e->exception = MetadataField(md, {"vigie_exception", "exception_id"});
  e->ticket = MetadataField(md, {"vigie_ticket", "exception_ticket"});
  if (absl::Status s = TakeString(j, "app_proto", &e->proto); !s.ok()) return s;
  // The name: whichever app-layer object the event carries.
  auto sub = [&](const char* obj, const char* key) -> std::string {
    auto o = j.find(obj);
    if (o == j.end() || !o->is_object()) return "";
    std::optional<std::string> v = StringField(*o, key);
    return v ? *v : "";
  };
  if (auto dns = j.find("dns"); dns != j.end() && dns->is_object()) {
    if (e->proto.empty()) e->proto = "dns";
    auto q = dns->find("queries");  // v3
    if (q != dns->end() && q->is_array() && !q->empty() && (*q)[0].is_object()) {
      std::optional<std::string> v = StringField((*q)[0], "rrname");
      if (v) e->domain = *v;
    } else {
      e->domain = sub("dns", "rrname");  // v2
    }
  } else if (std::string s = sub("tls", "sni"); !s.empty()) {
    e->domain = s;
    if (e->proto.empty()) e->proto = "tls";
  } else if (std::string q = sub("quic", "sni"); !q.empty()) {
    e->domain = q;
    if (e->proto.empty()) e->proto = "quic";
  } else if (std::string h = sub("http", "hostname"); !h.empty()) {
    e->domain = h;
    if (e->proto.empty()) e->proto = "http";
  }
  return LineKind::kDecision;
}

// Text output goes to terminals: control bytes from the log (C0, DEL and
// UTF-8-encoded C1) become \xNN so a name cannot move the cursor or retitle
// the terminal.
std::string Printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(s[i + 1]));
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string Or(std::string_view s, std::string_view dflt) { return std::string(s.empty() ? dflt : s); }

std::string Percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "0%";
  return absl::StrFormat("%.1f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

template <typename V>
std::vector<std::pair<std::string, V>> ByValueDesc(const std::map<std::string, V>& m) {
  std::vector<std::pair<std::string, V>> v(m.begin(), m.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return v;
}

std::string BlockedAppsText(const DeviceStats& d) {
  std::vector<std::string> parts;
  for (const auto& [app, n] : ByValueDesc(d.blocked_apps)) parts.push_back(absl::StrCat(app, " (", n, ")"));
  return absl::StrJoin(parts, ", ");
}

}  // namespace

absl::StatusOr<int64_t> ParseTime(std::string_view s, bool* date_only) {
  auto bad = [&]() {
    return absl::InvalidArgumentError(
        absl::StrCat("'", AV(s), "' is not YYYY-MM-DD or RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac]Z)"));
  };
  size_t p = 0;
  int y, mo, d;
  if (!Digits(s, &p, 4, &y) || !Expect(s, &p, '-') || !Digits(s, &p, 2, &mo) || !Expect(s, &p, '-') ||
      !Digits(s, &p, 2, &d)) {
    return bad();
  }
  if (mo < 1 || mo > 12 || d < 1 || static_cast<unsigned>(d) > DaysInMonth(y, mo)) return bad();
  int64_t days = DaysFromCivil(y, mo, d);
  if (p == s.size()) {
    if (date_only) *date_only = true;
    return days * kUsPerDay;
  }
  if (date_only) *date_only = false;
  if (s[p] != 'T' && s[p] != 't' && s[p] != ' ') return bad();
  ++p;
  int h, mi, sec;
  if (!Digits(s, &p, 2, &h) || !Expect(s, &p, ':') || !Digits(s, &p, 2, &mi) || !Expect(s, &p, ':') ||
      !Digits(s, &p, 2, &sec)) {
    return bad();
  }
  if (h > 23 || mi > 59 || sec > 60) return bad();  // 60: a leap second
  int64_t us = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    size_t start = p;
    int64_t scale = 100000;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      us += (s[p] - '0') * scale;  // digits past microseconds add 0
      scale /= 10;
      ++p;
    }
    if (p == start) return bad();
  }
  int64_t offset_s = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    int sign = s[p] == '-' ? -1 : 1;
    ++p;
    int oh, om;
    if (!Digits(s, &p, 2, &oh)) return bad();
    Expect(s, &p, ':');  // +HH:MM (RFC 3339) or +HHMM (Suricata)
    if (!Digits(s, &p, 2, &om) || oh > 23 || om > 59) return bad();
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return bad();
  }
  if (p != s.size()) return bad();
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * kUsPerSecond + us;
}

std::string FormatTime(int64_t ts_us) {
  int64_t secs = FloorDiv(ts_us, kUsPerSecond);
  int64_t days = FloorDiv(secs, 86400);
  int64_t rem = secs - days * 86400;
  Civil c = CivilFromDays(days);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02dZ", c.y, c.m, c.d, rem / 3600, rem / 60 % 60,
                         rem % 60);
}

std::string FormatHour(int64_t hour_start_us) {
  int64_t secs = FloorDiv(hour_start_us, kUsPerSecond);
  int64_t days = FloorDiv(secs, 86400);
  int64_t rem = secs - days * 86400;
  Civil c = CivilFromDays(days);
  return absl::StrFormat("%04d-%02d-%02d %02d:00", c.y, c.m, c.d, rem / 3600);
}

absl::StatusOr<LineKind> ParseLine(std::string_view line, Event* out) {
  *out = Event();
  std::string_view trimmed = SV(absl::StripAsciiWhitespace(AV(line)));
  if (trimmed.empty()) return LineKind::kSkipped;
  json j;
  try {
    j = json::parse(trimmed.begin(), trimmed.end());
  } catch (const json::exception& ex) {
    // "[json.exception.parse_error.101] parse error at ..." -> "parse error at ..."
    std::string_view what = ex.what();
    if (size_t close = what.find("] "); close != std::string_view::npos) what.remove_prefix(close + 2);
    return absl::InvalidArgumentError(absl::StrCat("not JSON: ", AV(what)));
  }
  if (!j.is_object()) return absl::InvalidArgumentError("not a JSON object");
  if (j.contains("event_type")) return ParseEve(j, out);
  if (j.contains("action")) return ParseVigie(j, out);
  return absl::InvalidArgumentError("neither a Vigie decision (action) nor an EVE event (event_type)");
}

void ActionCounts::Add(std::string_view action) {
  if (action == "block") {
    ++block;
  } else if (action == "log") {
    ++log;
  } else if (action == "allow") {
    ++allow;
  } else {
    ++other;
  }
}

std::string BlockLabel(const Event& e) {
  if (!e.app.empty()) return e.app;
  return absl::StrCat("(", e.reason.empty() ? "no app" : e.reason, ")");
}

void Report::Add(const Event& e) {
  totals.Add(e.action);
  if (!first_us || e.ts_us < *first_us) first_us = e.ts_us;
  if (!last_us || e.ts_us > *last_us) last_us = e.ts_us;
  per_hour[FloorDiv(e.ts_us, kUsPerHour) * kUsPerHour].Add(e.action);
  const bool blocked = e.action == "block";
  bool ranked = true;
  // A key map grows only below kMaxDistinctKeys; known keys always count.
  auto slot = [&](auto& m, const std::string& key) -> decltype(&m[key]) {
    auto it = m.find(key);
    if (it != m.end()) return &it->second;
    if (m.size() >= kMaxDistinctKeys) {
      ranked = false;
      return nullptr;
    }
    return &m[key];
  };
  if (uint64_t* r = slot(reasons, Or(e.reason, "(none)"))) ++*r;
  std::string label = blocked ? BlockLabel(e) : std::string();
  if (blocked) {
    if (uint64_t* n = slot(blocks_per_app, label)) ++*n;
  }
  if (!e.src_ip.empty()) {
    if (DeviceStats* d = slot(devices, e.src_ip)) {
      d->counts.Add(e.action);
      if (blocked) ++d->blocked_apps[label];
    }
  }
  if (!e.domain.empty()) {
    if (NameStats* n = slot(names, e.domain)) {
      n->counts.Add(e.action);
      if (!e.app.empty()) n->app = e.app;
    }
  }
  if (!e.exception.empty()) {
    ExceptionKey k{e.exception, e.ticket, e.app};
    auto it = exceptions.find(k);
    if (it != exceptions.end()) {
      ++it->second;
    } else if (exceptions.size() < kMaxDistinctKeys) {
      exceptions[k] = 1;
    } else {
      ranked = false;
    }
  }
  if (!ranked) ++untracked;
}

void Report::AddBad(std::string where, std::string why) {
  ++bad_lines;
  if (bad.size() < kMaxBadLinesKept) bad.push_back({std::move(where), std::move(why)});
}

absl::Status ReadLog(const std::string& path, Report* report) {
  gzFile f = nullptr;
  if (path == "-") {
    int fd = dup(STDIN_FILENO);
    if (fd >= 0) f = gzdopen(fd, "rb");
  } else {
    f = gzopen(path.c_str(), "rb");
  }
  if (f == nullptr) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  gzbuffer(f, kGzBufferBytes);
  report->files.push_back(path);
  const std::string name = path == "-" ? "(stdin)" : path;
  char chunk[kReadChunkBytes];
  std::string line;
  bool too_long = false;
  uint64_t lineno = 0;
  Event e;
  auto finish_line = [&]() {
    ++lineno;
    ++report->lines;
    if (too_long) {
      report->AddBad(absl::StrCat(name, ":", lineno), absl::StrCat("line longer than ", kMaxLineBytes, " bytes"));
    } else {
      absl::StatusOr<LineKind> kind = ParseLine(line, &e);
      if (!kind.ok()) {
        report->AddBad(absl::StrCat(name, ":", lineno), std::string(kind.status().message()));
      } else if (*kind == LineKind::kSkipped) {
        ++report->skipped;
      } else if (!report->filter.Keep(e.ts_us)) {
        ++report->filtered_out;
      } else {
        ++(e.eve ? report->eve_lines : report->vigie_lines);
        report->Add(e);
      }
    }
    line.clear();
    too_long = false;
  };
  absl::Status status = absl::OkStatus();
  while (gzgets(f, chunk, sizeof chunk) != nullptr) {
    size_t n = std::strlen(chunk);
    bool eol = n > 0 && chunk[n - 1] == '\n';
    if (eol) --n;
    if (!too_long) {
      if (line.size() + n > kMaxLineBytes) {
        too_long = true;
        line.clear();
      } else {
        line.append(chunk, n);
      }
    }
    if (eol) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      finish_line();
    }
  }
  int err = Z_OK;
  const char* msg = gzerror(f, &err);
  if (!line.empty() || too_long) finish_line();  // last line without a newline
  if (err == Z_ERRNO) {
    status = absl::DataLossError(absl::StrCat(name, ": read error: ", std::strerror(errno)));
  } else if (err != Z_OK) {
    // Truncated or corrupt gzip (a log rotated mid-write): what was read
    // counts; the damage is reported where it was met.
    report->AddBad(absl::StrCat(name, ":", lineno + 1), absl::StrCat("gzip: ", msg));
  }
  gzclose(f);
  return status;
}

std::vector<std::pair<std::string, const DeviceStats*>> TopDevices(const Report& r, size_t n) {
  std::vector<std::pair<std::string, const DeviceStats*>> v;
  v.reserve(r.devices.size());
  for (const auto& [k, d] : r.devices) v.emplace_back(k, &d);
  auto key = [](const DeviceStats* d) { return std::make_tuple(d->counts.block, d->counts.log, d->counts.total()); };
  std::stable_sort(v.begin(), v.end(), [&](const auto& a, const auto& b) { return key(a.second) > key(b.second); });
  if (v.size() > n) v.resize(n);
  return v;
}

std::vector<std::pair<std::string, const NameStats*>> TopNames(const Report& r, size_t n) {
  std::vector<std::pair<std::string, const NameStats*>> v;
  v.reserve(r.names.size());
  for (const auto& [k, d] : r.names) v.emplace_back(k, &d);
  auto key = [](const NameStats* d) { return std::make_tuple(d->counts.block, d->counts.log, d->counts.total()); };
  std::stable_sort(v.begin(), v.end(), [&](const auto& a, const auto& b) { return key(a.second) > key(b.second); });
  if (v.size() > n) v.resize(n);
  return v;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // C0 controls are not allowed in HTML text; show them as U+FFFD.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += "\xEF\xBF\xBD";
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

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

namespace {

constexpr const char* kReportUsage =
    "usage: vigie report LOG... [--html FILE] [--since T] [--until T]\n"
    "  LOG: Vigie decision log or Suricata EVE (plain or gzip; - for stdin)\n"
    "  T: YYYY-MM-DD or RFC 3339 (2025-06-02T09:00:00Z), UTC; --since is inclusive,\n"
    "     --until exclusive (a bare date includes that whole day)\n";

int UsageError(const std::string& msg) {
  std::fprintf(stderr, "vigie: report: %s\n%s", msg.c_str(), kReportUsage);
  return 2;
}

}  // namespace

int RunReportCommand(int argc, char** argv) {
  std::vector<std::string> logs;
  std::string html;
  Report report;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    std::string value;
    auto option = [&](std::string_view name) -> int {  // 1 taken, 0 not this option, -1 missing value
      if (a == name) {
        if (i + 1 >= argc) return -1;
        value = argv[++i];
        return 1;
      }
      if (a.size() > name.size() && a.substr(0, name.size()) == name && a[name.size()] == '=') {
        value = std::string(a.substr(name.size() + 1));
        return 1;
      }
      return 0;
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kReportUsage, stdout);
      return 0;
    }
    int got;
    if ((got = option("--html")) != 0) {
      if (got < 0) return UsageError("--html needs a file");
      html = value;
    } else if ((got = option("--since")) != 0 || (got = option("--until")) != 0) {
      const bool since = a.substr(0, 7) == "--since";
      if (got < 0) return UsageError(absl::StrCat(since ? "--since" : "--until", " needs a time"));
      bool date_only = false;
      absl::StatusOr<int64_t> t = ParseTime(value, &date_only);
      if (!t.ok()) return UsageError(absl::StrCat(since ? "--since: " : "--until: ", t.status().message()));
      if (since) {
        report.filter.since_us = *t;
      } else {
        report.filter.until_us = date_only ? *t + kUsPerDay : *t;
      }
    } else if (a.size() > 1 && a[0] == '-' && a != "-") {
      return UsageError(absl::StrCat("unknown option '", AV(a), "'"));
    } else {
      logs.emplace_back(a);
    }
  }
  if (logs.empty()) return UsageError("no log given");
  for (const std::string& path : logs) {
    if (absl::Status s = ReadLog(path, &report); !s.ok()) {
      std::fprintf(stderr, "vigie: report: %s\n", std::string(s.message()).c_str());
      return 2;
    }
  }
  std::string text = RenderText(report);
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (!html.empty()) {
    std::string page = RenderHtml(report);
    std::ofstream f(html, std::ios::binary | std::ios::trunc);
    f.write(page.data(), static_cast<std::streamsize>(page.size()));
    f.close();
    if (!f) {
      std::fprintf(stderr, "vigie: report: %s: cannot write: %s\n", html.c_str(), std::strerror(errno));
      return 2;
    }
    std::fprintf(stderr, "vigie: report: wrote %s (%zu bytes)\n", html.c_str(), page.size());
  }
  return 0;
}

}  // namespace vigie::report
