#include "gateway/summary.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/absl_compat.h"

namespace vigie {

void PrintSummary(const Pipeline& p, double seconds, FILE* out) {
  const Counters& c = p.counters();
  const Matcher& m = p.policy().matcher();
  absl::FPrintF(out, "\n== vigie summary ==\n");
  absl::FPrintF(out, "packets %d (%d bytes) in %.3f s; flows created %d; IPv4 %d, IPv6 %d, tunnelled %d\n",
                c.Get(Counter::k_packets), c.Get(Counter::k_bytes), seconds, c.Get(Counter::k_flows_created),
                c.Get(Counter::k_packets_ipv4), c.Get(Counter::k_packets_ipv6),
                c.Get(Counter::k_packets_tunnelled));
  absl::FPrintF(out, "names: %d DNS questions, %d TLS ClientHellos (%d without SNI, %d over several segments)\n",
                c.Get(Counter::k_dns_questions), c.Get(Counter::k_tls_client_hellos), c.Get(Counter::k_tls_no_sni),
                c.Get(Counter::k_tls_multi_segment));
  absl::FPrintF(out, "\n%-16s %8s %8s %8s  %s\n", "decisions by app", "block", "log", "allow", "policy");
  const auto& by = p.by_app();
  uint64_t tot[3] = {0, 0, 0};
  for (size_t i = 0; i < by.size(); ++i) {
    const auto& row = by[i];
    if (row[0] + row[1] + row[2] == 0) continue;
    bool app = i < m.app_count();
    std::string name = app ? m.app_name(static_cast<AppId>(i)) : "(no list)";
    std::string pol = !app ? "-" : m.app_allowed(static_cast<AppId>(i)) ? "allow-list"
                      : p.policy().app_has_policy(static_cast<AppId>(i))
                          ? std::string(ActionName(p.policy().app_action(static_cast<AppId>(i))))
                          : "none";
    absl::FPrintF(out, "  %-14s %8d %8d %8d  %s\n", name, row[2], row[1], row[0], pol);
    for (int k = 0; k < 3; ++k) tot[k] += row[k];
  }
  absl::FPrintF(out, "  %-14s %8d %8d %8d\n", "total", tot[2], tot[1], tot[0]);
  bool any = false;
  for (size_t i = 0; i < kAnomalyCount; ++i) {
    if (c.a[i] == 0) continue;
    if (!any) absl::FPrintF(out, "\nanomalies (counted, passed)\n");
    any = true;
    absl::FPrintF(out, "  %-26s %8d  %s\n", kAnomalyNames[i], c.a[i], kAnomalyHelp[i]);
  }
  if (!any) absl::FPrintF(out, "\nanomalies: none\n");
  absl::FPrintF(out, "\ncounters\n");
  for (size_t i = 0; i < kCounterCount; ++i) {
    if (c.c[i] == 0) continue;
    absl::FPrintF(out, "  %-26s %10d  %s\n", kCounterNames[i], c.c[i], kCounterHelp[i]);
  }
}

std::string SummaryJson(const Pipeline& p) {
  const Counters& c = p.counters();
  std::string s = "{\"counters\":{";
  for (size_t i = 0; i < kCounterCount; ++i) {
    absl::StrAppend(&s, i ? "," : "", "\"", AV(kCounterNames[i]), "\":", c.c[i]);
  }
  s += "},\"anomalies\":{";
  for (size_t i = 0; i < kAnomalyCount; ++i) {
    absl::StrAppend(&s, i ? "," : "", "\"", AV(kAnomalyNames[i]), "\":", c.a[i]);
  }
  s += "},\"decisions\":{";
  const Matcher& m = p.policy().matcher();
  bool first = true;
  const auto& by = p.by_app();
  for (size_t i = 0; i < by.size(); ++i) {
    const auto& row = by[i];
    if (row[0] + row[1] + row[2] == 0) continue;
    std::string name = i < m.app_count() ? m.app_name(static_cast<AppId>(i)) : "";
    absl::StrAppend(&s, first ? "" : ",", "\"", name, "\":{\"block\":", row[2], ",\"log\":", row[1],
                    ",\"allow\":", row[0], "}");
    first = false;
  }
  s += "}}";
  return s;
}

}  // namespace vigie
