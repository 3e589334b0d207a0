// Monitor mode: libpcap live capture on one or more interfaces (a SPAN port,
// a tap, or the gateway's own links), one worker and Pipeline per interface.
// Nothing is dropped; with `enforce = "inject"` a blocked connection gets its
// TCP RSTs and a blocked DNS query its forged answer through pcap_inject on
// the interface the packet came from (Ethernet only: the link-layer
// addresses of the captured frame are swapped). With `enforce = "log"` it
// only logs. Injected answers race the real ones: they win when Vigie sits
// closer to the client than the server does.
//
// Thread safety: Start() spawns one thread per interface; Stop() from any one
// thread. Counters are read after Stop().
#ifndef VIGIE_GATEWAY_SOURCES_MONITOR_SOURCE_H_
#define VIGIE_GATEWAY_SOURCES_MONITOR_SOURCE_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/output/log_queue.h"
#include "gateway/inspect/pipeline.h"
#include "gateway/sources/worker_pool.h"

namespace vigie {

// Kernel capture buffer per interface.
inline constexpr int kMonitorBufferBytes = 16 << 20;
inline constexpr int kMonitorSnaplen = 65535;

struct MonitorOptions {
  std::vector<std::string> interfaces;
  bool inject = true;
  PipelineOptions pipeline;
};

class MonitorSource : public WorkerPool {
 public:
  // Opens and activates every capture (fails naming the interface).
  static absl::StatusOr<std::unique_ptr<MonitorSource>> Open(const MonitorOptions& opts, PolicyHolder* policy,
                                                             LogQueue* log);

 private:
  struct Worker;
  MonitorSource() = default;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_SOURCES_MONITOR_SOURCE_H_
