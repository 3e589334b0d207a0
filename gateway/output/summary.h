// The figures at the end of a replay or a live run: one struct gathered from
// the workers, printed for a person (standard error) and written as one JSON
// object (--summary-json) in the same format for `replay` and `run`:
//
//   {"seconds":S,"counters":{NAME:N,...},"anomalies":{NAME:N,...},
//    "decisions":{APP:{"block":N,"log":N,"allow":N},...},   ("" = no app)
//    "log":{"written":N,"dropped":N},
//    "sources":[{"ip":IP,"quota_hits":N,"evicted":N,"flows":N},...],
//              (the heaviest by refusals + evictions, flow.h TopSources)
//    "memory":{"workers":N,"per_flow":B,"per_buffer":B,"per_aux_buffer":B,
//              "flow_table":B,"fragments":B,"bound":B},
//              (bytes; flow_table and fragments: per worker; bound: all workers)
//    and for `run` only:
//    "source":{"packets":N,"accepted":N,"dropped":N,"marked_allow":N,
//              "marked_block":N,"errors":N,"overruns":N,"fail_open":N,
//              "verdict_messages":N},
//    "enforce":{"dns_answers":N,"tcp_resets":N,"not_answered":N},
//    "syslog":{"sent":N,"errors":N},                           (when configured)
//    "workers":[{"name":W,"packets":N,"dropped":N},...]}
//
// Thread safety: plain values, built after the workers stopped (or from their
// published snapshots).
#ifndef VIGIE_GATEWAY_OUTPUT_SUMMARY_H_
#define VIGIE_GATEWAY_OUTPUT_SUMMARY_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gateway/base/counters.h"
#include "gateway/flow/flow.h"
#include "gateway/inspect/pipeline.h"
#include "gateway/output/stats.h"
#include "gateway/policy/policy.h"

namespace vigie {

struct SummaryFigures {
  double seconds = 0;
  Counters counters;
  ByApp by_app;
  // Live runs: decisions by app name summed over the workers (survives
  // reloads); when set, the run summary and the JSON use it, not by_app.
  std::vector<AppDecisions> by_app_name;
  uint64_t log_written = 0;
  uint64_t log_dropped = 0;
  // The heaviest sources (refusals + evictions), merged over the workers.
  std::vector<SourceReport> top_sources;
  // What the flow tables and reassemblers may hold, per worker.
  Pipeline::MemoryBound memory;
  size_t memory_workers = 1;
  // Live runs.
  bool live = false;
  SourceStats source;
  EnforceStats enforce;
  bool syslog = false;
  uint64_t syslog_sent = 0, syslog_errors = 0;
  std::vector<WorkerReport> workers;
};

// Sums the workers' reports (live runs).
SummaryFigures SumWorkers(std::vector<WorkerReport> reports);
// Sets what the log writer counted: log_written / log_dropped and the
// counters log_events_written / log_events_dropped (the workers count only
// log_events, the lines handed to the log).
void SetLogFigures(SummaryFigures* f, uint64_t written, uint64_t dropped);
// Adds one worker's heaviest sources into f->top_sources (by address).
void AddTopSources(SummaryFigures* f, const std::vector<SourceReport>& sources);

// The replay table: packets, names, decisions by app with their policy,
// anomalies and every non-zero counter.
void PrintReplaySummary(const SummaryFigures& f, const Policy& policy, FILE* out);
// The live run's shorter summary: packets and verdicts, answers, decisions,
// log events, per app and per worker.
void PrintRunSummary(const SummaryFigures& f, const Policy& policy, FILE* out);
// The JSON object above (no newline).
std::string SummaryJson(const SummaryFigures& f, const Policy& policy);

}  // namespace vigie

#endif  // VIGIE_GATEWAY_OUTPUT_SUMMARY_H_
