#!/usr/bin/env bash
# Monitor mode: libpcap live capture on the gateway's client-side link, no
# NFQUEUE. With enforce = "inject" the forged DNS answer and the TCP resets go
# out with pcap_inject and must beat the real answers; with enforce = "log"
# nothing is touched and the decisions are still logged.
#   monitor_test.sh VIGIE SOURCE_DIR
VIGIE=$1
SOURCE_DIR=$2
source "$(dirname "$0")/lib.sh"

require_env
make_topology
DNS_PORT=5300 start_servers
# dnsmasq answers on port 5300; port 53 is a relay that answers 30 ms late,
# standing in for a distant server (see delay_relay.py).
ip netns exec "$NS_S" python3 "$(dirname "$0")/delay_relay.py" $DNS4 5300 30 &
PIDS+=($!)
for i in $(seq 50); do ins dig +short +time=1 +tries=1 @$DNS4 www.wikipedia.org 2>/dev/null | grep -q $WEB4 && break; sleep 0.1; done
# The injected answer races the server's: give the server 20 ms more of path,
# as a real server on the Internet would have (skipped if netem is missing).
if ins tc qdisc add dev s0 root netem delay 20ms 2>/dev/null; then
  say "server path delayed 20 ms (netem)"
else
  say "note: no sch_netem in this kernel; the injected answers race the real ones undelayed"
fi

write_config "$T/mon.toml" open monitor
start_vigie "$T/mon.toml" || exit 1

o=$(dig_c $C4 $DNS4 www.tiktok.com A)
if [[ $o == *"status: NXDOMAIN"* && $o == *"EDE: 15 (Blocked): (vigie: blocked app tiktok)"* ]]; then
  pass "monitor inject: dig www.tiktok.com gets the injected NXDOMAIN with EDE 15"
else fail "monitor dig blocked: $(echo "$o" | grep -E 'status|EDE')"; fi
o=$(dig_c $C4 $DNS4 www.wikipedia.org A)
[[ $o == *"status: NOERROR"* && $o == *"$WEB4"* ]] && pass "monitor inject: dig www.wikipedia.org resolves" ||
  fail "monitor dig allowed: $(echo "$o" | grep status)"
# A passive tap races the real server: the injected RST must arrive before the
# server's answer. Without netem the server is as close as Vigie, so a loaded
# machine can lose one race; three connections, as a client retries.
tls_attempts=0
for attempt in 1 2 3; do
  tls_attempts=$attempt
  r=$(curl_c $C4 www.tiktok.com)
  [[ $r != exit=0* && $r == *reset* ]] && break
  echo "note: injected reset lost the race on attempt $attempt ($r)"
done
[[ $r != exit=0* && $r == *reset* ]] && pass "monitor inject: curl https://www.tiktok.com is reset ($r)" ||
  fail "monitor curl blocked: $r"
r=$(curl_c $C4 www.wikipedia.org)
[[ $r == exit=0* ]] && pass "monitor inject: curl https://www.wikipedia.org succeeds" || fail "monitor curl allowed: $r"
o=$(dig_c $C4U $DNS4 www.tiktok.com A)
[[ $o == *"status: NOERROR"* ]] && pass "monitor inject: unmanaged subnet resolves www.tiktok.com" ||
  fail "monitor unmanaged: $(echo "$o" | grep status)"
stop_vigie; rc=$?
[ $rc -eq 0 ] && pass "monitor: SIGTERM clean exit" || fail "monitor exit $rc"
say "  figures (inject): $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("enforce", d["enforce"], "checksum_offload", d["counters"].get("checksum_offload", 0), "bad checksums", {k: v for k, v in d["counters"].items() if "checksum" in k})' "$T/summary.json" 2>&1)"
n=$(grep -c '"action":"block"' "$T/decisions.jsonl" 2>/dev/null)
want=$((1 + tls_attempts))  # one DNS query, one per TLS connection
[ "${n:-0}" -eq $want ] && pass "monitor: $want block events logged (DNS + $tls_attempts TLS)" ||
  fail "monitor block events: ${n:-0}, want $want"

# enforce = "log": observe only.
rm -f "$T/decisions.jsonl"
sed 's/^enforce = "inject"/enforce = "log"/' "$T/mon.toml" > "$T/monlog.toml"
start_vigie "$T/monlog.toml" || exit 1
o=$(dig_c $C4 $DNS4 www.tiktok.com A)
[[ $o == *"status: NOERROR"* ]] && pass "monitor log-only: dig www.tiktok.com is not answered by vigie" ||
  fail "monitor log-only dig: $(echo "$o" | grep status)"
r=$(curl_c $C4 www.tiktok.com)
[[ $r == exit=0* ]] && pass "monitor log-only: curl https://www.tiktok.com is not reset" || fail "monitor log-only curl: $r"
stop_vigie >/dev/null
n=$(grep -c '"action":"block"' "$T/decisions.jsonl" 2>/dev/null)
[ "${n:-0}" -eq 2 ] && pass "monitor log-only: the 2 blocks are logged" || fail "monitor log-only events: ${n:-0}"

finish
