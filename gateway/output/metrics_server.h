// The metrics endpoint of `vigie run` (DESIGN.md "log": "+ metrics";
// `[metrics] listen = "host:port"`): a Boost.Beast HTTP server on its own
// thread answering GET /metrics in the Prometheus text format (0.0.4), 404
// for any other path, 405 for other methods.
//
// It never touches a worker's live figures: each worker publishes a copy of
// its counters every second (SourceWorker::PublishSnapshot) and the render
// callback reads those copies. Thread safety: Start/Stop from one thread; the
// render callback runs on the server thread.
#ifndef VIGIE_GATEWAY_OUTPUT_METRICS_SERVER_H_
#define VIGIE_GATEWAY_OUTPUT_METRICS_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/output/stats.h"

namespace vigie {

// Everything the endpoint shows, gathered at request time.
struct MetricsView {
  std::vector<WorkerReport> workers;   // per-worker snapshots
  std::vector<std::string> app_names;  // AppId -> name; by_app's last slot is "no app"
  uint64_t log_written = 0;            // decision lines written by the log writer
  uint64_t log_dropped = 0;            // lost because a log queue was full
  bool syslog = false;                 // [log] syslog configured
  uint64_t syslog_sent = 0;
  uint64_t syslog_errors = 0;
};

// The Prometheus text exposition of `v`: every counter of counters.h as
// vigie_<name>_total (HELP from the X-macro; log_events_* from the log
// writer), vigie_anomalies_total{reason}, vigie_decisions_total{app,action},
// vigie_source_*_total{worker}, vigie_fail_open_total{worker},
// vigie_packet_latency_seconds{worker} (histogram), vigie_flows{worker}
// (gauge), vigie_quota_hits_total{quota}, vigie_enforce_*_total,
// vigie_syslog_*_total.
std::string RenderMetrics(const MetricsView& v);

class MetricsServer {
 public:
  using Render = std::function<std::string()>;
  // Binds `listen` ("host:port", "[v6]:port"; port 0 picks one) and starts
  // the server thread. `render` produces the body of GET /metrics.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& listen, Render render);
  ~MetricsServer();
  // Closes the listener and joins the thread. Idempotent.
  void Stop();
  uint16_t port() const { return port_; }

 private:
  struct Impl;
  MetricsServer() = default;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_OUTPUT_METRICS_SERVER_H_
