#!/usr/bin/env bash
# Inline benchmark (issue 13): what Vigie inline costs on a real forwarding path.
#
#   bench/inline_bench.sh [--vigie build/vigie] [--seconds 10] [--connections 1000] [--json FILE] [--smoke]
#
# Builds the client / gateway / server namespaces of tests/netns/lib.sh (names
# carry this run's id; everything is removed on exit), then in the same run:
#   1. iperf3 bulk TCP client -> server through the gateway, plain kernel
#      forwarding, then with Vigie inline (`vigie rules up --config`: the rules
#      it generates, and `vigie run`), 4 streams, --seconds each;
#   2. the TLS handshake latency: curl's time_appconnect over --connections
#      HTTPS connections to nginx in the server namespace, without and with
#      Vigie; median and p99 of each, and what Vigie adds.
# Prints a table; --json writes the figures. --smoke: 2 s, 20 connections
# (checks the script works; its figures mean nothing). Needs root, iperf3,
# nginx, curl. No timing is asserted: targets are in bench/README.md.
set -euo pipefail
SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
VIGIE=$SOURCE_DIR/build/vigie
SECONDS_RUN=10
CONNS=1000
JSON=
while [ $# -gt 0 ]; do
  case $1 in
    --vigie) VIGIE=$(realpath "$2"); shift 2 ;;
    --seconds) SECONDS_RUN=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --json) JSON=$2; shift 2 ;;
    --smoke) SECONDS_RUN=2; CONNS=20; shift ;;
    *) echo "usage: $0 [--vigie PATH] [--seconds N] [--connections N] [--json FILE] [--smoke]" >&2; exit 2 ;;
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
write_config "$T/vigie.toml" open
ins iperf3 -s -B $WEB4 -p 5201 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5

iperf() {  # prints bits per second received
  inc iperf3 -c $WEB4 -p 5201 -B $C4 -t "$SECONDS_RUN" -P 4 -J > "$T/iperf.json"
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"])' "$T/iperf.json"
}

handshakes() {  # prints the time_appconnect of $CONNS connections, one per line, in seconds
  local i
  for i in $(seq "$CONNS"); do
    inc curl -sS -o /dev/null -w '%{time_appconnect}\n' --max-time 4 --cacert "$T/ca.pem" \
      --interface $C4 --resolve "www.wikipedia.org:443:$WEB4" "https://www.wikipedia.org/" || echo fail
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

say "plain forwarding: iperf3 ${SECONDS_RUN}s, $CONNS handshakes"
plain_bps=$(iperf)
read -r plain_med plain_p99 plain_fail < <(handshakes | stats)

rules up --config "$T/vigie.toml" >/dev/null
start_vigie "$T/vigie.toml"
say "vigie inline: iperf3 ${SECONDS_RUN}s, $CONNS handshakes"
vigie_bps=$(iperf)
read -r vigie_med vigie_p99 vigie_fail < <(handshakes | stats)
stop_vigie || true
rules down >/dev/null || true

python3 - "$plain_bps" "$vigie_bps" "$plain_med" "$plain_p99" "$vigie_med" "$vigie_p99" "$plain_fail" "$vigie_fail" \
  "$CONNS" "$SECONDS_RUN" "${JSON:-}" <<'PY'
import json, sys
pb, vb, pm, pp, vm, vp = map(float, sys.argv[1:7])
pf, vf, conns, secs, out = int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9]), int(sys.argv[10]), sys.argv[11]
r = {"seconds": secs, "connections": conns,
     "bulk_tcp_gbps": {"plain": pb / 1e9, "vigie": vb / 1e9, "ratio": vb / pb if pb else 0},
     "handshake_ms": {"plain": {"median": pm, "p99": pp, "failed": pf},
                      "vigie": {"median": vm, "p99": vp, "failed": vf},
                      "added_median": vm - pm, "added_p99": vp - pp}}
print(f"{'':24}{'plain':>12}{'vigie':>12}{'vigie/plain or added':>24}")
print(f"{'bulk TCP (Gbit/s)':24}{pb/1e9:12.3f}{vb/1e9:12.3f}{r['bulk_tcp_gbps']['ratio']*100:22.1f} %")
print(f"{'handshake median (ms)':24}{pm:12.3f}{vm:12.3f}{vm-pm:+22.3f} ms")
print(f"{'handshake p99 (ms)':24}{pp:12.3f}{vp:12.3f}{vp-pp:+22.3f} ms")
print(f"{'failed connections':24}{pf:12d}{vf:12d}")
if out:
    with open(out, "w") as f:
        json.dump(r, f, indent=1)
        f.write("\n")
PY
[ "$plain_fail" -eq 0 ] && [ "$vigie_fail" -eq 0 ] || { echo "some connections failed"; exit 1; }
