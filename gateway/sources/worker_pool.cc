#include "gateway/sources/worker_pool.h"

namespace vigie {

void WorkerPool::Start() {
  for (auto& w : workers_) {
    SourceWorker* wp = w.get();
    wp->thread = std::thread([wp] {
      wp->PublishSnapshot();
      wp->Loop();
      wp->PublishSnapshot();
    });
  }
}

void WorkerPool::Stop() {
  stop_.store(true);
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

namespace {
WorkerReport ReportOf(const SourceWorker& w) {
  WorkerReport r;
  r.name = w.Name();
  r.source = w.stats;
  r.latency = w.latency;
  r.flows = w.pipeline->flows();
  r.enforce = w.enforcer->stats();
  r.counters = w.pipeline->counters();
  r.by_app = w.pipeline->by_app();
  r.by_app_name = w.pipeline->by_app_name();
  r.top_sources = w.pipeline->top_sources();
  return r;
}
}  // namespace

void SourceWorker::PublishSnapshot() {
  WorkerReport r = ReportOf(*this);
  std::lock_guard<std::mutex> l(snapshot_mu);
  snapshot = std::move(r);
}

std::vector<WorkerReport> WorkerPool::Reports() const {
  std::vector<WorkerReport> out;
  for (const auto& w : workers_) out.push_back(ReportOf(*w));
  return out;
}

std::vector<WorkerReport> WorkerPool::Snapshots() const {
  std::vector<WorkerReport> out;
  for (const auto& w : workers_) out.push_back(w->Snapshot());
  return out;
}

}  // namespace vigie
