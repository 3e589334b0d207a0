// Least privilege for `vigie run` (issue 12, deploy/README.md "Least
// privilege").
//
// CheckTrustedFiles: the files that decide what is blocked (the config, the
// lists directory and every file in it) must be writable by root or the
// gateway user only: the error names the first file refused and why (group or
// other write bit; owner neither root nor the user). `vigie run` refuses to
// start (exit 2) and a reload keeps the running policy; `vigie check` reports
// it as an error. The config has no TLS-key file today; one added later goes
// through the same check.
//
// DropPrivileges: after every queue, interface, socket and file is open and
// before any thread starts (capabilities and no_new_privs are per thread):
//   - started as root with a user ("" or "root": keep root, for tests and
//     development): bounding set trimmed to the kept capabilities,
//     PR_SET_KEEPCAPS, setgroups({gid}), setgid, setuid, then cap_set_proc with
//     only the kept capabilities permitted and effective;
//   - already running as that user (systemd User= with AmbientCapabilities):
//     no setuid, the capabilities are trimmed to the kept ones;
//   - then ambient capabilities cleared and PR_SET_NO_NEW_PRIVS set.
// Kept: CAP_NET_ADMIN (inline: NFQUEUE verdicts, connmark) and CAP_NET_RAW
// (inline: raw sockets for injected RSTs and DNS answers; monitor: pcap
// inject). Monitor mode keeps CAP_NET_RAW only.
//
// With `[gateway] user` not written, the user is "vigie" if it exists; if it
// does not, Vigie keeps running as root and says so on standard error. A user
// written in the config that does not exist is an error.
//
// Thread safety: call from the main thread before any other thread exists.
#ifndef VIGIE_GATEWAY_CLI_PRIVILEGES_H_
#define VIGIE_GATEWAY_CLI_PRIVILEGES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/policy/config.h"

namespace vigie {

absl::Status CheckTrustedFiles(const Config& cfg);

// Returns one line saying what was done (for standard error).
absl::StatusOr<std::string> DropPrivileges(const Config& cfg);

// The capabilities kept, as the CapEff mask of /proc/PID/status would show it.
uint64_t KeptCapabilityMask(const Config& cfg);

}  // namespace vigie

#endif  // VIGIE_GATEWAY_CLI_PRIVILEGES_H_
