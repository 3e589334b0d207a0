#include "gateway/run.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include <boost/program_options.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gateway/absl_compat.h"
#include "gateway/config.h"
#include "gateway/log_queue.h"
#include "gateway/metrics_server.h"
#include "gateway/monitor_source.h"
#include "gateway/nfqueue_source.h"

namespace po = boost::program_options;

namespace vigie {

uint64_t NowMicros() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

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
  r.enforce = w.enforcer->stats();
  r.counters = w.pipeline->counters();
  r.by_app = w.pipeline->by_app();
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

namespace {

constexpr const char* kRunUsage =
    "usage: vigie run [--config FILE] [--log FILE|-] [--queue-maxlen N] [--summary-json FILE]\n";

int RunFail(const std::string& msg) {
  std::fprintf(stderr, "vigie: %s\n", msg.c_str());
  return 2;
}

absl::StatusOr<std::shared_ptr<const Policy>> Load(const std::string& path) {
  auto config = LoadConfig(path);
  if (!config.ok()) return config.status();
  return Policy::Build(*std::move(config));
}

// Sums the workers' figures and prints them (standard error) and optionally
// as JSON.
void Summarize(const std::vector<WorkerReport>& reports, const Policy& policy, const LogQueue& log, double secs,
               const std::string& json_path) {
  SourceStats s;
  EnforceStats e;
  Counters c;
  std::vector<std::array<uint64_t, 3>> by_app;
  for (const WorkerReport& r : reports) {
    s.packets += r.source.packets;
    s.accepted += r.source.accepted;
    s.dropped += r.source.dropped;
    s.marked_allow += r.source.marked_allow;
    s.marked_block += r.source.marked_block;
    s.errors += r.source.errors;
    s.overruns += r.source.overruns;
    e.dns_answers += r.enforce.dns_answers;
    e.tcp_resets += r.enforce.tcp_resets;
    e.not_answered += r.enforce.not_answered;
    c.Add(r.counters);
    if (by_app.size() < r.by_app.size()) by_app.resize(r.by_app.size());
    for (size_t i = 0; i < r.by_app.size(); ++i)
      for (size_t j = 0; j < 3; ++j) by_app[i][j] += r.by_app[i][j];
  }
  FILE* out = stderr;
  absl::FPrintF(out, "vigie: summary after %.1f s\n", secs);
  absl::FPrintF(out, "  packets            %d (accepted %d, dropped %d)\n", s.packets, s.accepted, s.dropped);
  absl::FPrintF(out, "  connections marked allow %d, block %d\n", s.marked_allow, s.marked_block);
  absl::FPrintF(out, "  answers            dns %d, tcp resets %d, not answered %d\n", e.dns_answers, e.tcp_resets,
                e.not_answered);
  absl::FPrintF(out, "  decisions          %d (block %d, log %d, allow %d)\n", c.Get(Counter::k_decisions),
                c.Get(Counter::k_decisions_block), c.Get(Counter::k_decisions_log),
                c.Get(Counter::k_decisions_allow));
  absl::FPrintF(out, "  log events         written %d, dropped (queue full) %d\n", log.written(), log.dropped());
  if (log.syslog() != nullptr) {
    absl::FPrintF(out, "  syslog             sent %d, errors %d\n", log.syslog()->sent(), log.syslog()->errors());
  }
  absl::FPrintF(out, "  errors             %d, queue overruns %d\n", s.errors, s.overruns);
  const Matcher& m = policy.matcher();
  for (size_t i = 0; i < by_app.size(); ++i) {
    uint64_t total = by_app[i][0] + by_app[i][1] + by_app[i][2];
    if (total == 0) continue;
    std::string name = i < m.app_count() ? m.app_name(static_cast<AppId>(i)) : "(no app)";
    absl::FPrintF(out, "  app %-14s block %d, log %d, allow %d\n", name, by_app[i][2], by_app[i][1], by_app[i][0]);
  }
  for (const WorkerReport& r : reports) {
    absl::FPrintF(out, "  worker %-10s packets %d, dropped %d\n", r.name, r.source.packets, r.source.dropped);
  }
  if (!json_path.empty()) {
    std::ofstream j(json_path);
    j << absl::StrFormat(
        "{\"seconds\":%.3f,\"packets\":%d,\"accepted\":%d,\"dropped\":%d,\"marked_allow\":%d,\"marked_block\":%d,"
        "\"dns_answers\":%d,\"tcp_resets\":%d,\"not_answered\":%d,\"decisions\":%d,\"decisions_block\":%d,"
        "\"log_events_written\":%d,\"log_events_dropped\":%d,\"errors\":%d,\"overruns\":%d}\n",
        secs, s.packets, s.accepted, s.dropped, s.marked_allow, s.marked_block, e.dns_answers, e.tcp_resets,
        e.not_answered, c.Get(Counter::k_decisions), c.Get(Counter::k_decisions_block), log.written(),
        log.dropped(), s.errors, s.overruns);
  }
}

}  // namespace

int RunCommand(const std::vector<std::string>& args) {
  po::options_description desc("run options");
  std::string config_path, log_path, summary_json;
  uint32_t queue_maxlen = 0;  // 0: [gateway] queue_length
  desc.add_options()("config", po::value(&config_path), "config file")(
      "log", po::value(&log_path), "decision log: a file, or - for standard output (default: the config's)")(
      "queue-maxlen", po::value(&queue_maxlen),
      "inline: packets each NFQUEUE holds before the fail policy applies (default: [gateway] queue_length)")(
      "summary-json", po::value(&summary_json), "on exit, write the summary figures as JSON to this file");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return RunFail(absl::StrCat("run: ", e.what(), "\n", kRunUsage));
  }
  if (config_path.empty()) config_path = DefaultConfigPath();
  auto loaded = Load(config_path);
  if (!loaded.ok()) return RunFail(std::string(SV(loaded.status().message())));
  std::shared_ptr<const Policy> policy = *loaded;
  const Config& cfg = policy->config();
  if (cfg.mode != "inline" && cfg.mode != "monitor") {
    return RunFail(absl::StrCat(cfg.path, ": [gateway] mode must be inline or monitor, not '", cfg.mode, "'"));
  }

  // Signals are taken synchronously by this thread; workers never see them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  PipelineOptions popts;
  popts.log_mode = cfg.log_mode;
  PolicyHolder holder(policy);
  const bool inline_mode = cfg.mode == "inline";
  size_t workers = inline_mode ? cfg.queues.size() : cfg.interfaces.size();
  auto log = LogQueue::Open(log_path.empty() ? cfg.log_path : log_path, workers == 0 ? 1 : workers);
  if (!log.ok()) return RunFail(std::string(SV(log.status().message())));
  if (!cfg.syslog.empty()) {
    auto sys = SyslogSink::Open(cfg.syslog);
    if (!sys.ok()) return RunFail(absl::StrCat(cfg.path, ": ", sys.status().message()));
    (*log)->SetSyslog(*std::move(sys));
  }

  std::unique_ptr<NfqueueSource> nfq;
  std::unique_ptr<MonitorSource> mon;
  if (inline_mode) {
    NfqueueOptions o;
    o.queues = cfg.queues;
    o.queue_maxlen = queue_maxlen != 0 ? queue_maxlen : cfg.queue_length;
    o.fail_open = cfg.fail != "closed";
    o.pipeline = popts;
    auto s = NfqueueSource::Open(o, &holder, log->get());
    if (!s.ok()) return RunFail(std::string(SV(s.status().message())));
    nfq = *std::move(s);
  } else {
    MonitorOptions o;
    o.interfaces = cfg.interfaces;
    o.inject = cfg.enforce == "inject";
    o.pipeline = popts;
    auto s = MonitorSource::Open(o, &holder, log->get());
    if (!s.ok()) return RunFail(std::string(SV(s.status().message())));
    mon = *std::move(s);
  }
  std::unique_ptr<MetricsServer> metrics;
  if (!cfg.metrics_listen.empty()) {
    WorkerPool* pool = nfq ? static_cast<WorkerPool*>(nfq.get()) : static_cast<WorkerPool*>(mon.get());
    LogQueue* lq = log->get();
    auto m = MetricsServer::Start(cfg.metrics_listen, [pool, lq, &holder] {
      MetricsView v;
      v.workers = pool->Snapshots();
      std::shared_ptr<const Policy> p = holder.Get();
      const Matcher& matcher = p->matcher();
      for (size_t i = 0; i < matcher.app_count(); ++i) v.app_names.push_back(matcher.app_name(static_cast<AppId>(i)));
      v.log_written = lq->written();
      v.log_dropped = lq->dropped();
      if (const SyslogSink* s = lq->syslog()) {
        v.syslog = true;
        v.syslog_sent = s->sent();
        v.syslog_errors = s->errors();
      }
      return RenderMetrics(v);
    });
    if (!m.ok()) return RunFail(absl::StrCat(cfg.path, ": ", m.status().message()));
    metrics = *std::move(m);
    std::fprintf(stderr, "vigie: metrics on %s (port %u), GET /metrics\n", cfg.metrics_listen.c_str(),
                 static_cast<unsigned>(metrics->port()));
  }
  (*log)->Start();
  if (nfq) nfq->Start();
  if (mon) mon->Start();
  std::vector<std::string> what;
  if (inline_mode) {
    for (int q : cfg.queues) what.push_back(absl::StrCat(q));
    std::fprintf(stderr, "vigie: inline on NFQUEUE %s (fail %s, queue length %u); ready\n",
                 absl::StrJoin(what, ",").c_str(), cfg.fail.c_str(), queue_maxlen != 0 ? queue_maxlen : cfg.queue_length);
  } else {
    std::fprintf(stderr, "vigie: monitor on %s (enforce %s); ready\n", absl::StrJoin(cfg.interfaces, ",").c_str(),
                 cfg.enforce.c_str());
  }
  std::fflush(stderr);

  auto start = std::chrono::steady_clock::now();
  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig == SIGHUP) {
      auto fresh = Load(config_path);
      if (!fresh.ok()) {
        std::fprintf(stderr, "vigie: reload of %s failed, keeping the current policy: %s\n", config_path.c_str(),
                     std::string(SV(fresh.status().message())).c_str());
      } else {
        const Config& nc = (*fresh)->config();
        if (nc.mode != cfg.mode || nc.queues != cfg.queues || nc.interfaces != cfg.interfaces ||
            nc.fail != cfg.fail || nc.enforce != cfg.enforce || nc.log_path != cfg.log_path ||
            nc.syslog != cfg.syslog || nc.metrics_listen != cfg.metrics_listen) {
          std::fprintf(stderr, "vigie: reload: [gateway], [log] and [metrics] changes take effect on restart\n");
        }
        holder.Publish(*std::move(fresh));
        std::fprintf(stderr, "vigie: policy reloaded from %s\n", config_path.c_str());
      }
      std::fflush(stderr);
      continue;
    }
    break;  // SIGTERM, SIGINT
  }
  std::fprintf(stderr, "vigie: stopping\n");
  if (metrics) metrics->Stop();
  if (nfq) nfq->Stop();
  if (mon) mon->Stop();
  (*log)->Stop();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Summarize(nfq ? nfq->Reports() : mon->Reports(), *holder.Get(), **log, secs, summary_json);
  return 0;
}

}  // namespace vigie
