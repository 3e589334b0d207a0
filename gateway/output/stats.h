// The figures a stage reports, gathered for the summary, --summary-json and
// the metrics endpoint: what a live source did with packets and one worker's
// whole report (source, enforcement, pipeline counters, decisions by app).
//
// Plain values; a worker fills its own and copies them out (sources/worker_pool.h).
#ifndef VIGIE_GATEWAY_OUTPUT_STATS_H_
#define VIGIE_GATEWAY_OUTPUT_STATS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "gateway/base/counters.h"
#include "gateway/enforce/enforce.h"
#include "gateway/flow/flow.h"
#include "gateway/inspect/decider.h"

namespace vigie {

// Decisions by app (index = AppId; the last slot = no app) and action
// (index = Action: allow, log, block).
using ByApp = std::vector<std::array<uint64_t, 3>>;

// Adds `b` into `a`, growing it as needed.
inline void AddByApp(ByApp* a, const ByApp& b) {
  if (a->size() < b.size()) a->resize(b.size());
  for (size_t i = 0; i < b.size(); ++i)
    for (size_t j = 0; j < 3; ++j) (*a)[i][j] += b[i][j];
}

// What a live source did with packets, per worker (read after the workers stop).
struct SourceStats {
  uint64_t packets = 0;       // packets handed to the pipeline
  uint64_t accepted = 0;      // verdict accept (inline)
  uint64_t dropped = 0;       // verdict drop (inline) / would-drop (monitor)
  uint64_t marked_allow = 0;  // connections marked decided-allow (no longer queued)
  uint64_t marked_block = 0;  // connections marked blocked (dropped in the kernel)
  uint64_t errors = 0;        // verdict / receive / capture errors
  uint64_t overruns = 0;      // netlink ENOBUFS: the kernel dropped queue messages
  // Inline: verdict messages sent to the kernel. Consecutive packets with the
  // same verdict share one (nfqueue_verdict.h), so this is at most `packets`
  // plus the unreadable packets, and smaller under load.
  uint64_t verdict_messages = 0;
  // Inline, [gateway] fail = "open": packets passed uninspected that Vigie can
  // see: an overrun (the kernel accepted the packets it could not deliver)
  // and a queued packet whose payload could not be read (accepted). The
  // kernel does not count what it accepts when the queue is full.
  uint64_t fail_open = 0;
};

// Packet in to verdict, per worker, as a Prometheus histogram
// (vigie_packet_latency_seconds{worker}). Upper bounds in nanoseconds, 1 us
// to 100 ms: a packet's work is microseconds, a queue backlog or a stalled
// worker shows in the upper buckets. Plain counters owned by the worker
// thread (copied out with its snapshot): no lock, no allocation per packet.
inline constexpr std::array<uint64_t, 16> kLatencyBoundsNanos = {
    1'000,   2'500,   5'000,     10'000,    25'000,    50'000,     100'000,    250'000,
    500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000, 25'000'000, 50'000'000, 100'000'000};
struct LatencyHistogram {
  // counts[i]: observations <= kLatencyBoundsNanos[i] and above the bound
  // before (not cumulative); the last slot is above every bound (+Inf).
  std::array<uint64_t, kLatencyBoundsNanos.size() + 1> counts{};
  uint64_t sum_nanos = 0;
  uint64_t count = 0;

  void Observe(uint64_t nanos) {
    size_t i = 0;
    while (i < kLatencyBoundsNanos.size() && nanos > kLatencyBoundsNanos[i]) ++i;
    ++counts[i];
    sum_nanos += nanos;
    ++count;
  }
};

// One worker's result for the summary.
struct WorkerReport {
  std::string name;  // "queue 0", "eth1"
  SourceStats source;
  LatencyHistogram latency;  // packet in to verdict
  uint64_t flows = 0;        // flows in the worker's table now (a gauge)
  EnforceStats enforce;
  Counters counters;
  ByApp by_app;
  // The same by app name, over every policy snapshot the worker used (what
  // the metrics endpoint shows: a reload never makes a counter go back).
  std::vector<AppDecisions> by_app_name;
  // The worker's heaviest sources (flow.h TopSources).
  std::vector<SourceReport> top_sources;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_OUTPUT_STATS_H_
