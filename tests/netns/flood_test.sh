#!/usr/bin/env bash
# Floods and bursts through `vigie run` inline (issue 14), on the namespaces of
# lib.sh, with the rules `vigie rules iptables` generates:
#   1. a bounded flow flood (TCP SYN and UDP, IPv4 and IPv6, new ports, paced)
#      from two client addresses: a bystander device's banned TLS handshake
#      during it is reset and its approved one succeeds; vigie's peak RSS
#      (VmHWM) grows by less than the caps allow; quota hits per source;
#   2. bursts of DNS decisions (dedup off) with slow sinks: a syslog collector
#      that reads slowly over TCP, one over UDP, and the decision log on a
#      1 MiB tmpfs (a private mount namespace): written + dropped = decisions
#      in /metrics and in the summary, every blocked query seen was answered
#      (the workers never waited on the log).
# Traffic stays inside the namespaces; the sender and collectors are bounded.
#   flood_test.sh VIGIE SOURCE_DIR
VIGIE=$1
SOURCE_DIR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"

FLOWS=${FLOOD_FLOWS:-80000}        # new flows in part 1
FLOW_PPS=${FLOOD_FLOW_PPS:-20000}
BURST=${FLOOD_BURST:-50000}        # DNS queries per burst in part 2
BURST_PPS=${FLOOD_BURST_PPS:-40000}
METRICS_PORT=9108
SETTLE_S=20                        # at most, waiting for /metrics to stop moving

require_env
command -v unshare >/dev/null || { echo "missing tool: unshare"; exit 1; }
make_topology
start_servers
say "topology up: client $NS_C, gateway $NS_G, server $NS_S (work dir $T)"

CAPS="dedup_seconds = 0
[flows]
max = 16384
max_per_source = 4096
reassembly_buffers = 256
reassembly_per_source = 16
[metrics]
listen = \"127.0.0.1:$METRICS_PORT\""

# The bursts: every query is a new connection from one device, so its share
# must hold them all (else the excess is refused: counted, logged at powers
# of two, and not the subject here).
BURST_CAPS="dedup_seconds = 0
[flows]
max = 131072
max_per_source = 131072
[metrics]
listen = \"127.0.0.1:$METRICS_PORT\""

vm() { awk -v k="$1:" '$1 == k {print $2 * 1024}' "/proc/$VIGIE_PID/status"; }  # bytes
metric() {
  ing curl -sS --max-time 2 "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null | awk -v s="$1" '$1 == s {print $2}'
}
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$T/summary.json" "$1"; }
# Waits until the workers' published figures stop moving (they publish about
# once a second); a deadline, not an assertion.
settle() {
  local last=-1 v i
  for i in $(seq $((SETTLE_S * 2))); do
    sleep 1.2
    v=$(metric vigie_packets_total)
    [ "${v:-0}" = "$last" ] && return 0
    last=${v:-0}
  done
}

# ---- 1. flow flood ----------------------------------------------------------------------
# Fail closed: with fail = "open" the kernel itself accepts what a full queue
# cannot take (NFQA_CFG_F_FAIL_OPEN), uncounted, so a banned handshake that
# arrives while the flood fills the queue may pass; that is what fail-open
# means (DESIGN.md, fail mode), and an operator who must block under floods
# runs closed, where the kernel drops and TCP retransmits into the queue.
write_config "$T/flood.toml" closed inline "$CAPS"
rules up --config "$T/flood.toml"
start_vigie "$T/flood.toml" || exit 1
rss0=$(vm VmRSS)
inc python3 "$HERE/flood_send.py" flows $C4 $C6 $WEB4 $WEB6 "$FLOWS" "$FLOW_PPS" > "$T/send.out" 2>&1 &
sender=$!
PIDS+=($sender)
sleep 1
r=$(curl_c $C4X www.tiktok.com)
[[ $r != exit=0* && ( $r == exit=35* || $r == exit=56* || $r == *reset* ) ]] &&
  pass "during the flood: a bystander's https://www.tiktok.com is reset ($r)" || fail "tiktok during the flood: $r"
r=$(curl_c $C4X tchap.gouv.fr)
[[ $r == exit=0* ]] && pass "during the flood: a bystander's https://tchap.gouv.fr succeeds" ||
  fail "tchap during the flood: $r"
kill -0 $sender 2>/dev/null && pass "the flood was still running during both handshakes" ||
  fail "the flood ended before the handshakes (raise FLOOD_FLOWS): $(cat "$T/send.out")"
wait $sender; say "  $(cat "$T/send.out")"
hwm=$(vm VmHWM)
stop_vigie || fail "vigie exit status"
rules down --config "$T/flood.toml"
bound=$(js 'd["memory"]["bound"]')
say "  figures: rss at start $((rss0 >> 20)) MiB, peak $((hwm >> 20)) MiB, growth $(((hwm - rss0) >> 20)) MiB," \
    "allowed $((bound >> 20)) MiB (2 workers: flow tables + fragment chains)"
say "  figures: $(js '", ".join("%s %d" % (k, d["counters"][k]) for k in ("flows_created", "flows_evicted", "flow_quota_hit", "uninspected", "decisions"))'), queue packets $(js 'd["source"]["packets"]')"
say "  figures: sources $(js '[(s["ip"], s["quota_hits"], s["evicted"]) for s in d["sources"]]')"
[ $((hwm - rss0)) -le "$bound" ] && pass "peak RSS growth $(((hwm - rss0) >> 20)) MiB <= $((bound >> 20)) MiB allowed" ||
  fail "peak RSS growth $((hwm - rss0)) > bound $bound"
seen=$(js 'd["counters"]["flows_created"] + d["counters"]["flow_quota_hit"]')
[ "$seen" -ge $((FLOWS / 2)) ] && pass "vigie saw the flood: $seen new flows created or refused (of $FLOWS sent)" ||
  fail "new flows seen $seen of $FLOWS"
q=$(js 'sum(s["quota_hits"] for s in d["sources"] if s["ip"] in ("'$C4'", "'$C6'"))')
[ "$q" -gt 0 ] && pass "the flooding sources' share refusals counted per source: $q quota hits" ||
  fail "no per-source quota hits: $(js 'd["sources"]')"
check "decision log: the bystander's tiktok handshake blocked" \
  grep -q "\"action\":\"block\".*\"src_ip\":\"$C4X\".*\"domain\":\"www.tiktok.com\"" "$T/decisions.jsonl"
check "decision log: the bystander's tchap handshake allowed" \
  grep -q "\"action\":\"allow\".*\"src_ip\":\"$C4X\".*\"domain\":\"tchap.gouv.fr\"" "$T/decisions.jsonl"

# ---- 2. decision bursts with slow sinks -------------------------------------------------
# burst NAME SRC SERVER SINK_TOML LOG [wrapper...]: vigie run with SINK_TOML in
# [log] and the decision log at LOG, BURST blocked DNS queries from SRC (each
# burst its own source: no connection of an earlier one is reused); checks
# the books balance in /metrics and the summary.
burst() {
  local name=$1 src=$2 server=$3 sink=$4 log=$5; shift 5
  write_config "$T/$name.toml" open inline "$sink
$BURST_CAPS"
  rules up --config "$T/$name.toml"
  : > "$T/vigie.err"
  ip netns exec "$NS_G" "$@" "$VIGIE" run --config "$T/$name.toml" --log "$log" --summary-json "$T/summary.json" \
    2>>"$T/vigie.err" &
  VIGIE_PID=$!
  local i
  for i in $(seq 100); do grep -q ready "$T/vigie.err" && break; sleep 0.05; done
  grep -q ready "$T/vigie.err" || { fail "$name: vigie did not start: $(cat "$T/vigie.err")"; return; }
  inc python3 "$HERE/flood_send.py" dns "$src" "$server" burst.tiktok.com "$BURST" "$BURST_PPS" > "$T/send.out" 2>&1
  settle
  local dec ev w d
  dec=$(metric vigie_decisions_total); ev=$(metric vigie_log_events_total)
  w=$(metric vigie_log_events_written_total); d=$(metric vigie_log_events_dropped_total)
  say "  figures ($name, /metrics): decisions $dec, log events $ev, written $w, dropped $d; $(cat "$T/send.out")"
  [ "${dec:-0}" -ge $((BURST / 4)) ] && pass "$name: a burst: $dec decisions (of $BURST queries sent; the rest bypassed a full queue)" ||
    fail "$name: only ${dec:-0} decisions of $BURST queries"
  [ -n "$dec" ] && [ "$ev" = "$dec" ] && [ $((w + d)) -eq "$dec" ] &&
    pass "$name: /metrics written $w + dropped $d == log events $ev == decisions $dec" ||
    fail "$name: /metrics decisions $dec, log events $ev, written $w + dropped $d"
  : > "$T/fast"  # the collectors may drain now
  stop_vigie || fail "$name: vigie exit status"
  rules down --config "$T/$name.toml"
  local sd sw sdr
  sd=$(js 'd["counters"]["decisions"]'); sw=$(js 'd["log"]["written"]'); sdr=$(js 'd["log"]["dropped"]')
  [ "$(js 'd["counters"]["log_events"]')" = "$sd" ] || fail "$name: summary log_events $(js 'd["counters"]["log_events"]') != decisions $sd"
  say "  figures ($name, summary): decisions $sd, written $sw, dropped $sdr;" \
      "$(js '", ".join(f"{k} {v}" for k, v in list(d["enforce"].items()) + list(d.get("syslog", {}).items()))')"
  [ $((sw + sdr)) -eq "$sd" ] && pass "$name: summary written $sw + dropped $sdr == decisions $sd" ||
    fail "$name: summary $sd != $sw + $sdr"
  [ "$(js 'd["enforce"]["dns_answers"] + d["enforce"]["not_answered"] == d["counters"]["decisions_block"]')" = True ] &&
    pass "$name: every blocked query seen was answered at once (the workers never waited on the log)" ||
    fail "$name: answers $(js 'd["enforce"]') vs blocks $(js 'd["counters"]["decisions_block"]')"
}

# start_collector tcp|udp PORT: a slow syslog collector in the gateway namespace.
start_collector() {
  rm -f "$T/fast" "$T/collected"
  ip netns exec "$NS_G" python3 "$HERE/slow_collector.py" "$1" "$2" "$T/collected" "$T/fast" &
  COLLECTOR=$!
  PIDS+=($COLLECTOR)
  sleep 0.3
}
collected() {  # waits (bounded by the collector's own 1 s quiet rule) for its count
  # Called as $(collected), a subshell, which cannot `wait` for the main
  # shell's child: poll for the file the collector writes last (bounded).
  local i
  for i in $(seq 300); do [ -e "$T/collected" ] && break; sleep 0.1; done
  cat "$T/collected" 2>/dev/null || { echo "collector wrote no count within 30 s" >&2; echo 0; }
}

start_collector tcp 10514
burst syslog_tcp $C4 $DNS4 'syslog = "tcp://127.0.0.1:10514"' "$T/burst.jsonl"
got=$(collected); sent=$(js 'd["syslog"]["sent"]'); errs=$(js 'd["syslog"]["errors"]'); sw=$(js 'd["log"]["written"]')
say "  figures (syslog_tcp): collector received $got, sent $sent, errors $errs (of $sw lines)"
[ $((sent + errs)) -eq "$sw" ] && pass "syslog_tcp: sent $sent + errors $errs == lines written $sw" ||
  fail "syslog_tcp: $sent + $errs != $sw"
[ "$errs" -gt 0 ] && pass "syslog_tcp: the slow collector's backlog past the buffer is counted (errors $errs)" ||
  fail "syslog_tcp: no errors although the collector read slowly"
[ "$got" -eq "$sent" ] && pass "syslog_tcp: the collector received every message counted sent ($got)" ||
  fail "syslog_tcp: collector $got != sent $sent"

start_collector udp 10515
burst syslog_udp $C4X $DNS4 'syslog = "udp://127.0.0.1:10515"' "$T/burst.jsonl"
got=$(collected); sent=$(js 'd["syslog"]["sent"]'); errs=$(js 'd["syslog"]["errors"]'); sw=$(js 'd["log"]["written"]')
say "  figures (syslog_udp): collector received $got, sent $sent, errors $errs (of $sw lines);" \
    "datagrams the slow receiver's kernel dropped: $((sent - got)) (UDP: invisible to the sender)"
[ $((sent + errs)) -eq "$sw" ] && [ "$got" -le "$sent" ] &&
  pass "syslog_udp: sent $sent + errors $errs == lines written $sw; received $got <= sent" ||
  fail "syslog_udp: $sent + $errs != $sw or received $got > sent"

mkdir -p "$T/small"
burst full_disk $C6 $DNS6 "" "$T/small/decisions.jsonl" unshare -m --propagation private sh -c \
  'mount -t tmpfs -o size=1m fl14flood "$0" && exec "$@"' "$T/small"
sd=$(js 'd["log"]["dropped"]')
[ "$sd" -gt 0 ] && pass "full_disk: the lines the disk refused are counted dropped ($sd)" ||
  fail "full_disk: nothing dropped on a 1 MiB disk ($(js 'd["log"]'))"
finish
