// The `vigie` subcommands (one file each) and what they share.
//
//   vigie replay  [--config FILE] [--log FILE|-] [--log-format vigie|eve] [--log-all] [--summary-json FILE] PCAP...
//   vigie lookup  [--config FILE] [--src IP] [NAME...]
//   vigie explain [--config FILE] [--proto dns|tls|quic|http] [--json] SRC_IP NAME
//   vigie lists stats [--config FILE]
//   vigie check-config [--config FILE]
//   vigie run [--config FILE] [--log FILE|-] [--log-format vigie|eve] [--queue-maxlen N] [--summary-json FILE]
//   vigie rules iptables|nft [--config FILE] [--family ipv4|ipv6]
//   vigie bench [--config FILE] [--capture FILE] [--workers 1,2,4] [--json]
//
// The CLI is the last stage: it may use every library of gateway/; nothing
// links it. Each command returns the process exit code (2: usage or config
// error, with the reason on standard error).
#ifndef VIGIE_GATEWAY_CLI_COMMANDS_H_
#define VIGIE_GATEWAY_CLI_COMMANDS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/policy/policy.h"

namespace vigie {

using Args = std::vector<std::string>;

int ReplayCommand(const Args& args);
int LookupCommand(const Args& args);
int ListsCommand(const Args& args);  // args[0] is the lists subcommand
int CheckConfigCommand(const Args& args);
int RunCommand(const Args& args);
// `logs reopen`: args[0] is the logs subcommand.
int LogsCommand(const Args& args);
int ExplainCommand(const Args& args);  // exit 0 passes, 1 blocked, 2 error
int RulesCommand(const Args& args);  // args[0] is iptables or nft
int BenchCommand(const Args& args);

// Prints "vigie: <msg>" on standard error and returns 2.
int Fail(const std::string& msg);

// Loads the config (`config_path`, or DefaultConfigPath() when empty) and
// builds its policy snapshot.
absl::StatusOr<std::shared_ptr<const Policy>> LoadPolicy(const std::string& config_path);

// "vigie" / "eve" (--log-format).
absl::StatusOr<LogFormat> ParseLogFormat(const std::string& s);

// The top-level usage text.
extern const char* const kUsage;

}  // namespace vigie

#endif  // VIGIE_GATEWAY_CLI_COMMANDS_H_
