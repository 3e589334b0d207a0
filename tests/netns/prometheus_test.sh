#!/usr/bin/env bash
# A real Prometheus server (Debian `prometheus`) scrapes `vigie run` (inline,
# NFQUEUE) inside the gateway namespace; the values it stores, read back
# through its HTTP API (/api/v1/query), must be what the test's traffic caused
# and what Vigie's own /metrics and exit summary say. The alert rules of
# deploy/prometheus/vigie-alerts.yml are loaded and must all evaluate.
#   prometheus_test.sh VIGIE SOURCE_DIR
VIGIE=$1
SOURCE_DIR=$2
source "$(dirname "$0")/lib.sh"

require_env
command -v prometheus >/dev/null || { echo "missing tool: prometheus (run deploy/install-deps.sh)"; exit 1; }
make_topology
start_servers
say "topology up: client $NS_C, gateway $NS_G, server $NS_S (work dir $T)"

# Both servers listen on the gateway namespace's own loopback, where nothing
# else runs: fixed ports cannot clash with the host or with parallel runs.
METRICS_PORT=9108
PROM_PORT=9090
# Prometheus scrapes every second; it needs a few seconds to start and the
# workers publish their figures about once a second.
SCRAPE_WAIT_S=30

write_config "$T/prom.toml" open inline "
[metrics]
listen = \"127.0.0.1:$METRICS_PORT\""
rules up --config "$T/prom.toml"
start_vigie "$T/prom.toml" || exit 1

mkdir -p "$T/tsdb"
cp "$SOURCE_DIR/deploy/prometheus/vigie-alerts.yml" "$T/vigie-alerts.yml"
cat > "$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $T/vigie-alerts.yml
scrape_configs:
  - job_name: vigie
    static_configs:
      - targets: ['127.0.0.1:$METRICS_PORT']
YML
# Run the binary directly: the Debian service is never started.
ip netns exec "$NS_G" prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
  --web.listen-address=127.0.0.1:$PROM_PORT --log.level=warn 2>"$T/prometheus.err" &
PIDS+=($!)

# ---- traffic: what the assertions below count -------------------------------------------
N_DNS_BLOCK=3   # dig www.tiktok.com: one block decision each
N_TLS_BLOCK=1   # curl https://www.tiktok.com: one block decision
N_TCHAP=2       # dig tchap.gouv.fr: allowed by its allow-list (app tchap, action allow)
for i in $(seq $N_DNS_BLOCK); do
  o=$(dig_c $C4 $DNS4 www.tiktok.com A)
  [[ $o == *"status: NXDOMAIN"* ]] || fail "dig www.tiktok.com #$i not blocked: $(echo "$o" | grep status)"
done
r=$(curl_c $C4 www.tiktok.com)
[[ $r != exit=0* ]] || fail "curl www.tiktok.com not blocked: $r"
for i in $(seq $N_TCHAP); do
  o=$(dig_c $C4 $DNS4 tchap.gouv.fr A)
  [[ $o == *"status: NOERROR"* ]] || fail "dig tchap.gouv.fr #$i: $(echo "$o" | grep status)"
done
o=$(dig_c $C4 $DNS4 www.wikipedia.org A)
[[ $o == *"status: NOERROR"* ]] || fail "dig www.wikipedia.org: $(echo "$o" | grep status)"
r=$(curl_c $C4 www.wikipedia.org)
[[ $r == exit=0* ]] || fail "curl www.wikipedia.org: $r"
TIKTOK_BLOCK=$((N_DNS_BLOCK + N_TLS_BLOCK))

# ---- helpers --------------------------------------------------------------------------
# vigie_metric 'series{labels}': its value in Vigie's own /metrics, or empty
vigie_metric() {
  ing curl -sS --max-time 2 "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null |
    awk -v s="$1" '$1 == s {print $2}'
}
# vigie_sum 'series': the sum of its samples over every label set in /metrics
vigie_sum() {
  ing curl -sS --max-time 2 "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null |
    awk -v s="$1" 'index($1, s "{") == 1 {t += $NF} END {print t + 0}'
}
# promq 'PromQL': the value of a one-element instant vector, "none" when the
# result is empty, "n=K" when it has K elements
promq() {
  ing curl -sS --max-time 2 -G --data-urlencode "query=$1" "http://127.0.0.1:$PROM_PORT/api/v1/query" 2>/dev/null |
    python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    print("error"); sys.exit()
r = d.get("data", {}).get("result", []) if d.get("status") == "success" else None
if r is None: print("error")
elif not r: print("none")
elif len(r) > 1: print("n=%d" % len(r))
else: print(r[0]["value"][1])'
}

# The workers publish about once a second: wait until /metrics shows every
# decision the traffic made and stops moving.
for i in $(seq $((SCRAPE_WAIT_S * 5))); do
  v=$(vigie_metric 'vigie_decisions_total{app="tiktok",action="block"}')
  [ "${v:-0}" -ge $TIKTOK_BLOCK ] 2>/dev/null && break
  sleep 0.2
done
sleep 1.5  # one more publication period: every worker's last figures are out
declare -A V
for s in 'vigie_decisions_total{app="tiktok",action="block"}' 'vigie_decisions_total{app="tchap",action="allow"}' \
         vigie_packets_total vigie_log_events_written_total vigie_decisions_block_total vigie_log_events_dropped_total \
         vigie_enforce_dns_answers_total vigie_enforce_tcp_resets_total; do
  V[$s]=$(vigie_metric "$s")
done
V[flows]=$(vigie_sum vigie_flows)

# Prometheus holds a sample equal to the current /metrics value once it has
# scraped after the last publication.
ok=0
for i in $(seq $((SCRAPE_WAIT_S * 2))); do
  [ "$(promq 'vigie_packets_total{job="vigie"}')" = "${V[vigie_packets_total]:-x}" ] &&
    [ "$(promq 'vigie_log_events_written_total')" = "${V[vigie_log_events_written_total]:-x}" ] && { ok=1; break; }
  sleep 0.5
done
[ $ok = 1 ] && pass "Prometheus scraped vigie: vigie_packets_total ${V[vigie_packets_total]} in its TSDB" ||
  fail "Prometheus has no current sample (prometheus: $(promq 'vigie_packets_total'), vigie: ${V[vigie_packets_total]:-none}; $(tail -c 300 "$T/prometheus.err"))"

up=$(promq 'up{job="vigie"}')
[ "$up" = 1 ] && pass "up{job=\"vigie\"} = 1 (target healthy)" || fail "up{job=\"vigie\"} = $up"

p=$(promq 'vigie_decisions_total{app="tiktok",action="block"}')
[ "$p" = "$TIKTOK_BLOCK" ] && [ "${V['vigie_decisions_total{app="tiktok",action="block"}']}" = "$TIKTOK_BLOCK" ] &&
  pass "vigie_decisions_total{app=\"tiktok\",action=\"block\"} = $p ($N_DNS_BLOCK DNS + $N_TLS_BLOCK TLS blocked), same in /metrics" ||
  fail "tiktok block: prometheus $p, /metrics ${V['vigie_decisions_total{app="tiktok",action="block"}']}, caused $TIKTOK_BLOCK"

p=$(promq 'vigie_decisions_total{app="tchap",action="allow"}')
[ "$p" = "$N_TCHAP" ] && [ "${V['vigie_decisions_total{app="tchap",action="allow"}']}" = "$N_TCHAP" ] &&
  pass "vigie_decisions_total{app=\"tchap\",action=\"allow\"} = $p (allow-list), same in /metrics" ||
  fail "tchap allow: prometheus $p, /metrics ${V['vigie_decisions_total{app="tchap",action="allow"}']}, caused $N_TCHAP"

p=$(promq 'vigie_decisions_total{app="whatsapp"}')
[ "$p" = none ] && pass "no series for an app the traffic never named (whatsapp)" || fail "whatsapp series: $p"

p=$(promq 'vigie_decisions_block_total')
[ "$p" = "$TIKTOK_BLOCK" ] && [ "$(promq 'sum(vigie_decisions_total{action="block"})')" = "$p" ] &&
  pass "vigie_decisions_block_total = $p = sum(vigie_decisions_total{action=\"block\"}) (PromQL sum)" ||
  fail "block total: $p, sum by app $(promq 'sum(vigie_decisions_total{action="block"})')"

p=$(promq 'vigie_enforce_dns_answers_total')
[ "$p" = "$N_DNS_BLOCK" ] && [ "${V[vigie_enforce_dns_answers_total]}" = "$p" ] &&
  pass "vigie_enforce_dns_answers_total = $p (one NXDOMAIN per blocked query)" ||
  fail "dns answers: prometheus $p, /metrics ${V[vigie_enforce_dns_answers_total]}, caused $N_DNS_BLOCK"
p=$(promq 'vigie_enforce_tcp_resets_total')
[ "${p:-0}" -ge 1 ] 2>/dev/null && [ "${V[vigie_enforce_tcp_resets_total]}" = "$p" ] &&
  pass "vigie_enforce_tcp_resets_total = $p (blocked TLS connection reset), same in /metrics" ||
  fail "tcp resets: prometheus $p, /metrics ${V[vigie_enforce_tcp_resets_total]}"

p=$(promq 'vigie_packets_total')
min_packets=$((N_DNS_BLOCK + N_TCHAP + 1 + 2 * 3))  # every query, and at least 3 packets (SYN, ACK, ClientHello) per TLS connection
[ "${p:-0}" -ge $min_packets ] 2>/dev/null && [ "$p" = "${V[vigie_packets_total]}" ] &&
  pass "vigie_packets_total = $p (>= $min_packets the test sent through the queues), same in /metrics" ||
  fail "packets: prometheus $p, /metrics ${V[vigie_packets_total]}, at least $min_packets expected"

# ---- the latency histogram and the flows gauge, through PromQL ---------------------------
# One observation per packet handed to the pipeline: _count = the source's packets.
p=$(promq 'sum(vigie_packet_latency_seconds_count)')
[ "$p" = "$(promq 'sum(vigie_source_packets_total)')" ] && [ "${p:-0}" -ge $min_packets ] 2>/dev/null &&
  pass "sum(vigie_packet_latency_seconds_count) = $p = sum(vigie_source_packets_total): one observation per packet" ||
  fail "latency count: $p, source packets $(promq 'sum(vigie_source_packets_total)')"
p=$(promq 'count(vigie_packet_latency_seconds_bucket)')
inf=$(promq 'sum(vigie_packet_latency_seconds_bucket{le="+Inf"})')
[ "$p" = $((2 * 17)) ] && [ "$inf" = "$(promq 'sum(vigie_packet_latency_seconds_count)')" ] &&
  pass "vigie_packet_latency_seconds_bucket: 17 buckets per worker (1us..100ms, +Inf), +Inf = _count" ||
  fail "latency buckets: $p series, +Inf $inf"
# Buckets are cumulative: no bucket holds more than the next wider one.
p=$(promq 'count(vigie_packet_latency_seconds_bucket{le="0.0001"} > on (worker) vigie_packet_latency_seconds_bucket{le="0.001"})')
[ "$p" = none ] && pass "latency buckets are cumulative (le 1e-4 <= le 1e-3 for every worker)" || fail "buckets not cumulative: $p"
q50=$(promq 'histogram_quantile(0.5, sum by (le) (vigie_packet_latency_seconds_bucket))')
q99=$(promq 'histogram_quantile(0.99, sum by (le) (vigie_packet_latency_seconds_bucket))')
python3 -c 'import math, sys; a, b = map(float, sys.argv[1:]); sys.exit(0 if 0 < a <= b and math.isfinite(b) else 1)' "$q50" "$q99" 2>/dev/null &&
  pass "histogram_quantile over the histogram: p50 $q50 s <= p99 $q99 s (what the dashboard plots)" ||
  fail "histogram_quantile: p50 '$q50', p99 '$q99'"
p=$(promq 'sum(vigie_flows)')
[ "$(promq 'count(vigie_flows)')" = 2 ] && [ "${p:-0}" -ge 1 ] 2>/dev/null && [ "$p" = "${V[flows]}" ] &&
  pass "vigie_flows: one gauge per worker, $p flows tracked (the test's connections), same in /metrics" ||
  fail "vigie_flows: prometheus $p ($(promq 'count(vigie_flows)') series), /metrics ${V[flows]}"
p=$(promq 'sum(vigie_fail_open_total)')
[ "$p" = 0 ] && [ "$(promq 'count(vigie_quota_hits_total)')" = 2 ] &&
  pass "vigie_fail_open_total = 0 (no overload), vigie_quota_hits_total{quota} exported" ||
  fail "fail open $p, quota series $(promq 'count(vigie_quota_hits_total)')"

p=$(promq 'count(vigie_source_packets_total)')
[ "$p" = 2 ] && pass "vigie_source_packets_total has one series per worker (queue 0, queue 1)" || fail "source series: $p"

# ---- the alert rules load and evaluate -----------------------------------------------------
rules_state=$(ing curl -sS --max-time 2 "http://127.0.0.1:$PROM_PORT/api/v1/rules" | python3 -c '
import json, sys
d = json.load(sys.stdin)
rules = [r for g in d["data"]["groups"] for r in g["rules"]]
bad = [r["name"] + ":" + r.get("lastError", "") for r in rules if r.get("health") != "ok"]
firing = [r["name"] for r in rules if r.get("state") == "firing"]
print(len(rules), ",".join(bad) or "-", ",".join(firing) or "-")')
read -r nrules bad firing <<<"$rules_state"
want=$(grep -c -- '- alert:' "$SOURCE_DIR/deploy/prometheus/vigie-alerts.yml")
[ "$nrules" = "$want" ] && [ "$bad" = "-" ] && [ "$firing" = "-" ] &&
  pass "deploy/prometheus/vigie-alerts.yml: $nrules rules loaded, all healthy, none firing" ||
  fail "alert rules: $nrules of $want loaded, unhealthy: $bad, firing: $firing"

# ---- Vigie's exit summary agrees with what Prometheus stored ------------------------------
# Read before the stop: once a scrape fails, Prometheus marks the series stale.
src_sum=$(promq 'sum(vigie_source_packets_total)')
p_written=$(promq 'vigie_log_events_written_total')
p_dropped=$(promq 'vigie_log_events_dropped_total')
stop_vigie; rc=$?
read -r s_packets s_written s_dropped < <(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(j["source"]["packets"], j["log"]["written"], j["log"]["dropped"])' "$T/summary.json" 2>/dev/null)
lines=$(wc -l < "$T/decisions.jsonl")
# [log] mode = "decisions": the blocks and the allow-list hits, not the no-match names.
[ $rc = 0 ] && [ "$lines" = $((TIKTOK_BLOCK + N_TCHAP)) ] && [ "$p_written" = "$lines" ] && [ "$s_written" = "$lines" ] && [ "$s_dropped" = 0 ] &&
  [ "$p_dropped" = 0 ] &&
  pass "vigie_log_events_written_total = $p_written ($TIKTOK_BLOCK blocks + $N_TCHAP allow-list) = lines in the decision log = summary; dropped 0" ||
  fail "log events: prometheus written $p_written dropped $p_dropped, log lines $lines, summary written $s_written dropped $s_dropped (exit $rc)"
[ "$src_sum" = "$s_packets" ] &&
  pass "sum(vigie_source_packets_total) = $src_sum = the exit summary's packets" ||
  fail "source packets: prometheus $src_sum, summary $s_packets"

# The scrape after the stop fails: Prometheus marks the target down.
for i in $(seq 20); do [ "$(promq 'up{job="vigie"}')" = 0 ] && break; sleep 0.5; done
[ "$(promq 'up{job="vigie"}')" = 0 ] && pass "after SIGTERM: up{job=\"vigie\"} = 0" || fail "up after stop: $(promq 'up{job="vigie"}')"
rules down

finish
