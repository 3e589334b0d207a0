#!/bin/sh
# Vigie inline rule set for iptables / ip6tables (DESIGN.md "Inline mode").
#
#   vigie-iptables.sh up   [--config FILE] [--vigie BIN]
#   vigie-iptables.sh down
#
# `up` applies the rules `vigie rules iptables` generates from the config
# (gateway/sources/nfqueue_rules.h), so the rules and `vigie run` read the
# same [gateway] queues and fail mode, [scope] managed and [dns] ports:
#   - the original direction of connections from managed sources is queued:
#     DNS ports always, every other TCP and UDP connection, on any port,
#     while its connmark is 0 (Vigie has not decided it yet);
#   - Vigie's verdicts come back as NF_REPEAT with a mark, saved to the
#     connmark: 0x1 allowed (never queued again), 0x2 blocked (the rest of the
#     connection is dropped here, in the kernel);
#   - fail = "open" adds --queue-bypass (no Vigie bound: packets pass),
#     "closed" drops them. (The queue-full policy is Vigie's own flag.)
#   - only forwarded traffic (FORWARD): the gateway's own never is.
# The chains are refilled in one iptables-restore transaction per family;
# a config the generator refuses leaves the rules in place.
#
# Without --config, vigie's default (VIGIE_CONFIG, else the installed
# vigie.toml). Without --vigie: $VIGIE, else `vigie` on PATH.
# The options of earlier versions (--queues, --fail, --hook) are gone: the
# config says it all, and Vigie is a forwarding gateway (hook FORWARD).
set -eu

cmd=${1:-}
[ -n "$cmd" ] && shift
config=
vigie=${VIGIE:-vigie}
while [ $# -gt 0 ]; do
  case $1 in
    --config) config=$2; shift 2 ;;
    --vigie) vigie=$2; shift 2 ;;
    --queues|--fail|--hook)
      echo "vigie-iptables: $1 is read from the config now ([gateway] queues, fail; hook FORWARD): use --config FILE" >&2
      exit 2 ;;
    *) echo "vigie-iptables: unknown option $1" >&2; exit 2 ;;
  esac
done

# Chains of the generated rules (kRulesChain, kRulesInspectChain).
CHAINS="VIGIE VIGIE_INSPECT"

down() {
  for ipt in iptables ip6tables; do
    while $ipt -w -D FORWARD -j VIGIE 2>/dev/null; do :; done
    for c in $CHAINS; do $ipt -w -F "$c" 2>/dev/null || true; done
    for c in $CHAINS; do $ipt -w -X "$c" 2>/dev/null || true; done
  done
}

up() {
  # Generate both families first: a refused config changes nothing.
  set -- ${config:+--config "$config"}
  r4=$("$vigie" rules iptables --family ipv4 "$@")
  r6=$("$vigie" rules iptables --family ipv6 "$@")
  for fam in 4 6; do
    if [ $fam = 4 ]; then ipt=iptables; rules=$r4; else ipt=ip6tables; rules=$r6; fi
    # The restore empties and refills the chains atomically and inserts one
    # more jump at the top of FORWARD; the older jumps are then removed
    # (by rule number, the last first, so the new one stays on top).
    printf '%s\n' "$rules" | $ipt-restore -w --noflush
    while :; do
      last=$($ipt -w -S FORWARD | awk '$1 == "-A" { n++; if ($0 == "-A FORWARD -j VIGIE") last = n } END { print last + 0 }')
      [ "$last" -gt 1 ] || break
      $ipt -w -D FORWARD "$last"
    done
  done
}

case $cmd in
  up) up ;;
  down) down ;;
  *) echo "usage: vigie-iptables.sh up [--config FILE] [--vigie BIN] | down" >&2; exit 2 ;;
esac
