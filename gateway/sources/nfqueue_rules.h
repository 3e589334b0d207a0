// The kernel side of inline mode, generated from the config: the rule set
// that hands packets to NfqueueSource (`vigie rules iptables|nft`; deploy/rules/
// applies it). Pure text generation: no I/O, no kernel access.
//
// What is queued (DESIGN.md "Inline mode"):
//  - only packets of the forwarded path (hook FORWARD): the gateway's own
//    traffic (INPUT/OUTPUT, Vigie's injected resets and DNS answers, the
//    metrics and syslog sockets) never reaches a queue;
//  - only the original direction of connections a managed source opened
//    (`-s CIDR -m conntrack --ctdir ORIGINAL`, nft `ct direction original`).
//    Replies are never queued: the pipeline reads the client's bytes only,
//    and NfqueueSource marks a packet from an unmanaged source (a server's
//    SYN-ACK) allowed for good, which would end the connection's inspection
//    at its second packet. Unmanaged sources are never queued.
//  - DNS (UDP and TCP to [dns] ports): every packet, whatever the connmark
//    says except "blocked", so every query is decided;
//  - every other TCP and UDP connection, on any port, while its connmark is
//    0 ("inspecting"): until Vigie returns a packet with mark kMarkAllow
//    (saved to the connmark: never queued again) or kMarkBlock (saved: the
//    rest of the connection is dropped in the kernel, both directions). Not a
//    fixed packet count, so a ClientHello in many segments, data after zero
//    window probes, every HTTP request of a keep-alive connection and port 853
//    (DoT, [inspect] dot) are all seen.
// Queues: [gateway] queues, one (`--queue-num N`) or a contiguous range
// balanced by connection (`--queue-balance A:B`, nft `queue num A-B`).
// Fail mode: [gateway] fail = "open" adds `--queue-bypass` / `bypass` (no
// Vigie bound to the queue: packets pass); "closed" drops them.
//
// Errors: a config whose mode is not inline, or whose queues are not one
// number or a contiguous ascending range (the kernel balances over a range
// only), is refused with the config file's name.
//
// Thread safety: pure functions.
#ifndef VIGIE_GATEWAY_SOURCES_NFQUEUE_RULES_H_
#define VIGIE_GATEWAY_SOURCES_NFQUEUE_RULES_H_

#include <string>

#include "absl/status/statusor.h"
#include "gateway/policy/config.h"

namespace vigie {

// The chains the iptables rules create (deploy/rules/vigie-iptables.sh down
// removes them): VIGIE holds the verdict rules and jumps managed traffic to
// VIGIE_INSPECT, which queues.
inline constexpr char kRulesChain[] = "VIGIE";
inline constexpr char kRulesInspectChain[] = "VIGIE_INSPECT";
// The nftables table (family inet) the nft rules replace as a whole.
inline constexpr char kRulesNftTable[] = "vigie";
// xt_multiport takes at most 15 ports per rule (XT_MULTI_PORTS).
inline constexpr size_t kMultiportMax = 15;

enum class IpFamily : uint8_t { kIpv4 = 4, kIpv6 = 6 };

// Input for `iptables-restore --noflush` (kIpv4) or `ip6tables-restore
// --noflush` (kIpv6): table filter, chains kRulesChain and kRulesInspectChain
// (declared, so emptied if they exist), their rules, and the jump inserted at
// the top of FORWARD. The jump is inserted, not replaced: apply once, after
// removing an earlier set (vigie-iptables.sh up does both).
absl::StatusOr<std::string> IptablesRules(const Config& config, IpFamily family);

// An `nft -f` ruleset: table inet kRulesNftTable, created if missing, then
// deleted and rebuilt in the same transaction.
absl::StatusOr<std::string> NftRules(const Config& config);

}  // namespace vigie

#endif  // VIGIE_GATEWAY_SOURCES_NFQUEUE_RULES_H_
