#include "gateway/cli/commands.h"

#include <signal.h>
#include <unistd.h>

#include <boost/program_options.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/base/absl_compat.h"
#include <chrono>
#include <fstream>
#include "gateway/cli/progress.h"
#include "gateway/output/decision_json.h"
#include "gateway/inspect/pipeline.h"
#include "gateway/sources/replay.h"
#include "gateway/output/summary.h"

namespace po = boost::program_options;

namespace vigie {

int ReplayCommand(const Args& args) {
  po::options_description desc("replay options");
  std::string config, log, summary_json, log_format;
  bool log_all = false;
  std::vector<std::string> pcaps;
  desc.add_options()("config", po::value(&config), "config file")(
      "log", po::value(&log), "decision log: a file, or - for standard output (default: the config's)")(
      "log-all", po::bool_switch(&log_all), "also log names that matched nothing and unmanaged sources")(
      "log-format", po::value(&log_format), "vigie or eve (Suricata EVE JSON; default: [log] format)")(
      "summary-json", po::value(&summary_json), "write the summary figures as JSON to this file")(
      "pcap", po::value(&pcaps), "capture files");
  po::positional_options_description pos;
  pos.add("pcap", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(absl::StrCat("replay: ", e.what(), "\n", kUsage));
  }
  if (pcaps.empty()) return Fail(absl::StrCat("replay: no capture file given\n", kUsage));
  auto policy = LoadPolicy(config);
  if (!policy.ok()) return Fail(std::string(policy.status().message()));
  const Config& cfg = (*policy)->config();
  LogOptions lopts = LogOptionsFrom(cfg);
  lopts.drops = false;  // replay records only: blocks are EVE alerts, not drops
  if (!log_format.empty()) {
    auto f = ParseLogFormat(log_format);
    if (!f.ok()) return Fail(absl::StrCat("replay: ", f.status().message()));
    lopts.format = *f;
  }
  // A closed standard output (`vigie replay ... | head -1`) must not kill the
  // replay: the writes fail (EPIPE), the lines count as dropped and the
  // summary still says so (log_file.h).
  signal(SIGPIPE, SIG_IGN);
  auto sink = JsonLineSink::Open(log.empty() ? cfg.log_path : log, lopts);
  if (!sink.ok()) return Fail(std::string(sink.status().message()));
  PipelineOptions opts;
  opts.log_mode = log_all ? LogMode::kAll : cfg.log_mode;
  Pipeline pipeline(*policy, sink->get(), opts);
  auto start = std::chrono::steady_clock::now();
  int rc = 0;
  // On a terminal only: a redirected stderr never holds progress bytes.
  ReplayProgress progress(pcaps, stderr, isatty(fileno(stderr)) != 0);
  for (size_t i = 0; i < pcaps.size(); ++i) {
    const std::string& f = pcaps[i];
    progress.BeginFile(i);
    auto res = ReplayCapture(f, &pipeline, &progress);
    if (!res.ok()) {
      std::fprintf(stderr, "vigie: %s\n", std::string(res.status().message()).c_str());
      rc = 1;
      continue;
    }
    if (!res->warning.empty()) {
      pipeline.Count(Anomaly::k_capture_read_error);
      std::fprintf(stderr, "vigie: warning: %s\n", res->warning.c_str());
    }
  }
  progress.Finish();
  (*sink)->Finish();
  SummaryFigures f;
  f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  f.counters = pipeline.counters();
  f.by_app = pipeline.by_app();
  // Lines in the log: with dedup, fewer than the decisions handed to it.
  SetLogFigures(&f, (*sink)->written(), (*sink)->dropped());
  AddTopSources(&f, pipeline.top_sources());
  f.memory = Pipeline::Bound(cfg.flows);
  if (const DedupTable* dd = (*sink)->dedup()) {
    std::fprintf(stderr, "vigie: dedup: %llu decisions counted in %llu summary events; %llu written as is (table full)\n",
                 static_cast<unsigned long long>(dd->suppressed()), static_cast<unsigned long long>(dd->summaries()),
                 static_cast<unsigned long long>(dd->overflow()));
  }
  PrintReplaySummary(f, pipeline.policy(), stderr);
  if (!summary_json.empty()) {
    std::ofstream out(summary_json);
    out << SummaryJson(f, pipeline.policy()) << "\n";
    if (!out) return Fail(absl::StrCat(summary_json, ": cannot write"));
  }
  return rc;
}

}  // namespace vigie
