#!/usr/bin/env bash
# Inline NFQUEUE mode on a real (namespaced) network: DNS NXDOMAIN + EDE,
# TCP resets, exceptions, IPv6, DNS over TCP, fail-open / fail-closed under
# kill -9, restart, and the decision log.
#   inline_test.sh VIGIE SOURCE_DIR
VIGIE=$1
SOURCE_DIR=$2
source "$(dirname "$0")/lib.sh"

require_env
make_topology
start_servers
say "topology up: client $NS_C, gateway $NS_G, server $NS_S (work dir $T)"

write_config "$T/open.toml" open
write_config "$T/closed.toml" closed
rules up --config "$T/open.toml"
start_vigie "$T/open.toml" || exit 1

# ---- bad config is refused at start-up ------------------------------------------------
printf '[gateway]\nmode = "inline"\nqueus = [0]\n' > "$T/bad.toml"
out=$(ing "$VIGIE" run --config "$T/bad.toml" 2>&1); rc=$?
if [ $rc -ne 0 ] && [[ $out == *bad.toml:3* ]]; then pass "bad config refused: exit $rc, '$out'"; else fail "bad config: exit $rc '$out'"; fi

# ---- DNS ---------------------------------------------------------------------------------
blocked_dns=0
o=$(dig_c $C4 $DNS4 www.tiktok.com A); blocked_dns=$((blocked_dns + 1))
if [[ $o == *"status: NXDOMAIN"* && $o == *"EDE: 15 (Blocked): (vigie: blocked app tiktok)"* ]]; then
  pass "dig www.tiktok.com from managed subnet: NXDOMAIN with EDE 15 'vigie: blocked app tiktok'"
else fail "dig www.tiktok.com blocked: $(echo "$o" | grep -E 'status|EDE')"; fi

o=$(dig_c $C4 $DNS4 www.wikipedia.org A)
[[ $o == *"status: NOERROR"* && $o == *"$WEB4"* ]] && pass "dig www.wikipedia.org (allowed) resolves to $WEB4" ||
  fail "dig wikipedia: $(echo "$o" | grep status)"

o=$(dig_c $C4 $DNS4 tchap.gouv.fr A)
[[ $o == *"status: NOERROR"* && $o == *"$WEB4"* ]] && pass "dig tchap.gouv.fr (approved app) resolves" ||
  fail "dig tchap: $(echo "$o" | grep status)"

o=$(dig_c $C4U $DNS4 www.tiktok.com A)
[[ $o == *"status: NOERROR"* && $o == *"$WEB4"* ]] && pass "dig www.tiktok.com from the unmanaged subnet resolves" ||
  fail "dig unmanaged: $(echo "$o" | grep status)"

o=$(dig_c $C4 $DNS4 web.whatsapp.com A +tcp); blocked_dns=$((blocked_dns + 1))
if [[ $o == *"status: NXDOMAIN"* && $o == *"EDE: 15 (Blocked): (vigie: blocked app whatsapp)"* ]]; then
  pass "dig +tcp web.whatsapp.com: NXDOMAIN with EDE over TCP"
else fail "dig +tcp whatsapp: $(echo "$o" | grep -E 'status|EDE|timed|reset' | head -3)"; fi

o=$(dig_c $C4 $DNS4 www.wikipedia.org A +tcp)
[[ $o == *"status: NOERROR"* && $o == *"$WEB4"* ]] && pass "dig +tcp www.wikipedia.org resolves" ||
  fail "dig +tcp wikipedia: $(echo "$o" | grep status)"

o=$(dig_c $C6 $DNS6 www.tiktok.com AAAA); blocked_dns=$((blocked_dns + 1))
if [[ $o == *"status: NXDOMAIN"* && $o == *"EDE: 15 (Blocked)"* ]]; then
  pass "dig over IPv6 (fd00:20::/64 -> $DNS6) www.tiktok.com AAAA: NXDOMAIN with EDE"
else fail "dig v6 blocked: $(echo "$o" | grep -E 'status|EDE|timed' | head -2)"; fi

o=$(dig_c $C6 $DNS6 www.wikipedia.org AAAA)
[[ $o == *"status: NOERROR"* && $o == *"$WEB6"* ]] && pass "dig over IPv6 www.wikipedia.org AAAA resolves" ||
  fail "dig v6 allowed: $(echo "$o" | grep status)"

# ---- TLS -----------------------------------------------------------------------------------
blocked_tls=0
r=$(curl_c $C4 www.tiktok.com); blocked_tls=$((blocked_tls + 1))
t=${r#*time=}; t=${t%% *}
if [[ $r == exit=35* || $r == exit=56* || $r == *reset* ]] && awk "BEGIN{exit !($t < 1.5)}"; then
  pass "curl https://www.tiktok.com fails at once with a reset ($r)"
else fail "curl tiktok: $r"; fi

r=$(curl_c $C4 www.wikipedia.org)
[[ $r == exit=0* ]] && grep -q "hello from www.wikipedia.org" "$T/curl.body" &&
  pass "curl https://www.wikipedia.org (allowed) succeeds" || fail "curl wikipedia: $r"

r=$(curl_c $C4 tchap.gouv.fr)
[[ $r == exit=0* ]] && pass "curl https://tchap.gouv.fr (approved) succeeds" || fail "curl tchap: $r"

r=$(curl_c $C4 web.whatsapp.com); blocked_tls=$((blocked_tls + 1))
[[ $r != exit=0* && $r == *reset* ]] && pass "curl https://web.whatsapp.com from $C4 is reset" || fail "curl whatsapp: $r"

r=$(curl_c $C4X web.whatsapp.com)
[[ $r == exit=0* ]] && pass "curl https://web.whatsapp.com from the exception device $C4X succeeds" ||
  fail "curl whatsapp exception: $r"

r=$(curl_c $C4U www.tiktok.com)
[[ $r == exit=0* ]] && pass "curl https://www.tiktok.com from the unmanaged subnet succeeds" || fail "curl unmanaged: $r"

r=$(curl_c $C6 www.tiktok.com $WEB6 -6); blocked_tls=$((blocked_tls + 1))
[[ $r != exit=0* && $r == *reset* ]] && pass "curl over IPv6 https://www.tiktok.com is reset" || fail "curl v6 tiktok: $r"

r=$(curl_c $C6 www.wikipedia.org $WEB6 -6)
[[ $r == exit=0* ]] && pass "curl over IPv6 https://www.wikipedia.org succeeds" || fail "curl v6 wikipedia: $r"

# Bulk traffic of an allowed connection never reaches user space (connmark 0x1).
before=$(ing conntrack -L 2>/dev/null | grep -c "mark=1" || true)
r=$(inc curl -sS -o /dev/null --max-time 4 --cacert "$T/ca.pem" --interface $C4 \
      --resolve www.wikipedia.org:443:$WEB4 https://www.wikipedia.org/ https://www.wikipedia.org/ -w '%{http_code} ' 2>&1)
marked=$(ing conntrack -L -p tcp --dport 443 2>/dev/null | grep -c "mark=1" || true)
[ "${marked:-0}" -ge 1 ] && pass "allowed TLS connections carry connmark 0x1 (conntrack: $marked)" ||
  fail "no connmark 0x1 on allowed connections (conntrack said ${marked:-?})"
blocked_marked=$(ing conntrack -L -p tcp --dport 443 2>/dev/null | grep -c "mark=2" || true)
[ "${blocked_marked:-0}" -ge 1 ] && pass "blocked TLS connections carry connmark 0x2 ($blocked_marked)" ||
  fail "no connmark 0x2 on blocked connections"

# ---- SIGHUP reload: a broken config keeps the old policy, a good one is taken -------------
cp "$T/open.toml" "$T/live.toml"
stop_vigie >/dev/null
start_vigie "$T/live.toml" || exit 1
echo 'bogus_key = 1' >> "$T/live.toml"   # [log] is the last section: an unknown key there
kill -HUP "$VIGIE_PID"; sleep 0.5
msg=$(grep "failed, keeping the current policy" "$T/vigie.err")
o=$(dig_c $C4 $DNS4 www.tiktok.com A); blocked_dns=$((blocked_dns + 1))
[[ $msg == *live.toml:[0-9]* && $o == *"status: NXDOMAIN"* ]] &&
  pass "failed reload keeps the policy and says why: '${msg#vigie: }'" || fail "reload: '$msg' $(echo "$o" | grep status)"
cp "$T/open.toml" "$T/live.toml"
kill -HUP "$VIGIE_PID"; sleep 0.5
grep -q "policy reloaded" "$T/vigie.err" && pass "SIGHUP with a good config: policy reloaded" || fail "good reload"
o=$(dig_c $C4 $DNS4 www.tiktok.com A); blocked_dns=$((blocked_dns + 1))
[[ $o == *"status: NXDOMAIN"* ]] && pass "blocking continues after reload" || fail "after reload: $(echo "$o" | grep status)"

# ---- clean shutdown and the decision log ---------------------------------------------------
stop_vigie; rc=$?
if [ $rc -eq 0 ] && grep -q "log events *written" "$T/vigie.err"; then
  pass "SIGTERM: clean exit 0, log flushed ($(grep 'log events' "$T/vigie.err" | tr -s ' ' | sed 's/^ //'))"
else fail "SIGTERM exit $rc: $(tail -3 "$T/vigie.err")"; fi
while read -r line; do
  echo "$line"
  case $line in PASS*) PASS=$((PASS + 1)) ;; FAIL*) FAIL=$((FAIL + 1)) ;; esac
done < <(python3 "$(dirname "$0")/check_log.py" "$T/decisions.jsonl" "$blocked_dns" "$blocked_tls" 2>&1)

# ---- fail open / fail closed under kill -9 -------------------------------------------------
rm -f "$T/decisions.jsonl"
start_vigie "$T/open.toml" || exit 1
kill9_vigie
r=$(curl_c $C4 www.wikipedia.org)
[[ $r == exit=0* ]] && pass "fail open: vigie killed (-9), allowed traffic still flows" || fail "fail open curl: $r"
o=$(dig_c $C4 $DNS4 www.wikipedia.org A)
[[ $o == *"status: NOERROR"* ]] && pass "fail open: DNS still resolves" || fail "fail open dig: $(echo "$o" | grep -E 'status|timed')"
start_vigie "$T/open.toml" || exit 1
o=$(dig_c $C4 $DNS4 www.tiktok.com A)
r=$(curl_c $C4 www.tiktok.com)
[[ $o == *"status: NXDOMAIN"* && $r == *reset* ]] && pass "restart restores blocking (DNS NXDOMAIN, TLS reset)" ||
  fail "restart: $(echo "$o" | grep status) $r"
stop_vigie >/dev/null

rules up --config "$T/closed.toml"
start_vigie "$T/closed.toml" || exit 1
r=$(curl_c $C4 www.wikipedia.org)
[[ $r == exit=0* ]] && pass "fail closed rules, vigie running: allowed traffic flows" || fail "closed running: $r"
kill9_vigie
r=$(curl_c $C4 www.wikipedia.org)
[[ $r != exit=0* ]] && pass "fail closed: vigie killed (-9), new connections stop ($r)" || fail "fail closed still flows: $r"
o=$(dig_c $C4 $DNS4 www.wikipedia.org A)
[[ $o != *"status: NOERROR"* ]] && pass "fail closed: DNS stops" || fail "fail closed dig: $(echo "$o" | grep status)"
start_vigie "$T/closed.toml" || exit 1
r=$(curl_c $C4 www.wikipedia.org)
o=$(dig_c $C4 $DNS4 www.tiktok.com A)
[[ $r == exit=0* && $o == *"status: NXDOMAIN"* ]] && pass "restart after kill -9 (fail closed): traffic flows, blocking restored" ||
  fail "restart closed: $r $(echo "$o" | grep status)"
stop_vigie >/dev/null

# ---- operations: decision events over syslog (UDP), Prometheus metrics ---------------------
rules up --config "$T/open.toml"
rm -f "$T/decisions.jsonl" "$T/syslog.port" "$T/syslog.txt"
ip netns exec "$NS_G" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(70000).replace(b"\n", b" ") + b"\n")
' "$T/syslog.port" "$T/syslog.txt" &
PIDS+=($!)
for i in $(seq 100); do [ -s "$T/syslog.port" ] && break; sleep 0.05; done
syslog_port=$(cat "$T/syslog.port" 2>/dev/null)
metrics_port=9108
write_config "$T/ops.toml" open inline "syslog = \"udp://127.0.0.1:${syslog_port:-9}\"

[metrics]
listen = \"127.0.0.1:$metrics_port\""
start_vigie "$T/ops.toml" || exit 1
o=$(dig_c $C4 $DNS4 www.tiktok.com A)
[[ $o == *"status: NXDOMAIN"* ]] && pass "syslog+metrics config: dig www.tiktok.com still blocked" ||
  fail "ops dig: $(echo "$o" | grep status)"
m=""
for i in $(seq 30); do  # workers publish their figures about every second
  m=$(ing curl -sS --max-time 2 "http://127.0.0.1:$metrics_port/metrics" 2>&1)
  v=$(echo "$m" | awk '$1 == "vigie_decisions_total{app=\"tiktok\",action=\"block\"}" {print $2}')
  [ "${v:-0}" -gt 0 ] 2>/dev/null && break
  sleep 0.2
done
[ "${v:-0}" -gt 0 ] 2>/dev/null &&
  pass "GET /metrics: vigie_decisions_total{app=\"tiktok\",action=\"block\"} $v ($(echo "$m" | grep -c '^vigie_') samples)" ||
  fail "metrics: tiktok block not counted: $(echo "$m" | grep -E 'decisions_total|curl' | head -3)"
c404=$(ing curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$metrics_port/nothing")
[ "$c404" = 404 ] && pass "GET /nothing on the metrics port: 404" || fail "metrics other path: $c404"
for i in $(seq 40); do grep -q '"action":"block"' "$T/syslog.txt" 2>/dev/null && break; sleep 0.05; done
ev=$(grep '"app":"tiktok"' "$T/syslog.txt" 2>/dev/null | grep '"action":"block"' | head -1)
[[ $ev == "<132>1 "*" vigie "*" decision - {"* ]] &&
  pass "syslog (udp://127.0.0.1:$syslog_port): RFC 5424 block event received: '${ev:0:60}...'" ||
  fail "syslog: no block event (port '$syslog_port'): $(head -c 300 "$T/syslog.txt" 2>/dev/null)"
stop_vigie; rc=$?
sl=$(grep "syslog  *sent" "$T/vigie.err" | tr -s ' ' | sed 's/^ //')
[ $rc -eq 0 ] && [[ $sl == "syslog sent "[1-9]*", errors 0" ]] && pass "summary: '$sl'" ||
  fail "summary syslog line: exit $rc '$sl'"
rules down

# ---- verdicts in batches: a burst shares verdict messages, nothing is left waiting ---------
# Unpaced bursts of allowed and blocked DNS queries (each its own connection,
# so none is marked): the worker reads what queued up while it inspected, and
# like verdicts leave in one message (nfqueue_verdict.h).
BURST_N=4000
write_config "$T/burst.toml" open inline "dedup_seconds = 0"
rules up --config "$T/burst.toml"
start_vigie "$T/burst.toml" || exit 1
inc python3 "$SOURCE_DIR/tests/netns/flood_send.py" dns $C4 $DNS4 www.wikipedia.org $BURST_N 10000000 >/dev/null
inc python3 "$SOURCE_DIR/tests/netns/flood_send.py" dns $C4 $DNS4 www.tiktok.com $BURST_N 10000000 >/dev/null
o=$(dig_c $C4 $DNS4 www.wikipedia.org A)
r=$(curl_c $C4 www.wikipedia.org)
[[ $o == *"status: NOERROR"* && $r == exit=0* ]] && pass "after the bursts: DNS and HTTPS flow (no verdict left pending)" ||
  fail "after the bursts: $(echo "$o" | grep status) $r"
stop_vigie; rc=$?
sj() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$T/summary.json" "$1"; }
pk=$(sj 'd["source"]["packets"]'); vm=$(sj 'd["source"]["verdict_messages"]' 2>/dev/null)
ans=$(sj 'd["enforce"]["dns_answers"]'); blk=$(sj 'd["decisions"]["tiktok"]["block"]'); err=$(sj 'd["source"]["errors"]')
say "burst: $pk packets, ${vm:-?} verdict messages, $blk tiktok blocks, $ans DNS answers, $err errors"
[ $rc -eq 0 ] && [ "$pk" -ge $((2 * BURST_N)) ] && [ -n "$vm" ] && [ "$vm" -gt 0 ] && [ "$vm" -lt "$pk" ] && [ "$err" -eq 0 ] &&
  pass "verdicts batched: $vm verdict messages for $pk packets, no error" ||
  fail "verdict batching: exit $rc, packets $pk, verdict messages '${vm:-absent}', errors $err"
# Every blocked query still got its answer (a batched drop is still a drop after the answer).
[ "$blk" -ge "$BURST_N" ] && [ "$ans" -eq "$blk" ] && pass "burst: $ans answers for $blk blocked queries" ||
  fail "burst answers: $ans for $blk blocked (expected >= $BURST_N)"
rules down

finish
