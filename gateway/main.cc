// vigie: the command-line entry point.
//
//   vigie replay  [--config FILE] [--log FILE|-] [--log-all] [--summary-json FILE] PCAP...
//   vigie lookup  [--config FILE] [--src IP] [NAME...]
//   vigie lists stats [--config FILE]
//   vigie check-config [--config FILE]
//   vigie run [--config FILE] [--log FILE|-] [--queue-maxlen N] [--summary-json FILE]
//   vigie report LOG... [--html FILE] [--since T] [--until T]
//
// Without --config, the default configuration is used (DefaultConfigPath()).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/config.h"
#include "gateway/decision.h"
#include "gateway/pipeline.h"
#include "gateway/policy.h"
#include "gateway/replay.h"
#include "gateway/report/report.h"
#include "gateway/run.h"
#include "gateway/summary.h"
#include "gateway/absl_compat.h"
#include "lists/domain.h"

namespace po = boost::program_options;

namespace vigie {
namespace {

constexpr const char* kUsage =
    "usage: vigie COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  replay [--config FILE] [--log FILE|-] [--log-all] [--summary-json FILE] PCAP...\n"
    "      take capture files through the whole packet path; decisions as JSON lines\n"
    "  lookup [--config FILE] [--src IP] [NAME...]\n"
    "      how the policy decides names (no NAME: names from stdin, JSON lines out)\n"
    "  lists stats [--config FILE]\n"
    "      entries, nodes, memory and build time of the compiled lists\n"
    "  check-config [--config FILE]\n"
    "      load the config and its lists, report the first error as file:line\n"
    "  run [--config FILE] [--log FILE|-] [--queue-maxlen N] [--summary-json FILE]\n"
    "      the live gateway: [gateway] mode inline (NFQUEUE) or monitor (libpcap);\n"
    "      SIGHUP reloads the policy, SIGTERM drains, flushes the log and exits\n"
    "  report LOG... [--html FILE] [--since T] [--until T]\n"
    "      summarise decision logs (Vigie or EVE, plain or gzip); --html: one offline page\n"
    "\n"
    "Without --config: $VIGIE_CONFIG, else the bundled deploy/vigie.toml.\n";

int Fail(const std::string& msg) {
  std::fprintf(stderr, "vigie: %s\n", msg.c_str());
  return 2;
}

absl::StatusOr<std::shared_ptr<const Policy>> LoadPolicy(const std::string& config_path) {
  std::string path = config_path.empty() ? DefaultConfigPath() : config_path;
  auto config = LoadConfig(path);
  if (!config.ok()) return config.status();
  return Policy::Build(*std::move(config));
}

int Replay(const std::vector<std::string>& args) {
  po::options_description desc("replay options");
  std::string config, log, summary_json;
  bool log_all = false;
  std::vector<std::string> pcaps;
  desc.add_options()("config", po::value(&config), "config file")(
      "log", po::value(&log), "decision log: a file, or - for standard output (default: the config's)")(
      "log-all", po::bool_switch(&log_all), "also log names that matched nothing and unmanaged sources")(
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
  auto sink = JsonLineSink::Open(log.empty() ? cfg.log_path : log);
  if (!sink.ok()) return Fail(std::string(sink.status().message()));
  PipelineOptions opts;
  opts.log_mode = log_all ? LogMode::kAll : cfg.log_mode;
  Pipeline pipeline(*policy, sink->get(), opts);
  auto start = std::chrono::steady_clock::now();
  int rc = 0;
  for (const std::string& f : pcaps) {
    auto res = ReplayCapture(f, &pipeline);
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
  (*sink)->Flush();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PrintSummary(pipeline, secs, stderr);
  if (!summary_json.empty()) {
    std::ofstream out(summary_json);
    out << SummaryJson(pipeline) << "\n";
    if (!out) return Fail(absl::StrCat(summary_json, ": cannot write"));
  }
  return rc;
}

int Lookup(const std::vector<std::string>& args) {
  po::options_description desc("lookup options");
  std::string config, src_text;
  std::vector<std::string> names;
  desc.add_options()("config", po::value(&config), "config file")(
      "src", po::value(&src_text), "device address: apply scope and exceptions for it")(
      "name", po::value(&names), "names");
  po::positional_options_description pos;
  pos.add("name", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(absl::StrCat("lookup: ", e.what()));
  }
  auto policy = LoadPolicy(config);
  if (!policy.ok()) return Fail(std::string(policy.status().message()));
  const Policy& pol = **policy;
  IpAddress src;
  if (!src_text.empty()) {
    auto ip = IpAddress::Parse(src_text);
    if (!ip.ok()) return Fail(std::string(ip.status().message()));
    src = *ip;
  }
  uint64_t now_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  auto decide = [&](const std::string& name, bool json) {
    DomainBuf norm;
    DomainError err = NormalizeDomain(name, &norm);
    Verdict v;
    if (err == DomainError::kOk) {
      v = src.family ? pol.Decide(src, norm.view(), now_us) : pol.DecideName(norm.view());
    } else {
      v.reason = Reason::kNoMatch;
    }
    const RuleMatch& m = v.match;
    if (json) {
      std::string s = "{\"name\":";
      AppendJsonString(name, &s);
      s += ",\"domain\":";
      if (err == DomainError::kOk) AppendJsonString(norm.view(), &s); else s += "null";
      absl::StrAppend(&s, ",\"action\":\"", AV(ActionName(v.action)), "\",\"reason\":\"", AV(ReasonName(v.reason)), "\"");
      s += ",\"app\":";
      if (m) AppendJsonString(pol.matcher().app_name(m.app), &s); else s += "null";
      s += ",\"list\":";
      if (m) AppendJsonString(m.allow ? "allow" : "block", &s); else s += "null";
      s += ",\"rule\":";
      if (m) AppendJsonString(m.rule->text, &s); else s += "null";
      s += ",\"rule_source\":";
      if (m) AppendJsonString(absl::StrCat(m.rule->file, ":", m.rule->line), &s); else s += "null";
      if (v.exception) {
        s += ",\"exception\":";
        AppendJsonString(v.exception->id, &s);
      }
      if (err != DomainError::kOk) {
        s += ",\"error\":";
        AppendJsonString(DomainErrorName(err), &s);
      }
      s += "}\n";
      std::fwrite(s.data(), 1, s.size(), stdout);
    } else if (err != DomainError::kOk) {
      absl::PrintF("%-32s invalid: %s\n", name, DomainErrorName(err));
    } else if (!m) {
      absl::PrintF("%-32s %-5s %s\n", norm.view(), ActionName(v.action), ReasonName(v.reason));
    } else {
      absl::PrintF("%-32s %-5s %-9s app=%s list=%s rule=%s (%s:%d)%s\n", norm.view(), ActionName(v.action),
                   ReasonName(v.reason), pol.matcher().app_name(m.app), m.allow ? "allow" : "block",
                   m.rule->text, m.rule->file, m.rule->line,
                   v.exception ? absl::StrCat(" exception=", v.exception->id) : "");
    }
  };
  if (names.empty()) {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      decide(line, true);
    }
  } else {
    for (const std::string& n : names) decide(n, false);
  }
  return 0;
}

int ListsStats(const std::vector<std::string>& args) {
  po::options_description desc("lists stats options");
  std::string config;
  desc.add_options()("config", po::value(&config), "config file");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(absl::StrCat("lists stats: ", e.what()));
  }
  auto policy = LoadPolicy(config);
  if (!policy.ok()) return Fail(std::string(policy.status().message()));
  const Matcher& m = (*policy)->matcher();
  const Matcher::Stats& s = m.stats();
  absl::PrintF("lists dir     %s\n", (*policy)->config().lists_dir);
  absl::PrintF("apps          %d\n", s.apps);
  absl::PrintF("entries       %d\n", s.entries);
  absl::PrintF("nodes         %d\n", s.nodes);
  absl::PrintF("memory        %d bytes (%.1f bytes/entry)\n", s.memory_bytes,
               s.entries ? double(s.memory_bytes) / double(s.entries) : 0.0);
  absl::PrintF("build time    %.3f ms\n", s.build_seconds * 1000);
  return 0;
}

int CheckConfig(const std::vector<std::string>& args) {
  po::options_description desc("check-config options");
  std::string config;
  desc.add_options()("config", po::value(&config), "config file");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(absl::StrCat("check-config: ", e.what()));
  }
  auto policy = LoadPolicy(config);
  if (!policy.ok()) return Fail(std::string(policy.status().message()));
  absl::PrintF("%s: ok (%d apps, %d list entries, %d exceptions)\n", (*policy)->config().path,
               (*policy)->matcher().app_count(), (*policy)->matcher().stats().entries,
               (*policy)->config().exceptions.size());
  return 0;
}

}  // namespace
}  // namespace vigie

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(vigie::kUsage, stderr);
    return 2;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "replay") return vigie::Replay(args);
  if (cmd == "lookup") return vigie::Lookup(args);
  if (cmd == "lists") {
    if (args.empty() || args[0] != "stats") return vigie::Fail("usage: vigie lists stats [--config FILE]");
    return vigie::ListsStats(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (cmd == "check-config") return vigie::CheckConfig(args);
  if (cmd == "run") return vigie::RunCommand(args);
  if (cmd == "report") return vigie::report::RunReportCommand(argc - 1, argv + 1);
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(vigie::kUsage, stdout);
    return 0;
  }
  return vigie::Fail(absl::StrCat("unknown command '", cmd, "'\n", vigie::kUsage));
}
