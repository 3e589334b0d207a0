#!/bin/sh
# Vigie inline rule set for iptables / ip6tables (DESIGN.md "Inline mode").
#
#   vigie-iptables.sh up   [--queues 0:1] [--fail open|closed] [--hook FORWARD]
#   vigie-iptables.sh down [--hook FORWARD]
#
# Only what needs inspecting goes to user space: DNS (UDP and TCP 53) and the
# first packets of TCP/443, UDP/443 and TCP/80 connections (conntrack packet
# counts, original direction). Vigie's verdicts mark connections (gateway/
# enforce.h): 0x1 decided-allow (never queued again), 0x2 blocked (the rest of
# the connection is dropped here, in the kernel). Vigie hands such packets
# back with NF_REPEAT and the mark; the first rules save it to the connmark.
#
# --fail open adds --queue-bypass: with no Vigie bound to the queue, packets
# pass. --fail closed: they are dropped. (The queue-full policy is Vigie's
# [gateway] fail key, NFQA_CFG_F_FAIL_OPEN.)
set -eu

cmd=${1:-}
[ -n "$cmd" ] && shift
queues=0:1
fail=open
hook=FORWARD
while [ $# -gt 0 ]; do
  case $1 in
    --queues) queues=$2; shift 2 ;;
    --fail) fail=$2; shift 2 ;;
    --hook) hook=$2; shift 2 ;;
    *) echo "vigie-iptables: unknown option $1" >&2; exit 2 ;;
  esac
done

case $queues in
  *:*) Q="--queue-balance $queues" ;;
  *) Q="--queue-num $queues" ;;
esac
case $fail in
  open) Q="$Q --queue-bypass" ;;
  closed) ;;
  *) echo "vigie-iptables: --fail open|closed" >&2; exit 2 ;;
esac
# Packets per connection (original direction) that are queued: the handshake
# and a ClientHello spread over several segments (post-quantum key shares).
FIRST="-m connbytes --connbytes 0:10 --connbytes-dir original --connbytes-mode packets"

down() {
  for ipt in iptables ip6tables; do
    while $ipt -w -D "$hook" -j VIGIE 2>/dev/null; do :; done
    $ipt -w -F VIGIE 2>/dev/null || true
    $ipt -w -X VIGIE 2>/dev/null || true
  done
}

up() {
  down
  for ipt in iptables ip6tables; do
    $ipt -w -N VIGIE
    # Verdicts coming back from Vigie (NF_REPEAT + mark): remember, then act.
    $ipt -w -A VIGIE -m mark --mark 0x2/0x3 -j CONNMARK --save-mark --nfmask 0x3 --ctmask 0x3
    $ipt -w -A VIGIE -m mark --mark 0x2/0x3 -j DROP
    $ipt -w -A VIGIE -m mark --mark 0x1/0x3 -j CONNMARK --save-mark --nfmask 0x3 --ctmask 0x3
    $ipt -w -A VIGIE -m mark --mark 0x1/0x3 -j RETURN
    # Connections already decided.
    $ipt -w -A VIGIE -m connmark --mark 0x2/0x3 -j DROP
    $ipt -w -A VIGIE -m connmark --mark 0x1/0x3 -j RETURN
    # What Vigie inspects.
    $ipt -w -A VIGIE -p udp --dport 53 -j NFQUEUE $Q
    $ipt -w -A VIGIE -p tcp --dport 53 -j NFQUEUE $Q
    $ipt -w -A VIGIE -p tcp -m multiport --dports 80,443 $FIRST -j NFQUEUE $Q
    $ipt -w -A VIGIE -p udp --dport 443 $FIRST -j NFQUEUE $Q
    $ipt -w -I "$hook" 1 -j VIGIE
  done
}

case $cmd in
  up) up ;;
  down) down ;;
  *) echo "usage: vigie-iptables.sh up|down [--queues A:B|N] [--fail open|closed] [--hook FORWARD]" >&2; exit 2 ;;
esac
