// Stage sources: capture replay (replay.h), NFQUEUE (nfqueue_source.h), live
// capture (monitor_source.h) and the worker pool below. May depend on every
// earlier stage; libpcap and libnetfilter_queue stay here. Used by the CLI only.
//
// The worker pool every live source shares (inline NFQUEUE, monitor libpcap):
// one thread per worker, each with its own Pipeline and Enforcer, and the
// policy snapshot they all read.
//
// Thread safety: PolicyHolder is shared by the reload thread (Publish) and the
// workers (Refresh); everything else in a worker belongs to its thread, except
// the snapshot copy published for the metrics endpoint (its own mutex).
// Ownership: the pool owns its workers; a worker owns its pipeline, enforcer
// and injector.
#ifndef VIGIE_GATEWAY_SOURCES_WORKER_POOL_H_
#define VIGIE_GATEWAY_SOURCES_WORKER_POOL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/enforce/enforce.h"
#include "gateway/inspect/pipeline.h"
#include "gateway/output/stats.h"
#include "gateway/policy/policy.h"

namespace vigie {

// The current policy snapshot. Workers poll a generation number (one relaxed
// load per packet) and take the lock only when it changed, i.e. after a reload.
class PolicyHolder {
 public:
  explicit PolicyHolder(std::shared_ptr<const Policy> p) : policy_(std::move(p)) {}
  void Publish(std::shared_ptr<const Policy> p) {
    std::lock_guard<std::mutex> l(mu_);
    policy_ = std::move(p);
    gen_.fetch_add(1, std::memory_order_release);
  }
  std::shared_ptr<const Policy> Get() const {
    std::lock_guard<std::mutex> l(mu_);
    return policy_;
  }
  // Worker side: hands a newer snapshot to `pipeline` if one was published.
  void Refresh(uint64_t* seen, Pipeline* pipeline) const {
    uint64_t g = gen_.load(std::memory_order_acquire);
    if (g == *seen) return;
    *seen = g;
    pipeline->SetPolicy(Get());
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Policy> policy_;
  std::atomic<uint64_t> gen_{0};
};

// Entry point of `vigie run`; returns the process exit code.
int RunCommand(const std::vector<std::string>& args);

// How often a busy worker copies its figures for the metrics endpoint.
inline constexpr std::chrono::milliseconds kSnapshotInterval{1000};

// What every live source's worker holds: its own pipeline, enforcer and
// thread (flows are sharded over workers, so nothing here is shared).
struct SourceWorker {
  virtual ~SourceWorker() = default;
  virtual void Loop() = 0;                  // until *stop, then drain
  virtual std::string Name() const = 0;     // "queue 0", "eth1"
  std::unique_ptr<PacketInjector> injector;
  std::unique_ptr<Enforcer> enforcer;
  std::unique_ptr<Pipeline> pipeline;
  PolicyHolder* policy = nullptr;
  uint64_t policy_gen = 0;
  const std::atomic<bool>* stop = nullptr;
  SourceStats stats;
  LatencyHistogram latency;  // packet in to verdict
  std::thread thread;

  // After the verdict of a packet the worker got at `in`: one latency
  // observation, and the snapshot when it is due (one clock read).
  void FinishPacket(std::chrono::steady_clock::time_point in) {
    auto now = std::chrono::steady_clock::now();
    latency.Observe(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - in).count()));
    MaybePublishSnapshot(now);
  }

  // Metrics: the worker copies its figures into `snapshot` (under
  // snapshot_mu, which only this copy and the metrics thread take) at most
  // every kSnapshotInterval; the packet path itself takes no lock.
  void MaybePublishSnapshot(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
    if (now < next_snapshot) return;
    next_snapshot = now + kSnapshotInterval;
    PublishSnapshot();
  }
  void PublishSnapshot();
  WorkerReport Snapshot() const {
    std::lock_guard<std::mutex> l(snapshot_mu);
    return snapshot;
  }
  mutable std::mutex snapshot_mu;
  WorkerReport snapshot;
  std::chrono::steady_clock::time_point next_snapshot{};
};

// A set of workers, one thread each: what NfqueueSource and MonitorSource share.
class WorkerPool {
 public:
  virtual ~WorkerPool() { Stop(); }
  void Start();
  // Stops the workers after they have handled what is already received.
  void Stop();
  std::vector<WorkerReport> Reports() const;
  // The workers' last published snapshots (any thread, while running).
  std::vector<WorkerReport> Snapshots() const;

 protected:
  // Fills the parts every worker has; the source adds its own.
  void Adopt(std::unique_ptr<SourceWorker> w, PolicyHolder* policy) {
    w->policy = policy;
    w->stop = &stop_;
    workers_.push_back(std::move(w));
  }
  std::vector<std::unique_ptr<SourceWorker>> workers_;
  std::atomic<bool> stop_{false};
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_SOURCES_WORKER_POOL_H_
