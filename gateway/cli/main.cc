// vigie: the command-line entry point; one file per subcommand (commands.h).
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "gateway/cli/commands.h"
#include "gateway/policy/config.h"
#include "gateway/report/report.h"

namespace vigie {

const char* const kUsage =
    "usage: vigie COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  replay [--config FILE] [--log FILE|-] [--log-format vigie|eve] [--log-all] [--summary-json FILE] PCAP...\n"
    "      take capture files through the whole packet path; decisions as JSON lines\n"
    "      (eve: Suricata 8 EVE JSON); a progress line on stderr when it is a terminal\n"
    "  lookup [--config FILE] [--src IP] [NAME...]\n"
    "      how the policy decides names (no NAME: names from stdin, JSON lines out)\n"
    "  explain [--config FILE] [--proto dns|tls|quic|http] [--json] SRC_IP NAME\n"
    "      every step of the decision for one device and name: scope, rules, policy,\n"
    "      exceptions, verdict, inline enforcement (exit 0 passes, 1 blocked)\n"
    "  lists stats [--config FILE]\n"
    "      entries, nodes, memory and build time of the compiled lists\n"
    "  lists import --format v2fly|adguard-services|hosts|adblock|plain [--app NAME] FILE...\n"
    "      merge maintained public lists into a Vigie list (stdout; skipped entries on stderr)\n"
    "  lists diff OLD NEW\n"
    "      what a change of list files or directories adds and removes, per app\n"
    "  check [--strict] [CONFIG]   (alias: check-config [--config FILE])\n"
    "      load the config and its lists: errors as file:line (exit 2), then warnings\n"
    "  report LOG... [--html FILE] [--since T] [--until T]\n"
    "      summarise decision logs (Vigie or EVE lines, gzip too): blocks per app, top devices and names,\n"
    "      exception use, decisions per hour; --html writes one self-contained page with charts\n"
    "  run [--config FILE] [--log FILE|-] [--log-format vigie|eve] [--queue-maxlen N] [--summary-json FILE]\n"
    "      [--pid-file FILE]\n"
    "      the live gateway: [gateway] mode inline (NFQUEUE) or monitor (libpcap); drops to [gateway] user;\n"
    "      SIGHUP reopens the log and reloads the policy, SIGUSR1 reopens the log only,\n"
    "      SIGTERM drains, flushes the log and exits\n"
    "  logs reopen (--pid PID | --pid-file FILE)\n"
    "      make a running `vigie run` reopen its decision log (SIGUSR1; logrotate's postrotate)\n"
    "  bench [--config FILE] [--capture FILE] [--workers 1,2,4] [--packets N] [--flows N] [--passes N] [--json]\n"
    "      the packet path's throughput on this machine (capture in memory, default a generated mix):\n"
    "      Mpps, Gbit/s, ns/packet per worker count, to choose queues and workers\n"
    "  rules iptables|nft [--config FILE] [--family ipv4|ipv6]\n"
    "      the kernel rules that queue traffic to `run` (iptables-restore or nft -f input), from the config\n"
    "\n"
    "Without --config: $VIGIE_CONFIG, else the bundled deploy/vigie.toml.\n";

int Fail(const std::string& msg) {
  std::fprintf(stderr, "vigie: %s\n", msg.c_str());
  return 2;
}

absl::StatusOr<LogFormat> ParseLogFormat(const std::string& s) {
  if (s == "vigie") return LogFormat::kVigie;
  if (s == "eve") return LogFormat::kEve;
  return absl::InvalidArgumentError(absl::StrCat("--log-format must be vigie or eve, not '", s, "'"));
}

absl::StatusOr<std::shared_ptr<const Policy>> LoadPolicy(const std::string& config_path) {
  std::string path = config_path.empty() ? DefaultConfigPath() : config_path;
  auto config = LoadConfig(path);
  if (!config.ok()) return config.status();
  return Policy::Build(*std::move(config));
}

}  // namespace vigie

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(vigie::kUsage, stderr);
    return 2;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "replay") return vigie::ReplayCommand(args);
  if (cmd == "lookup") return vigie::LookupCommand(args);
  if (cmd == "lists") return vigie::ListsCommand(args);
  if (cmd == "check" || cmd == "check-config") return vigie::CheckConfigCommand(args);
  if (cmd == "run") return vigie::RunCommand(args);
  if (cmd == "rules") return vigie::RulesCommand(args);
  if (cmd == "bench") return vigie::BenchCommand(args);
  if (cmd == "logs") return vigie::LogsCommand(args);
  if (cmd == "report") return vigie::report::RunReportCommand(argc - 1, argv + 1);
  if (cmd == "explain") return vigie::ExplainCommand(args);
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(vigie::kUsage, stdout);
    return 0;
  }
  return vigie::Fail(absl::StrCat("unknown command '", cmd, "'\n", vigie::kUsage));
}
