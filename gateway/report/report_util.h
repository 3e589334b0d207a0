// Shared by the report sources: text helpers (report_text.cc, report_html.cc).
#ifndef VIGIE_GATEWAY_REPORT_REPORT_UTIL_H_
#define VIGIE_GATEWAY_REPORT_REPORT_UTIL_H_

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gateway/report/report.h"

namespace vigie::report {

inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
inline int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
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
inline Civil CivilFromDays(int64_t z) {
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

// Text output goes to terminals: control bytes from the log (C0, DEL and
// UTF-8-encoded C1) become \xNN so a name cannot move the cursor or retitle
// the terminal.
inline std::string Printable(std::string_view s) {
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

inline std::string Or(std::string_view s, std::string_view dflt) { return std::string(s.empty() ? dflt : s); }

inline std::string Percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "0%";
  return absl::StrFormat("%.1f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

template <typename V>
std::vector<std::pair<std::string, V>> ByValueDesc(const std::map<std::string, V>& m) {
  std::vector<std::pair<std::string, V>> v(m.begin(), m.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return v;
}

inline std::string BlockedAppsText(const DeviceStats& d) {
  std::vector<std::string> parts;
  for (const auto& [app, n] : ByValueDesc(d.blocked_apps)) parts.push_back(absl::StrCat(app, " (", n, ")"));
  return absl::StrJoin(parts, ", ");
}

}  // namespace vigie::report

#endif  // VIGIE_GATEWAY_REPORT_REPORT_UTIL_H_
