#include "gateway/output/summary.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/base/absl_compat.h"
#include "gateway/output/json.h"

namespace vigie {
namespace {

std::string AppLabel(const Matcher& m, size_t i, const char* none) {
  return i < m.app_count() ? m.app_name(static_cast<AppId>(i)) : none;
}

// Decisions by app name: the live runs' named tally, else by_app named by
// the policy (replay: one snapshot).
std::vector<AppDecisions> NamedRows(const SummaryFigures& f, const Policy& policy) {
  if (!f.by_app_name.empty()) return f.by_app_name;
  std::vector<AppDecisions> rows;
  const Matcher& m = policy.matcher();
  for (size_t i = 0; i < f.by_app.size(); ++i) rows.push_back({AppLabel(m, i, ""), f.by_app[i]});
  return rows;
}

}  // namespace

SummaryFigures SumWorkers(std::vector<WorkerReport> reports) {
  SummaryFigures f;
  f.live = true;
  for (const WorkerReport& r : reports) {
    f.source.packets += r.source.packets;
    f.source.accepted += r.source.accepted;
    f.source.dropped += r.source.dropped;
    f.source.marked_allow += r.source.marked_allow;
    f.source.marked_block += r.source.marked_block;
    f.source.errors += r.source.errors;
    f.source.overruns += r.source.overruns;
    f.source.verdict_messages += r.source.verdict_messages;
    f.source.fail_open += r.source.fail_open;
    f.enforce.dns_answers += r.enforce.dns_answers;
    f.enforce.tcp_resets += r.enforce.tcp_resets;
    f.enforce.not_answered += r.enforce.not_answered;
    f.counters.Add(r.counters);
    AddTopSources(&f, r.top_sources);
    AddByApp(&f.by_app, r.by_app);
    for (const AppDecisions& a : r.by_app_name) {
      auto it = std::find_if(f.by_app_name.begin(), f.by_app_name.end(),
                             [&](const AppDecisions& x) { return x.app == a.app; });
      if (it == f.by_app_name.end()) it = f.by_app_name.insert(f.by_app_name.end(), AppDecisions{a.app, {0, 0, 0}});
      for (size_t j = 0; j < 3; ++j) it->n[j] += a.n[j];
    }
  }
  std::sort(f.by_app_name.begin(), f.by_app_name.end(), [](const AppDecisions& a, const AppDecisions& b) {
    return !a.app.empty() && (b.app.empty() || a.app < b.app);  // by name, "no app" last
  });
  f.workers = std::move(reports);
  return f;
}

void SetLogFigures(SummaryFigures* f, uint64_t written, uint64_t dropped) {
  f->log_written = written;
  f->log_dropped = dropped;
  f->counters.c[static_cast<size_t>(Counter::k_log_events_written)] = written;
  f->counters.c[static_cast<size_t>(Counter::k_log_events_dropped)] = dropped;
}

void AddTopSources(SummaryFigures* f, const std::vector<SourceReport>& sources) {
  for (const SourceReport& s : sources) {
    auto it = std::find_if(f->top_sources.begin(), f->top_sources.end(),
                           [&](const SourceReport& x) { return x.ip == s.ip; });
    if (it == f->top_sources.end()) it = f->top_sources.insert(f->top_sources.end(), SourceReport{s.ip, 0, 0, 0});
    it->quota_hits += s.quota_hits;
    it->evicted += s.evicted;
    it->flows += s.flows;
  }
  std::sort(f->top_sources.begin(), f->top_sources.end(), [](const SourceReport& x, const SourceReport& y) {
    return x.quota_hits + x.evicted > y.quota_hits + y.evicted;
  });
  if (f->top_sources.size() > kTopSources) f->top_sources.resize(kTopSources);
}

namespace {
void PrintCaps(const SummaryFigures& f, FILE* out) {
  const Pipeline::MemoryBound& m = f.memory;
  absl::FPrintF(out, "memory bound: %.1f MiB (%d worker(s): %d B per flow, %d B per reassembly buffer, "
                "%d B per aux buffer, %.1f MiB of fragment chains)\n",
                double(m.total) * double(f.memory_workers) / (1 << 20), f.memory_workers, m.flows.per_flow,
                m.flows.per_buffer, m.flows.per_aux, double(m.fragments) / (1 << 20));
  for (const SourceReport& s : f.top_sources) {
    absl::FPrintF(out, "  source %-39s quota hits %d, flows evicted %d, flows held %d\n", s.ip.ToString(),
                  s.quota_hits, s.evicted, s.flows);
  }
}
}  // namespace

void PrintReplaySummary(const SummaryFigures& f, const Policy& policy, FILE* out) {
  const Counters& c = f.counters;
  const Matcher& m = policy.matcher();
  absl::FPrintF(out, "\n== vigie summary ==\n");
  absl::FPrintF(out, "packets %d (%d bytes) in %.3f s; flows created %d; IPv4 %d, IPv6 %d, tunnelled %d\n",
                c.Get(Counter::k_packets), c.Get(Counter::k_bytes), f.seconds, c.Get(Counter::k_flows_created),
                c.Get(Counter::k_packets_ipv4), c.Get(Counter::k_packets_ipv6),
                c.Get(Counter::k_packets_tunnelled));
  absl::FPrintF(out, "names: %d DNS questions, %d TLS ClientHellos (%d without SNI, %d over several segments)\n",
                c.Get(Counter::k_dns_questions), c.Get(Counter::k_tls_client_hellos), c.Get(Counter::k_tls_no_sni),
                c.Get(Counter::k_tls_multi_segment));
  absl::FPrintF(out, "\n%-16s %8s %8s %8s  %s\n", "decisions by app", "block", "log", "allow", "policy");
  uint64_t tot[3] = {0, 0, 0};
  for (size_t i = 0; i < f.by_app.size(); ++i) {
    const auto& row = f.by_app[i];
    if (row[0] + row[1] + row[2] == 0) continue;
    bool app = i < m.app_count();
    std::string pol = !app ? "-" : m.app_allowed(static_cast<AppId>(i)) ? "allow-list"
                      : policy.app_has_policy(static_cast<AppId>(i))
                          ? std::string(ActionName(policy.app_action(static_cast<AppId>(i))))
                          : "none";
    absl::FPrintF(out, "  %-14s %8d %8d %8d  %s\n", AppLabel(m, i, "(no list)"), row[2], row[1], row[0], pol);
    for (int k = 0; k < 3; ++k) tot[k] += row[k];
  }
  absl::FPrintF(out, "  %-14s %8d %8d %8d\n", "total", tot[2], tot[1], tot[0]);
  absl::FPrintF(out, "log events: written %d, dropped %d\n", f.log_written, f.log_dropped);
  PrintCaps(f, out);
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

void PrintRunSummary(const SummaryFigures& f, const Policy& policy, FILE* out) {
  const SourceStats& s = f.source;
  const EnforceStats& e = f.enforce;
  const Counters& c = f.counters;
  absl::FPrintF(out, "vigie: summary after %.1f s\n", f.seconds);
  absl::FPrintF(out, "  packets            %d (accepted %d, dropped %d)\n", s.packets, s.accepted, s.dropped);
  absl::FPrintF(out, "  connections marked allow %d, block %d\n", s.marked_allow, s.marked_block);
  if (s.verdict_messages > 0) absl::FPrintF(out, "  verdict messages   %d\n", s.verdict_messages);
  absl::FPrintF(out, "  answers            dns %d, tcp resets %d, not answered %d\n", e.dns_answers, e.tcp_resets,
                e.not_answered);
  absl::FPrintF(out, "  decisions          %d (block %d, log %d, allow %d)\n", c.Get(Counter::k_decisions),
                c.Get(Counter::k_decisions_block), c.Get(Counter::k_decisions_log),
                c.Get(Counter::k_decisions_allow));
  absl::FPrintF(out, "  log events         written %d, dropped %d (queue full or write error)\n", f.log_written, f.log_dropped);
  if (f.syslog) absl::FPrintF(out, "  syslog             sent %d, errors %d\n", f.syslog_sent, f.syslog_errors);
  absl::FPrintF(out, "  errors             %d, queue overruns %d, fail-open %d\n", s.errors, s.overruns, s.fail_open);
  absl::FPrintF(out, "  flows              created %d, evicted %d, quota hits %d (flows) %d (buffers)\n",
                c.Get(Counter::k_flows_created), c.Get(Counter::k_flows_evicted), c.Get(Counter::k_flow_quota_hit),
                c.Get(Counter::k_tcp_reasm_quota_hit));
  absl::FPrintF(out, "  ");
  PrintCaps(f, out);
  for (const AppDecisions& a : NamedRows(f, policy)) {
    const auto& row = a.n;
    if (row[0] + row[1] + row[2] == 0) continue;
    absl::FPrintF(out, "  app %-14s block %d, log %d, allow %d\n", a.app.empty() ? "(no app)" : a.app, row[2],
                  row[1], row[0]);
  }
  for (const WorkerReport& r : f.workers) {
    absl::FPrintF(out, "  worker %-10s packets %d, dropped %d\n", r.name, r.source.packets, r.source.dropped);
  }
}

std::string SummaryJson(const SummaryFigures& f, const Policy& policy) {
  const Counters& c = f.counters;
  std::string s;
  JsonWriter w(&s);
  w.BeginObject().Key("seconds").Fixed(f.seconds, 3);
  w.Key("counters").BeginObject();
  for (size_t i = 0; i < kCounterCount; ++i) w.Field(kCounterNames[i], c.c[i]);
  w.EndObject().Key("anomalies").BeginObject();
  for (size_t i = 0; i < kAnomalyCount; ++i) w.Field(kAnomalyNames[i], c.a[i]);
  w.EndObject().Key("decisions").BeginObject();
  for (const AppDecisions& a : NamedRows(f, policy)) {
    const auto& row = a.n;
    if (row[0] + row[1] + row[2] == 0) continue;
    w.Key(a.app).BeginObject();
    w.Field("block", row[2]).Field("log", row[1]).Field("allow", row[0]).EndObject();
  }
  w.EndObject();
  w.Key("log").BeginObject().Field("written", f.log_written).Field("dropped", f.log_dropped).EndObject();
  w.Key("sources").BeginArray();
  for (const SourceReport& src : f.top_sources) {
    w.BeginObject().Field("ip", src.ip.ToString()).Field("quota_hits", src.quota_hits);
    w.Field("evicted", src.evicted).Field("flows", uint64_t{src.flows}).EndObject();
  }
  w.EndArray();
  const Pipeline::MemoryBound& m = f.memory;
  w.Key("memory").BeginObject().Field("workers", uint64_t{f.memory_workers});
  w.Field("per_flow", uint64_t{m.flows.per_flow}).Field("per_buffer", uint64_t{m.flows.per_buffer});
  w.Field("per_aux_buffer", uint64_t{m.flows.per_aux}).Field("flow_table", uint64_t{m.flows.total});
  w.Field("fragments", uint64_t{m.fragments});
  w.Field("bound", uint64_t{m.total * f.memory_workers}).EndObject();
  if (f.live) {
    const SourceStats& src = f.source;
    w.Key("source").BeginObject();
    w.Field("packets", src.packets).Field("accepted", src.accepted).Field("dropped", src.dropped);
    w.Field("marked_allow", src.marked_allow).Field("marked_block", src.marked_block);
    w.Field("errors", src.errors).Field("overruns", src.overruns).Field("fail_open", src.fail_open);
    w.Field("verdict_messages", src.verdict_messages).EndObject();
    w.Key("enforce").BeginObject();
    w.Field("dns_answers", f.enforce.dns_answers).Field("tcp_resets", f.enforce.tcp_resets);
    w.Field("not_answered", f.enforce.not_answered).EndObject();
    if (f.syslog) {
      w.Key("syslog").BeginObject().Field("sent", f.syslog_sent).Field("errors", f.syslog_errors).EndObject();
    }
    w.Key("workers").BeginArray();
    for (const WorkerReport& r : f.workers) {
      w.BeginObject().Field("name", r.name).Field("packets", r.source.packets);
      w.Field("dropped", r.source.dropped).EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return s;
}

}  // namespace vigie
