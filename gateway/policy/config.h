// The TOML configuration (DESIGN.md "Configuration contract").
//
// LoadConfig reads and checks a file; every error names file:line. Unknown
// sections and keys are errors too (a typo must not silently disable a
// policy). Relative paths are resolved against the config file's directory.
// Building the policy from a Config (loading lists) is policy.h's job.
//
// Thread safety: plain values.
#ifndef VIGIE_GATEWAY_POLICY_CONFIG_H_
#define VIGIE_GATEWAY_POLICY_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/flow/flow.h"
#include "gateway/base/ip_address.h"

namespace vigie {

enum class Action : uint8_t { kAllow = 0, kLog = 1, kBlock = 2 };
std::string_view ActionName(Action a);

struct PolicyRule {
  std::vector<std::string> apps;
  Action action = Action::kBlock;
  uint32_t line = 0;
};

struct ExceptionRule {
  std::string id;
  CidrSet devices;                 // empty: every managed device
  std::vector<std::string> apps;   // empty: every app
  std::optional<uint64_t> until_us;  // end of the `until` day, UTC (exclusive)
  std::string until_text;
  std::string reason;
  std::string ticket;
  Action action = Action::kLog;    // what the exception turns a block into
  uint32_t line = 0;
};

enum class LogMode : uint8_t { kAll, kDecisions, kBlocked };
// The decision log's line format: Vigie's own (DESIGN.md "Decision event")
// or Suricata 8 EVE JSON (output/eve.h).
enum class LogFormat : uint8_t { kVigie, kEve };
// [log] dedup_seconds upper bound: a day; longer windows would hide a
// device's activity from a daily report.
inline constexpr uint32_t kMaxDedupSeconds = 86400;
// [log] max_bytes bounds: a file must hold a few decision lines (about 1 KiB
// each); 1 TiB is beyond any disk a gateway logs to.
inline constexpr int64_t kMinLogMaxBytes = 4096;
inline constexpr int64_t kMaxLogMaxBytes = int64_t{1} << 40;
// [log] keep: rotated files kept; default with max_bytes, and the cap.
inline constexpr uint32_t kDefaultLogKeep = 5;
inline constexpr uint32_t kMaxLogKeep = 1000;

// [inspect] checksums: whether a segment or datagram with a bad transport
// checksum is read (the receiver drops it). kAuto checks, except for a source
// all of whose checksums so far were bad (capture on a sending host with
// checksum offload shows every outgoing packet so).
enum class ChecksumMode : uint8_t { kAuto, kAlways, kNever };

struct Config {
  std::string path;  // the file it came from
  // [gateway]
  std::string mode = "inline";
  std::vector<int> queues = {0};
  std::vector<std::string> interfaces;
  std::string enforce = "inject";
  std::string fail = "open";
  uint32_t queue_length = 4096;  // inline: packets each NFQUEUE holds before `fail` applies
  // The user `vigie run` drops to once its queues, sockets and files are open
  // ("" or "root": stay root). Not written: "vigie" if it exists, else root
  // (cli/privileges.h).
  std::string user = "vigie";
  bool user_set = false;
  // [scope]
  CidrSet managed;
  std::vector<std::string> managed_text;
  // [lists]
  std::string lists_dir;
  uint32_t lists_dir_line = 0;  // where [lists] dir is written, for errors
  // [[policy]]
  std::vector<PolicyRule> policies;
  // [dns]
  std::string block_answer = "nxdomain";
  IpAddress sinkhole_v4, sinkhole_v6;
  std::vector<uint16_t> dns_ports = {53, 5353, 5355};
  bool dns_any_port = true;  // recognise well-formed DNS queries on other UDP ports
  // HTTPS/SVCB queries (types 65/64) from managed sources answered with no
  // data, so browsers get no ECH configuration (reason svcb).
  bool svcb_nodata = false;
  // [[exception]]
  std::vector<ExceptionRule> exceptions;
  // [log]
  std::string log_path = "-";
  LogMode log_mode = LogMode::kDecisions;
  std::string syslog;
  LogFormat log_format = LogFormat::kVigie;
  uint16_t community_id_seed = 0;  // Community ID v1 seed (Suricata community-id-seed)
  // 0: off; else per (device, name, action) the first decision is written and
  // the identical ones within this many seconds become one count event.
  uint32_t dedup_seconds = 0;
  // Size rotation: 0 = off; else the file is rotated (PATH.1 .. PATH.keep)
  // before it would pass max_bytes (output/log_file.h).
  uint64_t log_max_bytes = 0;
  uint32_t log_keep = 0;
  uint32_t log_max_bytes_line = 0;  // for `vigie check`'s warnings
  // [metrics]
  std::string metrics_listen;
  // [flows]
  FlowTableOptions flows;
  // [inspect]
  Action malformed_action = Action::kAllow;  // what a malformed message gets (logged, reason malformed)
  // Managed sources only. A TLS/QUIC ClientHello carrying encrypted_client_hello
  // (the real name is hidden; the outer SNI is still matched first).
  Action ech_action = Action::kLog;
  // A handshake with no server_name at all (and no IP rule matching).
  Action no_sni_action = Action::kAllow;
  // DNS over TLS / QUIC on port 853 (RFC 7858, RFC 9250): a resolver bypass.
  Action dot_action = Action::kBlock;
  // A connection Vigie could not inspect to the end (reassembly cap or pool
  // or quota exhausted, flow table full or quota): block by default, since on
  // a managed network an uninspectable connection to an unknown name is a
  // bypass (DESIGN.md "Soundness").
  Action uninspected_action = Action::kBlock;
  ChecksumMode checksums = ChecksumMode::kAuto;
};

// Reads and checks a config file.
absl::StatusOr<Config> LoadConfig(const std::string& path);
// Same, from text (path used for messages and relative paths).
absl::StatusOr<Config> ParseConfig(std::string_view text, const std::string& path);

// The default config: VIGIE_CONFIG from the environment, else
// <prefix>/etc/vigie/vigie.toml beside an installed binary, else
// deploy/vigie.toml of the source tree the binary was built from.
std::string DefaultConfigPath();

}  // namespace vigie

#endif  // VIGIE_GATEWAY_POLICY_CONFIG_H_
