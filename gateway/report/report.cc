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

using nlohmann::json;

// zlib's internal buffer: large sequential reads of multi-GB logs.
constexpr unsigned kGzBufferBytes = 128 * 1024;
// gzgets chunk; a line longer than this is read in several chunks.
constexpr int kReadChunkBytes = 8192;

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

}  // namespace

absl::StatusOr<int64_t> ParseTime(std::string_view s, bool* date_only) {
  auto bad = [&]() {
    return absl::InvalidArgumentError(
        absl::StrCat("'", AV(s), "' is not YYYY-MM-DD or RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac]Z)"));
  };
  size_t p = 0;
  int y = 0, mo = 0, d = 0;
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

}  // namespace vigie::report
