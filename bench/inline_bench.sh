#!/usr/bin/env bash
# Inline benchmark (issue 13): what Vigie inline costs on a real forwarding path.
#
#   bench/inline_bench.sh [--vigie build/vigie] [--seconds 10] [--rounds 3] [--connections 1000]
#                         [--json FILE] [--perf FILE] [--smoke]
#
# Builds the client / gateway / server namespaces of tests/netns/lib.sh (names
# carry this run's id; everything is removed on exit), then in the same run:
#   1. iperf3 bulk TCP client -> server through the gateway, --rounds rounds
#      of: plain kernel forwarding; the rules Vigie generates (`vigie-iptables.sh
#      up --config`) with no Vigie bound (fail open: the queue is bypassed, so
#      this is conntrack and the rules alone); Vigie inline (`vigie run`
#      behind those rules); 4 streams, --seconds each, medians reported, with
#      vigie's CPU, packets and verdict messages; --perf FILE records vigie
#      (perf record -g) during the first round's Vigie run;
#   2. the TLS handshake latency: curl's time_appconnect over --connections
#      HTTPS connections to nginx in the server namespace, without Vigie
#      (plain forwarding), then with Vigie from the managed client (queued)
#      interleaved with as many from the unmanaged client (not queued, same
#      moments); median and p99 of each, and what Vigie adds.
# Prints a table; --json writes the figures. --smoke: 2 s, 20 connections
# (checks the script works; its figures mean nothing). Needs root, iperf3,
# nginx, curl. No timing is asserted: targets are in bench/README.md.
set -euo pipefail
SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
VIGIE=$SOURCE_DIR/build/vigie
SECONDS_RUN=10
CONNS=1000
ROUNDS=3
JSON=
PERF_OUT=
while [ $# -gt 0 ]; do
  case $1 in
    --vigie) VIGIE=$(realpath "$2"); shift 2 ;;
    --seconds) SECONDS_RUN=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --json) JSON=$2; shift 2 ;;
    --perf) PERF_OUT=$(realpath -m "$2"); shift 2 ;;
    --smoke) SECONDS_RUN=2; CONNS=20; ROUNDS=1; shift ;;
    *) echo "usage: $0 [--vigie PATH] [--seconds N] [--rounds N] [--connections N] [--json FILE] [--perf FILE] [--smoke]" >&2; exit 2 ;;
  esac
done
ID=bn$$
# shellcheck source=../tests/netns/lib.sh
. "$SOURCE_DIR/tests/netns/lib.sh"
set +u
require_env
command -v iperf3 >/dev/null || { echo "missing tool: iperf3 (run deploy/install-deps.sh)"; exit 1; }
[ -x "$VIGIE" ] || { echo "no vigie binary at $VIGIE (build first or pass --vigie)"; exit 1; }
make_topology
start_servers
METRICS_PORT=9108
write_config "$T/vigie.toml" open inline "
[metrics]
listen = \"127.0.0.1:$METRICS_PORT\""
ins iperf3 -s -B $WEB4 -p 5201 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5

iperf() {  # prints bits per second received
  inc iperf3 -c $WEB4 -p 5201 -B $C4 -t "$SECONDS_RUN" -P 4 -J > "$T/iperf.json"
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"])' "$T/iperf.json"
}

handshake() {  # handshake SRC: prints one time_appconnect in seconds ("fail" if the connection failed)
  inc curl -sS -o /dev/null -w '%{time_appconnect}\n' --max-time 4 --cacert "$T/ca.pem" \
    --interface "$1" --resolve "www.wikipedia.org:443:$WEB4" "https://www.wikipedia.org/" 2>/dev/null || echo fail
}
handshakes() {  # handshakes SRC: $CONNS of them, one per line
  local i
  for i in $(seq "$CONNS"); do handshake "$1"; done
}
# With Vigie running: $CONNS connections alternately from the managed client
# (queued through Vigie) and the unmanaged one (never queued: the same kernel
# path and rules, no Vigie), so both see the same moments of the machine's load.
handshakes_interleaved() {  # writes $T/hs_managed, $T/hs_unmanaged
  local i
  : > "$T/hs_managed"; : > "$T/hs_unmanaged"
  for i in $(seq "$CONNS"); do
    handshake $C4 >> "$T/hs_managed"
    handshake $C4U >> "$T/hs_unmanaged"
  done
}

stats() {  # median and p99 (ms) of the seconds on stdin; "fail" lines counted
  python3 -c '
import sys
v = [l.strip() for l in sys.stdin if l.strip()]
ok = sorted(float(x) * 1000 for x in v if x != "fail")
fails = len(v) - len(ok)
if not ok: print("nan nan", fails); sys.exit()
med = ok[len(ok) // 2]
p99 = ok[min(len(ok) - 1, int(len(ok) * 0.99))]
print(f"{med:.3f} {p99:.3f} {fails}")'
}

cpu_ticks() {  # utime + stime of vigie, in clock ticks
  awk '{print $14 + $15}' "/proc/$VIGIE_PID/stat"
}
summary_field() {  # summary_field EXPR: from the last vigie run's --summary-json
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/summary.json" "$1"
}
median() { python3 -c 'import sys; v=sorted(float(x) for x in sys.argv[1:]); print(v[len(v)//2])' "$@"; }

# Bulk TCP, ROUNDS rounds of: plain forwarding, the rules with no Vigie bound
# (fail open: --queue-bypass lets the packets through; what conntrack and the
# rules cost alone), Vigie inline; the order rotates from round to round (so a
# trend in the machine's load favours none). The medians are reported.
PLAIN=() BYPASS=() VIGIE_BPS=()
vigie_cpu=0 vigie_pkts=0 vigie_msgs=0 vigie_marked=0
leg_plain() { PLAIN+=("$(iperf)"); }
leg_rules() {
  rules up --config "$T/vigie.toml" >/dev/null
  BYPASS+=("$(iperf)")
  rules down >/dev/null || true
}
leg_vigie() {  # leg_vigie ROUND
  rules up --config "$T/vigie.toml" >/dev/null
  start_vigie "$T/vigie.toml"
  local c0 c1 perf_pid=
  c0=$(cpu_ticks)
  if [ -n "$PERF_OUT" ] && [ "$1" -eq 1 ]; then
    perf record -F 999 -g -p "$VIGIE_PID" -o "$PERF_OUT" -- sleep "$SECONDS_RUN" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  VIGIE_BPS+=("$(iperf)")
  [ -n "$perf_pid" ] && { wait "$perf_pid" || true; }
  c1=$(cpu_ticks)
  stop_vigie || true
  rules down >/dev/null || true
  vigie_cpu=$((vigie_cpu + c1 - c0))
  vigie_pkts=$((vigie_pkts + $(summary_field 'd["source"]["packets"]')))
  vigie_msgs=$((vigie_msgs + $(summary_field 'd["source"].get("verdict_messages", 0)')))
  vigie_marked=$((vigie_marked + $(summary_field 'd["source"]["marked_allow"]')))
}
LEGS=(plain rules vigie)
for r in $(seq "$ROUNDS"); do
  order=()
  for k in 0 1 2; do order+=("${LEGS[$(((r - 1 + k) % 3))]}"); done
  say "round $r/$ROUNDS: iperf3 ${SECONDS_RUN}s x 3 (${order[*]})"
  for leg in "${order[@]}"; do "leg_$leg" "$r"; done
done
plain_bps=$(median "${PLAIN[@]}")
bypass_bps=$(median "${BYPASS[@]}")
vigie_bps=$(median "${VIGIE_BPS[@]}")
# vigie's CPU during the bulk runs, in % of one core
vigie_cpu_pct=$(python3 -c "import os,sys; print(f'{100 * int(sys.argv[1]) / os.sysconf(\"SC_CLK_TCK\") / (int(sys.argv[2]) * int(sys.argv[3])):.1f}')" \
  "$vigie_cpu" "$SECONDS_RUN" "$ROUNDS")

say "plain forwarding: $CONNS handshakes"
read -r plain_med plain_p99 plain_fail < <(handshakes $C4 | stats)
rules up --config "$T/vigie.toml" >/dev/null
start_vigie "$T/vigie.toml"
say "vigie inline: $CONNS handshakes from a managed client, $CONNS from an unmanaged one, interleaved"
handshakes_interleaved
read -r vigie_med vigie_p99 vigie_fail < <(stats < "$T/hs_managed")
read -r unm_med unm_p99 unm_fail < <(stats < "$T/hs_unmanaged")
# Vigie's own part of what it adds: packet in to verdict (its histogram, all
# workers), median and p99 as histogram bucket bounds (us). Published about
# once a second.
sleep 1.5
ing curl -sS --max-time 2 "http://127.0.0.1:$METRICS_PORT/metrics" > "$T/metrics.txt" 2>/dev/null || : > "$T/metrics.txt"
read -r lat_p50 lat_p99 < <(python3 -c '
import re, sys
b = {}
for l in open(sys.argv[1]):
    m = re.match(r"vigie_packet_latency_seconds_bucket\{worker=\"[^\"]*\",le=\"([^\"]+)\"\} (\d+)", l)
    if m: b[m.group(1)] = b.get(m.group(1), 0) + int(m.group(2))
les = sorted((float("inf") if k == "+Inf" else float(k), v) for k, v in b.items())
n = les[-1][1] if les else 0
def q(f):
    for le, c in les:
        if n and c >= f * n: return f"{le * 1e6:.0f}"
    return "nan"
print(q(0.5), q(0.99))' "$T/metrics.txt")
stop_vigie || true
rules down >/dev/null || true
hs_pkts=$(summary_field 'd["source"]["packets"]')
hs_msgs=$(summary_field 'd["source"].get("verdict_messages", 0)')

python3 - "$plain_bps" "$vigie_bps" "$plain_med" "$plain_p99" "$vigie_med" "$vigie_p99" "$plain_fail" "$vigie_fail" \
  "$CONNS" "$SECONDS_RUN" "${JSON:-}" "$bypass_bps" "$ROUNDS" "${PLAIN[*]}" "${BYPASS[*]}" "${VIGIE_BPS[*]}" \
  "$vigie_cpu_pct" "$vigie_pkts" "$vigie_msgs" "$vigie_marked" "$hs_pkts" "$hs_msgs" "$(uptime)" "$(date -u +%FT%TZ)" "$unm_med" "$unm_p99" "$unm_fail" "$lat_p50" "$lat_p99" <<'PY'
import json, sys
a = sys.argv
pb, vb, pm, pp, vm, vp = map(float, a[1:7])
pf, vf, conns, secs, out = int(a[7]), int(a[8]), int(a[9]), int(a[10]), a[11]
bb, rounds = float(a[12]), int(a[13])
runs = {k: [float(x) / 1e9 for x in v.split()] for k, v in (("plain", a[14]), ("rules_only", a[15]), ("vigie", a[16]))}
cpu, pk, msgs, marked, hs_pk, hs_msgs, load, date = float(a[17]), int(a[18]), int(a[19]), int(a[20]), int(a[21]), int(a[22]), a[23], a[24]
um, up, uf = float(a[25]), float(a[26]), int(a[27])
lat50, lat99 = float(a[28]), float(a[29])
r = {"date": date, "uptime": load.strip(), "seconds": secs, "rounds": rounds, "connections": conns,
     "bulk_tcp_gbps": {"plain": pb / 1e9, "rules_only": bb / 1e9, "vigie": vb / 1e9,
                       "ratio": vb / pb if pb else 0, "ratio_rules_only": bb / pb if pb else 0, "runs": runs,
                       "vigie_cpu_percent": cpu, "vigie_packets": pk, "vigie_verdict_messages": msgs,
                       "vigie_marked_allow": marked},
     "handshake_ms": {"plain": {"median": pm, "p99": pp, "failed": pf},
                      "vigie": {"median": vm, "p99": vp, "failed": vf, "packets": hs_pk, "verdict_messages": hs_msgs},
                      "unmanaged_same_time": {"median": um, "p99": up, "failed": uf},
                      "added_median": vm - pm, "added_p99": vp - pp,
                      "added_median_vs_unmanaged": vm - um, "added_p99_vs_unmanaged": vp - up,
                      "vigie_packet_latency_us": {"p50_bucket": lat50, "p99_bucket": lat99}}}
print(f"{date}  load: {load.strip()}")
print(f"{'':24}{'plain':>12}{'rules only':>12}{'vigie':>12}{'vigie/plain or added':>24}")
print(f"{'bulk TCP (Gbit/s)':24}{pb/1e9:12.3f}{bb/1e9:12.3f}{vb/1e9:12.3f}{r['bulk_tcp_gbps']['ratio']*100:22.1f} %")
print(f"{'handshake median (ms)':24}{pm:12.3f}{'':12}{vm:12.3f}{vm-pm:+22.3f} ms")
print(f"{'handshake p99 (ms)':24}{pp:12.3f}{'':12}{vp:12.3f}{vp-pp:+22.3f} ms")
print(f"{'failed connections':24}{pf:12d}{'':12}{vf:12d}")
print(f"same moments, vigie running: unmanaged client (not queued) median {um:.3f} ms, p99 {up:.3f} ms, "
      f"{uf} failed; managed (through vigie) adds {vm-um:+.3f} ms median, {vp-up:+.3f} ms p99")
print(f"bulk runs (Gbit/s): " + "; ".join(f"{k} " + " ".join(f"{x:.2f}" for x in v) for k, v in runs.items()))
print(f"vigie during bulk: {cpu:.1f}% of a core, {pk} packets, {msgs} verdict messages, {marked} connections marked allowed")
print(f"vigie during handshakes: {hs_pk} packets, {hs_msgs} verdict messages, packet in to verdict "
      f"p50 <= {lat50:.0f} us, p99 <= {lat99:.0f} us (histogram buckets)")
if out:
    with open(out, "w") as f:
        json.dump(r, f, indent=1)
        f.write("\n")
PY
[ "$plain_fail" -eq 0 ] && [ "$vigie_fail" -eq 0 ] && [ "$unm_fail" -eq 0 ] || { echo "some connections failed"; exit 1; }
