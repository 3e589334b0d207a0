#!/usr/bin/env bash
# The SOC side of `vigie run` inline on a namespaced network (issue 11):
# EVE decision lines (event_type drop for blocks: the packet is dropped),
# dedup in the live log writer, per-app metrics keyed by app name across a
# SIGHUP reload that adds a list, removes one and so shifts every AppId, and
# the reload warning naming the keys it cannot apply.
#   soc_test.sh VIGIE SOURCE_DIR
VIGIE=$1
SOURCE_DIR=$2
source "$(dirname "$0")/lib.sh"

require_env
make_topology
start_servers
say "topology up: client $NS_C, gateway $NS_G, server $NS_S (work dir $T)"

metrics_port=9109
# a: a copy of every list (lib.sh's write_config polices all of them).
mkdir -p "$T/lists_a"
cp "$SOURCE_DIR"/lists/apps/*.list "$T/lists_a/"
write_config "$T/a.toml" open inline "format = \"eve\"
dedup_seconds = 3600

[metrics]
listen = \"127.0.0.1:$metrics_port\""
sed -i "s|dir = \"$SOURCE_DIR/lists/apps\"|dir = \"$T/lists_a\"|" "$T/a.toml"
# b: lists with aaa added (sorts first: every AppId moves) and candycrush
# removed; [log] format changed, which a reload cannot apply.
mkdir -p "$T/lists_b"
cp "$T"/lists_a/*.list "$T/lists_b/"
rm "$T/lists_b/candycrush.list"
echo "aaa-test.example" > "$T/lists_b/aaa.list"
sed -e "s|dir = \"$T/lists_a\"|dir = \"$T/lists_b\"|" \
    -e 's|"netflix", "candycrush", "dating",|"netflix", "aaa", "dating",|' \
    -e 's|format = "eve"|format = "vigie"|' "$T/a.toml" > "$T/b.toml"
ing "$VIGIE" check "$T/b.toml" >/dev/null 2>&1 && pass "config b loads" || fail "config b: $(ing "$VIGIE" check "$T/b.toml" 2>&1 | head -2)"

metric() {  # metric APP ACTION: the current value (0 if absent)
  ing curl -sS --max-time 2 "http://127.0.0.1:$metrics_port/metrics" 2>/dev/null |
    awk -v k="vigie_decisions_total{app=\"$1\",action=\"$2\"}" '$1 == k {print $2; f=1} END {if (!f) print 0}'
}
wait_metric() {  # wait_metric APP ACTION MIN: until the value reaches MIN (workers publish each second)
  local v=0 i
  for i in $(seq 40); do v=$(metric "$1" "$2"); [ "$v" -ge "$3" ] 2>/dev/null && break; sleep 0.2; done
  echo "$v"
}

rules up --config "$T/a.toml"
start_vigie "$T/a.toml" || exit 1
for i in 1 2 3; do
  o=$(dig_c $C4 $DNS4 www.tiktok.com A)
  [[ $o == *"status: NXDOMAIN"* ]] || fail "dig www.tiktok.com $i: $(echo "$o" | grep status)"
done
o=$(dig_c $C4 $DNS4 twitter.com A)
[[ $o == *"status: NXDOMAIN"* ]] && pass "tiktok x3 and twitter blocked" || fail "dig twitter.com: $(echo "$o" | grep status)"
t1=$(wait_metric tiktok block 3); w1=$(wait_metric twitter block 1)
[ "$t1" -ge 3 ] && [ "$w1" -ge 1 ] && pass "metrics before reload: tiktok block $t1, twitter block $w1" ||
  fail "metrics before reload: tiktok $t1 twitter $w1"

cp "$T/b.toml" "$T/a.toml"
kill -HUP "$VIGIE_PID"; sleep 0.5
grep -q "policy reloaded" "$T/vigie.err" && pass "SIGHUP: policy reloaded (lists added, removed, reordered)" ||
  fail "reload: $(tail -3 "$T/vigie.err")"
w=$(grep "vigie: reload: " "$T/vigie.err")
[[ $w == *"[log] format changed"* ]] && pass "reload warning names the key: '${w#vigie: }'" || fail "reload warning: '$w'"
for i in 1 2; do dig_c $C4 $DNS4 www.tiktok.com A >/dev/null; done
o=$(dig_c $C4 $DNS4 x.aaa-test.example A)
[[ $o == *"status: NXDOMAIN"* ]] && pass "the new list blocks after reload" || fail "aaa: $(echo "$o" | grep status)"
t2=$(wait_metric tiktok block $((t1 + 2))); w2=$(metric twitter block); a2=$(wait_metric aaa block 1)
c2=$(metric candycrush block)
[ "$t2" -ge $((t1 + 2)) ] && [ "$w2" -eq "$w1" ] && [ "$a2" -ge 1 ] &&
  pass "metrics after reload keep their names: tiktok $t1 -> $t2, twitter $w1 -> $w2, aaa $a2, candycrush $c2" ||
  fail "metrics after reload: tiktok $t1 -> $t2, twitter $w1 -> $w2, aaa $a2"
tfinal=$(metric tiktok block)
stop_vigie; rc=$?
rules down
[ $rc -eq 0 ] && pass "clean stop" || fail "stop: exit $rc"

# The log: EVE throughout (the running format stays), drops, one summary.
log="$T/decisions.jsonl"
if /usr/bin/python3 "$SOURCE_DIR/tests/eve/validate_eve.py" --min-lines 3 "$log" >"$T/validate.txt" 2>&1; then
  pass "every live log line validates against the EVE schema ($(wc -l < "$log") lines)"
else
  rc=$?; [ $rc -eq 77 ] && say "note: $(cat "$T/validate.txt")" || fail "EVE validation: $(head -5 "$T/validate.txt")"
fi
/usr/bin/python3 - "$log" "$tfinal" > "$T/check.txt" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
want = int(sys.argv[2])
tik = [e for e in lines if e.get("dns", {}).get("queries", [{}])[0].get("rrname") == "www.tiktok.com"]
first = [e for e in tik if "count" not in e["alert"].get("metadata", {})]
summ = [e for e in tik if "count" in e["alert"].get("metadata", {})]
ok = (len(first) == 1 and len(summ) == 1 and int(summ[0]["alert"]["metadata"]["count"][0]) == want - 1
      and all(e["event_type"] == "drop" and e["alert"]["action"] == "blocked" for e in tik))
print(f"tiktok: {len(first)} event(s), {len(summ)} summary, count "
      f"{summ[0]['alert']['metadata']['count'][0] if summ else None} for {want} decisions; event_type "
      f"{sorted({e['event_type'] for e in tik})}")
sys.exit(0 if ok else 1)
PY
[ $? -eq 0 ] && pass "dedup in the live log: $(cat "$T/check.txt")" || fail "dedup: $(cat "$T/check.txt")"

finish
