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
