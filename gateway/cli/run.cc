#include "gateway/cli/commands.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include <systemd/sd-daemon.h>
#include <time.h>

#include <boost/program_options.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gateway/base/absl_compat.h"
#include "gateway/cli/privileges.h"
#include "gateway/cli/reload_keys.h"
#include "gateway/policy/config.h"
#include "gateway/output/log_queue.h"
#include "gateway/output/metrics_server.h"
#include "gateway/sources/monitor_source.h"
#include "gateway/sources/nfqueue_source.h"
#include "gateway/output/summary.h"
#include "gateway/sources/worker_pool.h"

namespace po = boost::program_options;

namespace vigie {

namespace {

constexpr const char* kRunUsage =
    "usage: vigie run [--config FILE] [--log FILE|-] [--log-format vigie|eve] [--queue-maxlen N] [--summary-json FILE]\n"
    "       [--pid-file FILE]\n";

// systemd readiness (deploy/vigie.service, Type=notify): sd_notify writes to
// $NOTIFY_SOCKET and does nothing when it is unset (not under systemd).
void Notify(const std::string& state) { sd_notify(0, state.c_str()); }

uint64_t MonotonicMicros() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

}  // namespace

int RunCommand(const std::vector<std::string>& args) {
  po::options_description desc("run options");
  std::string config_path, log_path, summary_json, log_format, pid_file;
  uint32_t queue_maxlen = 0;  // 0: [gateway] queue_length
  desc.add_options()("config", po::value(&config_path), "config file")(
      "log", po::value(&log_path), "decision log: a file, or - for standard output (default: the config's)")(
      "log-format", po::value(&log_format), "vigie or eve (Suricata EVE JSON; default: [log] format)")(
      "queue-maxlen", po::value(&queue_maxlen),
      "inline: packets each NFQUEUE holds before the fail policy applies (default: [gateway] queue_length)")(
      "summary-json", po::value(&summary_json), "on exit, write the summary figures as JSON to this file")(
      "pid-file", po::value(&pid_file), "write the process id here (for `vigie logs reopen --pid-file`)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(absl::StrCat("run: ", e.what(), "\n", kRunUsage));
  }
  if (config_path.empty()) config_path = DefaultConfigPath();
  auto loaded = LoadPolicy(config_path);
  if (!loaded.ok()) return Fail(std::string(SV(loaded.status().message())));
  std::shared_ptr<const Policy> policy = *loaded;
  const Config& cfg = policy->config();
  if (cfg.mode != "inline" && cfg.mode != "monitor") {
    return Fail(absl::StrCat(cfg.path, ": [gateway] mode must be inline or monitor, not '", cfg.mode, "'"));
  }
  if (absl::Status t = CheckTrustedFiles(cfg); !t.ok()) return Fail(std::string(SV(t.message())));
  // A closed standard output or syslog pipe must not kill the gateway: the
  // write fails (EPIPE) and the lines count as dropped (log_queue.h).
  signal(SIGPIPE, SIG_IGN);

  // Signals are taken synchronously by this thread; workers never see them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  sigaddset(&sigs, SIGUSR1);  // reopen the decision log only (vigie logs reopen)
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  PipelineOptions popts;
  popts.log_mode = cfg.log_mode;
  PolicyHolder holder(policy);
  const bool inline_mode = cfg.mode == "inline";
  size_t workers = inline_mode ? cfg.queues.size() : cfg.interfaces.size();
  LogOptions lopts = LogOptionsFrom(cfg);  // inline: EVE blocks are drop events
  if (!log_format.empty()) {
    auto f = ParseLogFormat(log_format);
    if (!f.ok()) return Fail(absl::StrCat("run: ", f.status().message()));
    lopts.format = *f;
  }
  auto log = LogQueue::Open(log_path.empty() ? cfg.log_path : log_path, workers == 0 ? 1 : workers, lopts);
  if (!log.ok()) return Fail(std::string(SV(log.status().message())));
  if (!cfg.syslog.empty()) {
    auto sys = SyslogSink::Open(cfg.syslog);
    if (!sys.ok()) return Fail(absl::StrCat(cfg.path, ": ", sys.status().message()));
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
    if (!s.ok()) return Fail(std::string(SV(s.status().message())));
    nfq = *std::move(s);
  } else {
    MonitorOptions o;
    o.interfaces = cfg.interfaces;
    o.inject = cfg.enforce == "inject";
    o.pipeline = popts;
    auto s = MonitorSource::Open(o, &holder, log->get());
    if (!s.ok()) return Fail(std::string(SV(s.status().message())));
    mon = *std::move(s);
  }
  if (!pid_file.empty()) {
    std::ofstream p(pid_file, std::ios::trunc);
    p << getpid() << "\n";
    if (!p) return Fail(absl::StrCat(pid_file, ": cannot write the pid file"));
  }
  // Everything privileged is open: drop to [gateway] user before any thread
  // starts (capabilities and no_new_privs are per thread). The metrics
  // listener binds after this, as the user: a port below 1024 would need
  // CAP_NET_BIND_SERVICE, which is not kept.
  {
    auto dropped = DropPrivileges(cfg);
    if (!dropped.ok()) return Fail(std::string(SV(dropped.status().message())));
    std::fprintf(stderr, "vigie: %s\n", dropped->c_str());
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
    if (!m.ok()) return Fail(absl::StrCat(cfg.path, ": ", m.status().message()));
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
  // Queues or interfaces open, privileges dropped, workers running.
  const std::string where = inline_mode ? absl::StrCat("inline on NFQUEUE ", absl::StrJoin(what, ","), ", fail ", cfg.fail)
                                        : absl::StrCat("monitor on ", absl::StrJoin(cfg.interfaces, ","));
  Notify(absl::StrCat("READY=1\nSTATUS=", where, "; filtering"));

  auto start = std::chrono::steady_clock::now();
  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig == SIGUSR1 || sig == SIGHUP) {
      (*log)->RequestReopen();  // done by the writer thread
      if (sig == SIGUSR1) {
        std::fprintf(stderr, "vigie: reopening the decision log\n");
        std::fflush(stderr);
        continue;
      }
    }
    if (sig == SIGHUP) {
      Notify(absl::StrCat("RELOADING=1\nMONOTONIC_USEC=", MonotonicMicros(), "\nSTATUS=reloading ", config_path));
      auto fresh = LoadPolicy(config_path);
      absl::Status trusted = fresh.ok() ? CheckTrustedFiles((*fresh)->config()) : absl::OkStatus();
      if (fresh.ok() && !trusted.ok()) fresh = trusted;
      if (!fresh.ok()) {
        std::fprintf(stderr, "vigie: reload of %s failed, keeping the current policy: %s\n", config_path.c_str(),
                     std::string(SV(fresh.status().message())).c_str());
        Notify(absl::StrCat("READY=1\nSTATUS=", where, "; reload failed, previous policy kept: ",
                            fresh.status().message()));
      } else {
        const std::vector<std::string> keys = UnappliedReloadKeys(cfg, (*fresh)->config());
        if (!keys.empty()) {
          std::fprintf(stderr, "vigie: reload: %s changed: applied on restart only (the running values stay)\n",
                       absl::StrJoin(keys, ", ").c_str());
        }
        holder.Publish(*std::move(fresh));
        std::fprintf(stderr, "vigie: policy reloaded from %s\n", config_path.c_str());
        Notify(absl::StrCat("READY=1\nSTATUS=", where, "; filtering (policy reloaded)"));
      }
      std::fflush(stderr);
      continue;
    }
    break;  // SIGTERM, SIGINT
  }
  std::fprintf(stderr, "vigie: stopping\n");
  Notify("STOPPING=1\nSTATUS=stopping: draining the queues, flushing the decision log");
  if (metrics) metrics->Stop();
  if (nfq) nfq->Stop();
  if (mon) mon->Stop();
  (*log)->Stop();
  SummaryFigures f = SumWorkers(nfq ? nfq->Reports() : mon->Reports());
  f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  SetLogFigures(&f, (*log)->written(), (*log)->dropped());
  f.memory = Pipeline::Bound(cfg.flows);
  f.memory_workers = f.workers.size();
  if (const SyslogSink* s = (*log)->syslog()) {
    f.syslog = true;
    f.syslog_sent = s->sent();
    f.syslog_errors = s->errors();
  }
  PrintRunSummary(f, *holder.Get(), stderr);
  if (!summary_json.empty()) {
    std::ofstream j(summary_json);
    j << SummaryJson(f, *holder.Get()) << "\n";
    if (!j) std::fprintf(stderr, "vigie: %s: cannot write\n", summary_json.c_str());
  }
  return 0;
}

}  // namespace vigie
