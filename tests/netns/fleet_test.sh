#!/usr/bin/env bash
# A fleet: two gateways (gw-a, gw-b), each running `vigie run` (monitor mode,
# enforce = "log") with [log] syslog = "tcp://127.0.0.1:10514" and a local
# rsyslogd loaded with deploy/fleet/gateway-forward.conf (disk-assisted
# queue); one collector running rsyslogd with deploy/fleet/collector.conf.
# Every decision of both gateways must reach the collector, in its gateway's
# directory, across a collector outage (stopped, restarted). gw-b runs the
# shipped file as is (the outage fits in the queue's memory part): exactly
# once. gw-a's copy has a 10-message memory part, so the outage spills its
# queue to disk (the test sees the queue files while the collector is away):
# none lost, duplicates only as identical copies (rsyslog's disk part is
# at-least-once), exactly once after deduplication by (flow_id, timestamp).
# Then each gateway's local rsyslogd (Vigie's own TCP peer) restarts: Vigie
# must notice the closed connection before its next send, reconnect and lose
# nothing (its summary: syslog sent = every decision, errors 0).
#
#   client-a ns  ca0 === lan0  gw-a ns  up0 === gwa0
#   10.20.1.10               10.20.1.1  10.66.1.1   10.66.1.2    collector ns
#   client-b ns  cb0 === lan0  gw-b ns  up0 === gwb0             (rsyslogd :514)
#   10.20.2.10               10.20.2.1  10.66.2.1   10.66.2.2
#
# Each decision names a unique domain (q<phase>-<i>.<gateway>.tiktok.com), so
# "exactly once" is a count per name. rsyslogd runs from temporary config
# files and work directories; the host's rsyslog is never touched.
#   fleet_test.sh VIGIE SOURCE_DIR
VIGIE=$1
SOURCE_DIR=$2
source "$(dirname "$0")/lib.sh"

GWS=(a b)
NS_COL=vgk$ID
declare -A NS_GW NS_CL VPID RPID
for g in "${GWS[@]}"; do NS_GW[$g]=vgg$g$ID; NS_CL[$g]=vgc$g$ID; done
COL_PID=
COLLECTOR_PORT=514    # in the collector's own namespace: cannot clash
LOCAL_PORT=10514      # gateway-forward.conf's loopback input
# Decisions per gateway: before the outage, during it (more than gw-a's
# memory part, DISK_AFTER, so its queue must go to disk).
N1=20
N2=30
N3=15   # after the local rsyslogd (Vigie's TCP peer) restarted
DISK_AFTER=10
# rsyslog retries the collector every 5 s (action.resumeInterval in
# gateway-forward.conf); give it several periods.
DELIVERY_WAIT_S=45

fleet_cleanup() {
  set +e
  for g in "${GWS[@]}"; do
    [ -n "${VPID[$g]:-}" ] && kill -9 "${VPID[$g]}" 2>/dev/null
    [ -n "${RPID[$g]:-}" ] && kill -9 "${RPID[$g]}" 2>/dev/null
  done
  [ -n "$COL_PID" ] && kill -9 "$COL_PID" 2>/dev/null
  for ns in "$NS_COL" "${NS_GW[@]}" "${NS_CL[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  cleanup
}
trap fleet_cleanup EXIT

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, live capture)"
for t in ip rsyslogd unshare python3; do
  command -v "$t" >/dev/null || { echo "missing tool: $t (run deploy/install-deps.sh)"; exit 1; }
done
ip netns add "$NS_COL" 2>/dev/null || skip "kernel lacks network namespaces (ip netns add failed)"

# ---- topology ------------------------------------------------------------------------
ip -n "$NS_COL" link set lo up
n=0
for g in "${GWS[@]}"; do
  n=$((n + 1))
  ip netns add "${NS_GW[$g]}"; ip netns add "${NS_CL[$g]}"
  ip link add c${g}0 netns "${NS_CL[$g]}" type veth peer name lan0 netns "${NS_GW[$g]}" || skip "kernel lacks veth"
  ip link add up0 netns "${NS_GW[$g]}" type veth peer name gw${g}0 netns "$NS_COL"
  for ns in "${NS_GW[$g]}" "${NS_CL[$g]}"; do ip -n "$ns" link set lo up; done
  ip -n "${NS_CL[$g]}" link set c${g}0 up
  ip -n "${NS_GW[$g]}" link set lan0 up; ip -n "${NS_GW[$g]}" link set up0 up
  ip -n "$NS_COL" link set gw${g}0 up
  ip -n "${NS_CL[$g]}" addr add 10.20.$n.10/24 dev c${g}0
  ip -n "${NS_GW[$g]}" addr add 10.20.$n.1/24 dev lan0
  ip -n "${NS_GW[$g]}" addr add 10.66.$n.1/24 dev up0
  ip -n "$NS_COL" addr add 10.66.$n.2/24 dev gw${g}0
done

# ---- collector -----------------------------------------------------------------------
# The shipped files, with only the addresses and directories of this test.
mkdir -p "$T/col/work" "$T/fleet"
sed -e "s|/var/log/vigie-fleet|$T/fleet|g" -e "s|port=\"514\"|port=\"$COLLECTOR_PORT\"|" \
  "$SOURCE_DIR/deploy/fleet/collector.conf" > "$T/col/collector.conf"
cat > "$T/col/rsyslog.conf" <<EOF
global(workDirectory="$T/col/work")
include(file="$T/col/collector.conf")
EOF
start_collector() {
  : > "$T/col/rsyslogd.err"
  ip netns exec "$NS_COL" rsyslogd -n -f "$T/col/rsyslog.conf" -i "$T/col/rsyslogd.pid" 2>>"$T/col/rsyslogd.err" &
  COL_PID=$!
  wait_listen "$NS_COL" 127.0.0.1 $COLLECTOR_PORT || { echo "collector did not start:"; cat "$T/col/rsyslogd.err"; exit 1; }
}
stop_collector() { kill -TERM "$COL_PID"; wait "$COL_PID" 2>/dev/null; COL_PID=; }
# wait_listen NS ADDR PORT: until something accepts TCP there (5 s)
wait_listen() {
  local i
  for i in $(seq 100); do
    ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# ---- gateways: local rsyslog + vigie ---------------------------------------------------
n=0
for g in "${GWS[@]}"; do
  n=$((n + 1))
  d=$T/gw-$g
  mkdir -p "$d/work"
  sed -e "s|collector.example.org|10.66.$n.2|" -e "s|port=\"514\"|port=\"$COLLECTOR_PORT\"|" \
    "$SOURCE_DIR/deploy/fleet/gateway-forward.conf" > "$d/forward.conf"
  if [ $g = a ]; then
    sed -i -e "s|queue.highWatermark=\"[0-9]*\"|queue.highWatermark=\"$DISK_AFTER\"|" \
      -e "s|queue.lowWatermark=\"[0-9]*\"|queue.lowWatermark=\"$((DISK_AFTER / 2))\"|" "$d/forward.conf"
  fi
  grep -q "target=\"10.66.$n.2\"" "$d/forward.conf" || { echo "gateway-forward.conf: no target= line to point at the test collector"; exit 1; }
  printf 'global(workDirectory="%s/work")\ninclude(file="%s/forward.conf")\n' "$d" "$d" > "$d/rsyslog.conf"
  # Only tiktok is policed here (every list of the lists dir must be in a [[policy]]).
  mkdir -p "$d/lists" && cp "$SOURCE_DIR/lists/apps/tiktok.list" "$d/lists/"
  cat > "$d/vigie.toml" <<TOML
[gateway]
mode = "monitor"
interfaces = ["lan0"]
enforce = "log"

[scope]
managed = ["10.20.$n.10/32"]

[lists]
dir = "$d/lists"

[[policy]]
apps = ["tiktok"]
action = "block"

[log]
path = "$d/decisions.jsonl"
mode = "decisions"
syslog = "tcp://127.0.0.1:$LOCAL_PORT"
TOML
done
start_relay() {  # start_relay GW: the gateway's local rsyslogd
  local g=$1 d=$T/gw-$1
  ip netns exec "${NS_GW[$g]}" rsyslogd -n -f "$d/rsyslog.conf" -i "$d/rsyslogd.pid" 2>>"$d/rsyslogd.err" &
  RPID[$g]=$!
  wait_listen "${NS_GW[$g]}" 127.0.0.1 $LOCAL_PORT || { echo "gw-$g rsyslogd did not start:"; cat "$d/rsyslogd.err"; exit 1; }
}
stop_relay() { kill -TERM "${RPID[$1]}"; wait "${RPID[$1]}" 2>/dev/null; RPID[$1]=; }
start_gw_vigie() {  # its own UTS namespace: the RFC 5424 HOSTNAME is gw-<g>
  local g=$1 d=$T/gw-$1
  ip netns exec "${NS_GW[$g]}" unshare --uts bash -c \
    "hostname gw-$g && exec \"\$0\" run --config \"\$1\" --summary-json \"\$2\"" \
    "$VIGIE" "$d/vigie.toml" "$d/summary.json" 2>>"$d/vigie.err" &
  VPID[$g]=$!
  local i
  for i in $(seq 100); do
    grep -q "ready" "$d/vigie.err" 2>/dev/null && return 0
    kill -0 "${VPID[$g]}" 2>/dev/null || break
    sleep 0.05
  done
  echo "vigie gw-$g did not start:"; cat "$d/vigie.err"; exit 1
}

# send GW PHASE COUNT: COUNT DNS queries from the gateway's client, each for a
# unique name and from a fresh socket (a new flow).
send() {
  local g=$1 phase=$2 count=$3 n
  [ "$g" = a ] && n=1 || n=2
  ip netns exec "${NS_CL[$g]}" python3 - "10.20.$n.1" "$g" "$phase" "$count" <<'PY'
import socket, struct, sys, time
dst, gw, phase, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
for i in range(1, count + 1):
    name = f"q{phase}-{i}.gw-{gw}.tiktok.com"
    q = struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0)  # id, RD, one question
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    q += struct.pack("!HH", 1, 1)  # A, IN
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(q, (dst, 53))  # nothing listens: the gateway only watches
    s.close()
    time.sleep(0.005)  # a client's pace, not a flood the capture could drop
PY
}
# log_count GW: decision lines in the gateway's own log
log_count() { wc -l < "$T/gw-$1/decisions.jsonl" 2>/dev/null || echo 0; }
# col_count GW: lines the collector wrote for that gateway
col_count() { cat "$T/fleet/gw-$1/decisions.log" 2>/dev/null | wc -l; }
wait_for() {  # wait_for SECONDS command...: until the command succeeds
  local s=$1 i; shift
  for i in $(seq $((s * 10))); do "$@" && return 0; sleep 0.1; done
  return 1
}
logs_reach() { [ "$(log_count a)" -ge "$1" ] && [ "$(log_count b)" -ge "$1" ]; }
col_reach() { [ "$(col_count a)" -ge "$1" ] && [ "$(col_count b)" -ge "$1" ]; }

start_collector
for g in "${GWS[@]}"; do start_relay $g; start_gw_vigie $g; done
say "fleet up: gateways ${NS_GW[*]}, collector $NS_COL (work dir $T)"

# ---- phase 1: collector up -------------------------------------------------------------
for g in "${GWS[@]}"; do send $g 1 $N1; done
wait_for 10 logs_reach $N1 && pass "phase 1: each gateway logged its $N1 decisions" ||
  fail "phase 1 gateway logs: gw-a $(log_count a), gw-b $(log_count b) of $N1"
wait_for $DELIVERY_WAIT_S col_reach $N1 &&
  pass "phase 1: collector wrote $N1 decisions under gw-a/ and $N1 under gw-b/" ||
  fail "phase 1 collector: gw-a $(col_count a), gw-b $(col_count b) of $N1 ($(ls "$T/fleet" 2>&1))"

# ---- phase 2: collector down -----------------------------------------------------------
stop_collector
for g in "${GWS[@]}"; do send $g 2 $N2; done
wait_for 10 logs_reach $((N1 + N2)) && pass "phase 2 (collector down): each gateway logged $N2 more" ||
  fail "phase 2 gateway logs: gw-a $(log_count a), gw-b $(log_count b)"
sleep 1  # the writers' next tick has sent them to the local rsyslog

# gw-a's queue went past its memory part: the rest is on disk.
qf=$(ls "$T/gw-a/work" 2>/dev/null | grep -c '^vigie-fwd\.0')
[ "${qf:-0}" -ge 1 ] && pass "gw-a: the outage spilled its queue to disk ($(ls "$T/gw-a/work" | tr '\n' ' '))" ||
  fail "gw-a: no disk queue file in its work directory: $(ls -la "$T/gw-a/work")"
TOTAL=$((N1 + N2))
sleep 2
[ "$(col_count a)" = $N1 ] && [ "$(col_count b)" = $N1 ] &&
  pass "nothing reached the collector while it was down" || fail "collector grew while down: $(col_count a) $(col_count b)"

# ---- collector back ----------------------------------------------------------------------
start_collector
wait_for $DELIVERY_WAIT_S col_reach $TOTAL ||
  fail "collector back: gw-a $(col_count a), gw-b $(col_count b) of $TOTAL before the relays restart"

# ---- phase 3: Vigie's own TCP peer restarts ----------------------------------------------
# The relays close Vigie's connections; the first event after that must not
# go into the dead socket (it used to be counted as sent and lost).
for g in "${GWS[@]}"; do stop_relay $g; start_relay $g; done
for g in "${GWS[@]}"; do send $g 3 $N3; done
TOTAL=$((N1 + N2 + N3))
wait_for 10 logs_reach $TOTAL && pass "phase 3 (local rsyslogd restarted): each gateway logged $N3 more" ||
  fail "phase 3 gateway logs: gw-a $(log_count a), gw-b $(log_count b) of $TOTAL"
wait_for $DELIVERY_WAIT_S col_reach $TOTAL
sleep 2  # anything more (a duplicate) would arrive now
for g in "${GWS[@]}"; do
  # gw-b (the shipped file): exactly once. gw-a (spilled to disk): rsyslog's
  # disk-assisted queue is at-least-once: when the action resumes it may
  # resend the batch it held (rsyslog PR 2767: "we prefer duplication over
  # loss") and it does not keep the order; nothing may be lost and a
  # duplicate must be an identical copy, so the consumer's key (hostname,
  # flow_id, timestamp) removes it (deploy/README.md "Fleet").
  [ $g = b ] && strict=1 || strict=0
  checks=0
  while read -r line; do
    echo "$line"
    case $line in PASS*) PASS=$((PASS + 1)); checks=$((checks + 1)) ;; FAIL*) FAIL=$((FAIL + 1)); checks=$((checks + 1)) ;; esac
  done < <(python3 - "$T/fleet/gw-$g/decisions.log" "$T/gw-$g/decisions.jsonl" "$g" "$N1" "$N2" "$N3" "$strict" <<'PY'
import collections, json, sys
col_path, gw_path, gw = sys.argv[1], sys.argv[2], sys.argv[3]
n1, n2, n3, strict = map(int, sys.argv[4:])
def out(ok, msg): print(("PASS " if ok else "FAIL ") + f"gw-{gw}: " + msg)
try:
    raw = open(col_path, encoding="utf-8").read().splitlines()
    col = [json.loads(l) for l in raw]
except (OSError, ValueError) as e:
    out(False, f"collector file {col_path}: {e}"); sys.exit()
local = [json.loads(l) for l in open(gw_path, encoding="utf-8")]
want = {f"q{p}-{i}.gw-{gw}.tiktok.com" for p, n in ((1, n1), (2, n2), (3, n3)) for i in range(1, n + 1)}
got = collections.Counter(e.get("domain") for e in col)
missing = sorted(want - set(got))
dup = sorted(d for d, c in got.items() if c > 1)
alien = sorted(set(got) - want)
detail = (f"{len(col)} lines; missing {len(missing)} {missing[:3]}, duplicated {len(dup)} {dup[:3]}, "
          f"foreign {alien[:3]}")
if strict:
    out(not missing and not dup and not alien,
        f"collector has each of the {len(want)} decisions exactly once ({detail})")
else:
    lines_by_domain = collections.defaultdict(set)
    for l, e in zip(raw, col): lines_by_domain[e.get("domain")].add(l)
    copies = all(len(lines_by_domain[d]) == 1 for d in dup)
    out(not missing and not alien and copies,
        f"collector has each of the {len(want)} decisions, none lost; duplicates are identical copies ({detail})")
key = lambda e: (e.get("flow_id"), e.get("timestamp"), e.get("domain"))
out(sorted(set(map(key, col))) == sorted(map(key, local)) and len(set(map(key, local))) == len(local),
    "deduplicated by (flow_id, timestamp), the collector's lines are exactly the gateway's own events")
out(all(e.get("action") == "block" and e.get("app") == "tiktok" for e in col),
    "every forwarded event is the JSON line unchanged: action block, app tiktok")
PY
)
  [ $checks -ge 2 ] || fail "gw-$g: the collector check printed $checks results (python failed?)"
done

# ---- the gateways' own accounting ------------------------------------------------------------
for g in "${GWS[@]}"; do
  kill -TERM "${VPID[$g]}"; wait "${VPID[$g]}"; rc=$?; VPID[$g]=
  sl=$(grep "syslog  *sent" "$T/gw-$g/vigie.err" | tr -s ' ' | sed 's/^ //')
  [ $rc = 0 ] && [ "$sl" = "syslog sent $TOTAL, errors 0" ] && pass "gw-$g vigie summary: '$sl'" ||
    fail "gw-$g vigie: exit $rc, '$sl'"
done
stop_collector
for g in "${GWS[@]}"; do stop_relay $g; done

finish
