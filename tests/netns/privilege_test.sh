#!/usr/bin/env bash
# Issue 12, the operator's side of `vigie run`:
#  - logs: mv the decision log + SIGHUP (and `vigie logs reopen`): new events in
#    a new file at the path, none lost (lines == log.written, written + dropped
#    == decisions); a closed stdout pipe does not kill Vigie (SIGPIPE ignored),
#    its lost lines count as dropped;
#  - least privilege: started as root with [gateway] user = a test user, it ends
#    with that uid/gid, CapEff = CAP_NET_ADMIN|CAP_NET_RAW, no_new_privs, still
#    blocks, reloads as the user; a world-writable list is refused with its path.
#   privilege_test.sh VIGIE SOURCE_DIR
VIGIE=$1
SOURCE_DIR=$2
source "$(dirname "$0")/lib.sh"

require_env
command -v useradd >/dev/null && command -v userdel >/dev/null || skip "needs useradd/userdel (passwd)"
command -v python3 >/dev/null || { echo "missing tool: python3"; exit 1; }
make_topology
start_servers
say "topology up: client $NS_C, gateway $NS_G, server $NS_S (work dir $T)"
write_config "$T/rules.toml" open
rules up --config "$T/rules.toml"   # the rules generated from the config

# summary FIELD...: values from $T/summary.json (log.written, counters.decisions, ...)
summary() {
  python3 - "$1" "${@:2}" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
out = []
for k in sys.argv[2:]:
    v = j
    for part in k.split("."):
        v = v.get(part, 0) if isinstance(v, dict) else 0
    out.append(str(v))
print(" ".join(out))
PY
}
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
wait_lines() {  # wait_lines FILE N
  local i
  for i in $(seq 100); do [ "$(lines "$1")" -ge "$2" ] && return 0; sleep 0.05; done
  return 1
}
block3() {  # three blocked DNS queries; each must be NXDOMAIN
  local i o ok=0
  for i in 1 2 3; do
    o=$(dig_c $C4 $DNS4 www.tiktok.com A)
    [[ $o == *"status: NXDOMAIN"* ]] && ok=$((ok + 1))
  done
  [ $ok -eq 3 ]
}

# ---- logs: mv + SIGHUP, then mv + `vigie logs reopen` ------------------------------------
LOG_MODE=all write_config "$T/rot.toml" open
L=$T/decisions.jsonl
rm -f "$L"
start_vigie "$T/rot.toml" --pid-file "$T/vigie.pid" || exit 1
check "pid file holds vigie's pid" test "$(cat "$T/vigie.pid" 2>/dev/null)" = "$VIGIE_PID"
block3 && pass "before rotation: 3 x dig www.tiktok.com NXDOMAIN" || fail "before rotation: not blocked"
wait_lines "$L" 3
mv "$L" "$L.1"
n1_at_mv=$(lines "$L.1")
kill -HUP "$VIGIE_PID"
for i in $(seq 100); do grep -q "policy reloaded" "$T/vigie.err" && break; sleep 0.05; done
block3 && pass "after mv + SIGHUP: still blocking" || fail "after SIGHUP: not blocked"
wait_lines "$L" 3 && pass "after mv + SIGHUP: new events in a new file at $L ($(lines "$L") lines)" ||
  fail "no new file at $L after SIGHUP: $(ls "$T")"
mv "$L" "$L.2"
out=$("$VIGIE" logs reopen --pid-file "$T/vigie.pid" 2>&1); rc=$?
[ $rc -eq 0 ] && pass "vigie logs reopen --pid-file: exit 0" || fail "logs reopen: exit $rc '$out'"
for i in $(seq 100); do grep -q "reopening the decision log" "$T/vigie.err" && break; sleep 0.05; done
block3 && pass "after mv + vigie logs reopen: still blocking" || fail "after logs reopen: not blocked"
wait_lines "$L" 3 && pass "after vigie logs reopen: new events in a new file at $L" || fail "no new file after logs reopen"
stop_vigie; rc=$?
read -r written dropped decisions <<<"$(summary "$T/summary.json" log.written log.dropped counters.decisions)"
n1=$(lines "$L.1"); n2=$(lines "$L.2"); n3=$(lines "$L")
say "rotation: files $n1 (at mv: $n1_at_mv) + $n2 + $n3 lines; summary written $written dropped $dropped decisions $decisions"
[ $rc -eq 0 ] && [ "$n1" -ge 3 ] && [ "$n2" -ge 3 ] && [ "$n3" -ge 3 ] &&
  [ $((n1 + n2 + n3)) -eq "$written" ] && [ $((written + dropped)) -eq "$decisions" ] && [ "$decisions" -ge 9 ] &&
  pass "none lost: $n1 + $n2 + $n3 lines == written $written; written + dropped ($dropped) == decisions $decisions" ||
  fail "rotation lost events: exit $rc, $n1 + $n2 + $n3 lines, written $written, dropped $dropped, decisions $decisions"
# The two reopens happened in the writer thread; one line per file must be whole JSON.
check "every rotated line is one JSON object" python3 -c '
import json, sys
for f in sys.argv[1:]:
    for l in open(f):
        json.loads(l)
' "$L.1" "$L.2" "$L"

# ---- a closed standard output pipe ----------------------------------------------------------
rm -f "$T/pipe.pid" "$T/pipe.err" "$T/pipe.json"
( ip netns exec "$NS_G" "$VIGIE" run --config "$T/rot.toml" --log - --summary-json "$T/pipe.json" \
    --pid-file "$T/pipe.pid" 2>"$T/pipe.err" | head -n 1 > "$T/pipe.head"
  echo "${PIPESTATUS[0]}" > "$T/pipe.rc" ) &
PIPE_SUB=$!
for i in $(seq 100); do grep -q ready "$T/pipe.err" 2>/dev/null && break; sleep 0.05; done
VIGIE_PID=$(cat "$T/pipe.pid" 2>/dev/null)
block3  # the first line reaches head, which exits: the next writes fail with EPIPE
for i in $(seq 100); do [ -s "$T/pipe.head" ] && break; sleep 0.05; done
sleep 0.3
block3 && pass "stdout pipe closed by its reader: vigie still blocks" || fail "closed pipe: not blocked"
kill -0 "$VIGIE_PID" 2>/dev/null && pass "closed pipe: vigie is alive (SIGPIPE ignored)" || fail "closed pipe killed vigie"
kill -TERM "$VIGIE_PID" 2>/dev/null
wait "$PIPE_SUB"
VIGIE_PID=
read -r written dropped decisions <<<"$(summary "$T/pipe.json" log.written log.dropped counters.decisions)"
[ "$(cat "$T/pipe.rc")" = 0 ] && [ "$dropped" -ge 3 ] && [ $((written + dropped)) -eq "$decisions" ] &&
  pass "closed pipe: exit 0, written $written + dropped $dropped == decisions $decisions" ||
  fail "closed pipe: exit $(cat "$T/pipe.rc"), written $written dropped $dropped decisions $decisions"

# ---- least privilege --------------------------------------------------------------------------
U=vigie-test
CREATED_USER=
if ! id "$U" >/dev/null 2>&1; then
  useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$U" || { fail "useradd $U"; finish; exit; }
  CREATED_USER=1
fi
trap 'cleanup; [ -n "$CREATED_USER" ] && userdel "$U" 2>/dev/null' EXIT
uid=$(id -u "$U"); gid=$(id -g "$U")
chmod 711 "$T"  # the user reads its config and lists on reload, as in /etc/vigie
mkdir -p "$T/priv"
cp -r "$SOURCE_DIR/lists/apps" "$T/plists"
chmod -R go-w "$T/plists"
GW_USER=$U LISTS_DIR=$T/plists write_config "$T/priv/vigie.toml" open
: > "$T/summary.json"; chown "$U" "$T/summary.json"  # written at exit, as the user
start_vigie "$T/priv/vigie.toml" || exit 1
st=$(cat "/proc/$VIGIE_PID/status")
say "$(echo "$st" | grep -E '^(Uid|Gid|Groups|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)')"
read -r _ ru eu su fu <<<"$(echo "$st" | grep '^Uid:')"
read -r _ rg eg sg fg <<<"$(echo "$st" | grep '^Gid:')"
[ "$ru $eu $su $fu" = "$uid $uid $uid $uid" ] && [ "$rg $eg $sg $fg" = "$gid $gid $gid $gid" ] &&
  pass "/proc/PID/status: Uid and Gid all $U ($uid/$gid)" || fail "uid/gid: Uid $ru $eu $su $fu Gid $rg $eg $sg $fg, want $uid/$gid"
capname() {  # names of the bits of a hex mask
  local m=$((16#$1)) b out=""
  for b in $(seq 0 63); do
    if (( (m >> b) & 1 )); then
      case $b in 12) out="$out CAP_NET_ADMIN";; 13) out="$out CAP_NET_RAW";; *) out="$out cap$b";; esac
    fi
  done
  echo "${out# }"
}
eff=$(echo "$st" | awk '/^CapEff:/ {print $2}')
prm=$(echo "$st" | awk '/^CapPrm:/ {print $2}')
amb=$(echo "$st" | awk '/^CapAmb:/ {print $2}')
[ "$(capname "$eff")" = "CAP_NET_ADMIN CAP_NET_RAW" ] && [ "$(capname "$prm")" = "CAP_NET_ADMIN CAP_NET_RAW" ] &&
  [ "$(capname "${amb:-0}")" = "" ] &&
  pass "CapEff $eff = CapPrm = CAP_NET_ADMIN CAP_NET_RAW, no ambient" ||
  fail "caps: CapEff $eff ($(capname "$eff")) CapPrm $prm ($(capname "$prm")) CapAmb $amb"
check "NoNewPrivs: 1" grep -q "^NoNewPrivs:[[:space:]]*1" "/proc/$VIGIE_PID/status"
grep -q "dropped to user $U" "$T/vigie.err" && pass "stderr: '$(grep -o "dropped to user.*" "$T/vigie.err")'" ||
  fail "no drop message: $(cat "$T/vigie.err")"
o=$(dig_c $C4 $DNS4 www.tiktok.com A)
[[ $o == *"status: NXDOMAIN"* && $o == *"EDE: 15"* ]] && pass "as $U: dig www.tiktok.com NXDOMAIN with EDE (raw socket answer)" ||
  fail "as $U: dig not blocked: $(echo "$o" | grep -E 'status|EDE')"
r=$(curl_c $C4 www.tiktok.com)
[[ $r != exit=0* && $r == *reset* ]] && pass "as $U: curl https://www.tiktok.com reset" || fail "as $U: curl $r"
r=$(curl_c $C4 www.wikipedia.org)
[[ $r == exit=0* ]] && pass "as $U: allowed traffic flows (NFQUEUE verdicts)" || fail "as $U: curl wikipedia $r"
kill -HUP "$VIGIE_PID"
for i in $(seq 100); do grep -q "policy reloaded" "$T/vigie.err" && break; sleep 0.05; done
grep -q "policy reloaded" "$T/vigie.err" && pass "as $U: SIGHUP reload reads config and lists" ||
  fail "as $U: reload failed: $(tail -2 "$T/vigie.err")"
# A list made world-writable while running: the reload is refused, blocking goes on.
chmod o+w "$T/plists/tiktok.list"
: > "$T/vigie.err.mark"; before=$(grep -c "reload of" "$T/vigie.err")
kill -HUP "$VIGIE_PID"
for i in $(seq 100); do [ "$(grep -c "reload of" "$T/vigie.err")" -gt "$before" ] && break; sleep 0.05; done
grep "reload of" "$T/vigie.err" | tail -1 | grep -q "$T/plists/tiktok.list: refused: writable by anyone" &&
  pass "reload with a world-writable list refused: '$(grep "reload of" "$T/vigie.err" | tail -1 | cut -c1-160)'" ||
  fail "reload of a world-writable list: $(tail -2 "$T/vigie.err")"
o=$(dig_c $C4 $DNS4 www.tiktok.com A)
[[ $o == *"status: NXDOMAIN"* ]] && pass "after the refused reload: still blocking" || fail "after refused reload: $(echo "$o" | grep status)"
stop_vigie; rc=$?
[ $rc -eq 0 ] && [ -s "$T/summary.json" ] && pass "as $U: clean exit 0, summary written" || fail "as $U: exit $rc"

# Start-up refusals (exit 2, file and reason): world-writable list, untrusted owner, unknown user.
out=$(ing "$VIGIE" run --config "$T/priv/vigie.toml" 2>&1); rc=$?
[ $rc -eq 2 ] && [[ $out == *"$T/plists/tiktok.list: refused: writable by anyone"* ]] &&
  pass "run refuses a world-writable list: exit 2, '$out'" || fail "run with world-writable list: exit $rc '$out'"
out=$("$VIGIE" check "$T/priv/vigie.toml" 2>&1); rc=$?
[ $rc -eq 2 ] && [[ $out == *"$T/plists/tiktok.list: refused"* ]] &&
  pass "vigie check reports it: exit 2" || fail "check with world-writable list: exit $rc '$out'"
chmod o-w "$T/plists/tiktok.list"
chown nobody "$T/plists/signal.list"
out=$("$VIGIE" check "$T/priv/vigie.toml" 2>&1); rc=$?
[ $rc -eq 2 ] && [[ $out == *"$T/plists/signal.list: refused: owned by uid"* ]] &&
  pass "a list owned by another user refused: '$out'" || fail "foreign owner: exit $rc '$out'"
chown root "$T/plists/signal.list"
GW_USER=no-such-vigie-user LISTS_DIR=$T/plists write_config "$T/nouser.toml" open
out=$(ing "$VIGIE" run --config "$T/nouser.toml" 2>&1); rc=$?
[ $rc -eq 2 ] && [[ $out == *"user 'no-such-vigie-user' does not exist"* ]] &&
  pass "unknown user: exit 2, '$out'" || fail "unknown user: exit $rc '$out'"
rules down

finish
