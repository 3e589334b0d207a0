#!/usr/bin/env bash
# Inline sees what replay sees (issue 9): with the rules `vigie rules iptables`
# generates from the config, the tricks the old fixed rules (ports 53/80/443,
# first 10 packets) let through are blocked inline, and allowed traffic through
# the same rules is unaffected:
#   blocked: a ClientHello in 30 segments; TLS on port 8443; DoT (port 853);
#            the second request of an HTTP keep-alive connection;
#   allowed: TLS on 8443 to an allowed name; an approved app's hello in 30
#            segments; an unmanaged source (never queued).
# And the stream tricks of mkpcap.TRICKS (overlapping segments with a decoy in
# both orders, urgent data, MD5-signed and low-TTL decoys), sent by a raw-socket
# client to the real server: blocked for a banned name, answered for an
# approved one. A decoy with TTL 1 expires in the gateway before the FORWARD
# hook: neither Vigie nor the server sees it (DESIGN.md "Soundness").
#   evasion_inline_test.sh VIGIE SOURCE_DIR
VIGIE=$1
SOURCE_DIR=$2
source "$(dirname "$0")/lib.sh"
CLIENT="python3 $(dirname "$0")/evasion_client.py"
DOT_PORT=853
ALT_TLS_PORT=8443
SEGMENTS=30

require_env
make_topology
NGINX_EXTRA_LISTEN="listen $WEB4:$ALT_TLS_PORT ssl;" start_servers
say "topology up: client $NS_C, gateway $NS_G, server $NS_S (work dir $T)"

# A DoT stand-in on the resolver's address: records every connection and byte.
: > "$T/dot.log"
ip netns exec "$NS_S" $CLIENT listen $DNS4 $DOT_PORT "$T/dot.log" &
PIDS+=($!)
for i in $(seq 50); do grep -q listening "$T/dot.log" && break; sleep 0.1; done

write_config "$T/ev.toml" open
rules up --config "$T/ev.toml" || { fail "vigie-iptables.sh up with the generated rules"; finish; exit 1; }
ing iptables -w -S VIGIE_INSPECT | grep -q -- "-m connmark --mark 0x0/0x3 -j NFQUEUE" && ! ing iptables -w -S | grep -q connbytes &&
  pass "generated rules applied: any port while connmark 0, no packet count" || fail "rules: $(ing iptables -S)"
start_vigie "$T/ev.toml" || exit 1

# The nft form of the same rules, checked by the kernel (nft -c). Where the
# kernel lacks the nft `queue` statement (nft_queue), the queue statements are
# replaced by `accept` so the rest (sets, ct direction, ct mark) is still checked.
"$VIGIE" rules nft --config "$T/ev.toml" > "$T/vigie.nft"
if ing nft -c -f "$T/vigie.nft" 2>"$T/nft.err"; then
  pass "nft -c -f: the generated nft ruleset is accepted"
elif grep -q "queue" "$T/nft.err" && sed 's/queue num [0-9-]*\( bypass\)\?$/accept/' "$T/vigie.nft" > "$T/vigie-noq.nft" &&
     ing nft -c -f "$T/vigie-noq.nft" 2>>"$T/nft.err"; then
  pass "nft -c -f: the generated nft ruleset is accepted but for the queue statement (no nft_queue in this kernel)"
else
  fail "nft -c -f: $(head -c 400 "$T/nft.err")"
fi

blocked_tls=0
# ---- (a) a ClientHello to a banned name in 30 segments ----------------------------------
r=$(inc $CLIENT hello $C4 $WEB4 443 www.tiktok.com $SEGMENTS); blocked_tls=$((blocked_tls + 1))
[[ $r == reset* ]] && pass "ClientHello for www.tiktok.com in $SEGMENTS segments: reset ($r)" ||
  fail "30-segment hello to www.tiktok.com: $r"

# ---- approved app, same trick: not blocked ------------------------------------------------
r=$(inc $CLIENT hello $C4 $WEB4 443 tchap.gouv.fr $SEGMENTS)
[[ $r == response* ]] && pass "ClientHello for tchap.gouv.fr (approved) in $SEGMENTS segments: the server answers ($r)" ||
  fail "30-segment hello to tchap.gouv.fr: $r"

# ---- (b) TLS on port 8443 -----------------------------------------------------------------
curl_alt() {  # curl_alt SRC NAME: prints "exit=N err=..."
  local rc=0
  inc curl -sS -o "$T/curl.body" --max-time 4 --cacert "$T/ca.pem" --interface "$1" \
    --resolve "$2:$ALT_TLS_PORT:$WEB4" "https://$2:$ALT_TLS_PORT/" 2>"$T/curl.err" || rc=$?
  echo "exit=$rc err=$(head -c 200 "$T/curl.err" | tr '\n' ' ')"
}
r=$(curl_alt $C4 www.tiktok.com); blocked_tls=$((blocked_tls + 1))
[[ $r != exit=0* && $r == *reset* ]] && pass "curl https://www.tiktok.com:$ALT_TLS_PORT/ is reset ($r)" ||
  fail "curl tiktok on $ALT_TLS_PORT: $r"
r=$(curl_alt $C4 www.wikipedia.org)
[[ $r == exit=0* ]] && grep -q "hello from www.wikipedia.org" "$T/curl.body" &&
  pass "curl https://www.wikipedia.org:$ALT_TLS_PORT/ (allowed) loads" || fail "curl wikipedia on $ALT_TLS_PORT: $r"

# ---- (c) DoT: TCP to port 853 ----------------------------------------------------------------
r=$(inc $CLIENT bytes $C4 $DNS4 $DOT_PORT)
got=$(grep -c "^bytes [1-9].* $C4\$" "$T/dot.log" || true)
[[ ($r == reset* || $r == timeout*) && $got -eq 0 ]] &&
  pass "DoT (TCP $DNS4:$DOT_PORT) from $C4: $r, the server received nothing" ||
  fail "DoT from managed: '$r', server got $got payloads: $(cat "$T/dot.log")"

# ---- (d) HTTP keep-alive: allowed first request, banned second ---------------------------------
r=$(inc $CLIENT http $C4 $WEB4 80 www.wikipedia.org www.tiktok.com)
[[ $r == *"first: HTTP/1.1 200"* && ($r == reset* || $r == timeout* || $r == closed*) ]] &&
  pass "HTTP keep-alive: first request (www.wikipedia.org) answered, second (www.tiktok.com) gets no response ($r)" ||
  fail "HTTP keep-alive second request: $r"
r=$(inc $CLIENT http $C4 $WEB4 80 www.wikipedia.org tchap.gouv.fr)
[[ $r == "response "* && $r == *"first: HTTP/1.1 200"* ]] &&
  pass "HTTP keep-alive: a second request to an approved host is answered ($r)" || fail "HTTP keep-alive allowed: $r"

# Decided connections of the managed client carry Vigie's marks: (a), (b)
# and (d), checked now, before their reset entries time out (CLOSE, 10 s).
# The DoT SYN (c) is dropped before conntrack confirms its entry. The raw
# tricks' blocks (e) are checked in the log.
n_block=$(ing conntrack -L -s $C4 2>/dev/null | grep -c "mark=2" || true)
[ "$n_block" -eq 3 ] && pass "conntrack: $n_block connections of $C4 blocked in the kernel (connmark 0x2)" ||
  fail "conntrack: $n_block blocked connections of $C4"

# ---- (e) stream tricks from a raw-socket client -------------------------------------------------
# The client's kernel has no socket for the raw connections: its RSTs to the
# server's SYN-ACK and data are dropped (only for the raw source ports).
RAW_PORTS=21000:21999  # below the ephemeral range: no socket of the kernel's uses them
inc iptables -w -A OUTPUT -p tcp --sport $RAW_PORTS --tcp-flags RST RST -j DROP
BANNED=www.tiktok.com APPROVED=tchap.gouv.fr
decoy_of() { python3 -c "import sys; sys.path.insert(0, '$SOURCE_DIR/tests/tools'); import mkpcap; print(mkpcap.same_length_decoy('$1'))"; }
BANNED_DECOY=$(decoy_of $BANNED) APPROVED_DECOY=$(decoy_of $APPROVED)
TRICKS=$(python3 -c "import sys; sys.path.insert(0, '$SOURCE_DIR/tests/tools'); import mkpcap; print(' '.join(mkpcap.TRICKS))")
rport=21000 blocked_tricks=0
for trick in $TRICKS; do
  rport=$((rport + 1))
  r=$(inc $CLIENT trick $trick $C4 $WEB4 443 $BANNED $BANNED_DECOY $rport); blocked_tricks=$((blocked_tricks + 1))
  [[ $r == reset* || $r == timeout* ]] && pass "raw $trick, $BANNED (decoy $BANNED_DECOY): blocked inline ($r)" ||
    fail "raw $trick to $BANNED: $r"
  rport=$((rport + 1))
  r=$(inc $CLIENT trick $trick $C4 $WEB4 443 $APPROVED $APPROVED_DECOY $rport)
  [[ $r == response* ]] && pass "raw $trick, $APPROVED (approved, decoy $APPROVED_DECOY): the server answers ($r)" ||
    fail "raw $trick to $APPROVED: $r"
done
# The banned hello with TTL 1 first, then the approved decoy: the gateway's
# kernel drops the TTL-1 segment in ip_forward (before FORWARD, so before
# NFQUEUE); the server reads the decoy and answers, and Vigie, which saw only
# the decoy, allows: both read the same bytes.
rport=$((rport + 1)) TTL1_PORT=$((rport))
r=$(LOW_TTL=1 inc $CLIENT trick ttl-real-first $C4 $WEB4 443 $BANNED $BANNED_DECOY $rport)
[[ $r == response* ]] && pass "raw ttl-real-first with TTL 1: the banned segment expires in the gateway, the decoy is answered ($r)" ||
  fail "raw ttl-real-first TTL 1: $r"
inc iptables -w -D OUTPUT -p tcp --sport $RAW_PORTS --tcp-flags RST RST -j DROP

# ---- (f) conflicting IP fragments ---------------------------------------------------------------
# The gateway's kernel reassembles before NFQUEUE (nf_defrag for conntrack):
# the second copy lies inside the first, so it is dropped as a duplicate and
# Vigie is handed the first-received reading only, as the gateway forwards it
# (DESIGN.md "Soundness"). Decoy first: the decoy is what the resolver gets;
# banned first: blocked.
FRAG_DECOY_PORT=21901 FRAG_BANNED_PORT=21902
r=$(inc $CLIENT frags $C4 $DNS4 $BANNED_DECOY $BANNED $FRAG_DECOY_PORT)
[[ $r == "answer $BANNED_DECOY "* ]] &&
  pass "conflicting fragments, decoy first: the resolver answers the first-received reading ($r)" ||
  fail "conflicting fragments, decoy first: $r"
r=$(inc $CLIENT frags $C4 $DNS4 $BANNED $BANNED_DECOY $FRAG_BANNED_PORT)
[[ $r == timeout* || $r == *"rcode 3" ]] &&
  pass "conflicting fragments, banned first: blocked (NXDOMAIN or dropped: $r)" ||
  fail "conflicting fragments, banned first: $r"

# ---- unmanaged source: not queued at all ---------------------------------------------------------
r=$(curl_alt $C4U www.tiktok.com)
[[ $r == exit=0* ]] && pass "curl https://www.tiktok.com:$ALT_TLS_PORT/ from the unmanaged $C4U loads" ||
  fail "unmanaged curl on $ALT_TLS_PORT: $r"
r=$(inc $CLIENT hello $C4U $WEB4 443 www.tiktok.com $SEGMENTS)
[[ $r == response* ]] && pass "30-segment hello for www.tiktok.com from the unmanaged $C4U: answered" ||
  fail "unmanaged 30-segment hello: $r"
r=$(inc $CLIENT bytes $C4U $DNS4 $DOT_PORT)
[[ $r == response* ]] && grep -q "^bytes [1-9].* $C4U\$" "$T/dot.log" &&
  pass "TCP $DOT_PORT from the unmanaged $C4U reaches the server (the listener works)" || fail "unmanaged 853: $r"
ct=$(ing conntrack -L -s $C4U 2>/dev/null)
n_unm=$(echo "$ct" | grep -c "src=$C4U" || true)
n_marked=$(echo "$ct" | grep -c "mark=[12]" || true)
[ "$n_unm" -ge 3 ] && [ "$n_marked" -eq 0 ] &&
  pass "conntrack: $n_unm connections of $C4U, none marked by Vigie" || fail "conntrack for $C4U: $n_unm, marked $n_marked"

stop_vigie; rc=$?
[ $rc -eq 0 ] && pass "vigie run: clean exit" || fail "vigie exit $rc: $(tail -3 "$T/vigie.err")"

# ---- Vigie's counters and decision log ----------------------------------------------------------
while read -r line; do
  echo "$line"
  case $line in PASS*) PASS=$((PASS + 1)) ;; FAIL*) FAIL=$((FAIL + 1)) ;; esac
done < <(python3 - "$T/decisions.jsonl" "$T/summary.json" "$C4" "$C4U" "$blocked_tls" "$blocked_tricks" "$TTL1_PORT" \
  "$FRAG_DECOY_PORT" "$FRAG_BANNED_PORT" <<'PY'
import json, sys
log, summary, c4, c4u, ntls = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
ntricks, ttl1_port = int(sys.argv[6]), int(sys.argv[7])
frag_decoy, frag_banned = int(sys.argv[8]), int(sys.argv[9])
ev = [json.loads(l) for l in open(log, encoding="utf-8")]
def out(cond, msg):
    print(("PASS " if cond else "FAIL ") + msg)
def find(**kw):
    return [e for e in ev if all(e.get(k) == v for k, v in kw.items())]
raw = lambda e: 21000 <= e.get("src_port", 0) <= 21899
tls = [e for e in find(action="block", proto="tls", domain="www.tiktok.com", src_ip=c4) if not raw(e)]
out(len(tls) == ntls and {e["dest_port"] for e in tls} == {443, 8443},
    f"log: TLS blocks of www.tiktok.com on ports 443 and 8443 ({[e['dest_port'] for e in tls]})")
tricks = [e for e in find(action="block", domain="www.tiktok.com", src_ip=c4) if raw(e)]
out(len({e["src_port"] for e in tricks}) == ntricks,
    f"log: each raw trick's connection blocked as www.tiktok.com ({len({e['src_port'] for e in tricks})} of {ntricks})")
conflict = [e for e in tricks if e.get("reason") == "conflict"]
out(conflict and all(e.get("conflict", "").startswith("tcp_") for e in conflict),
    f"log: decoys' blocks have reason conflict, conflict tcp_* ({sorted({e.get('conflict') for e in conflict})})")
ttl1 = [e for e in ev if e.get("src_port") == ttl1_port]
out(ttl1 and all(e["action"] == "allow" for e in ttl1),
    f"log: the TTL-1 trick's connection is decided on the decoy alone ({[(e['action'], e.get('domain')) for e in ttl1]})")
dot = find(action="block", reason="port", dest_port=853, src_ip=c4)
out(len(dot) == 1, f"log: one DoT block, reason port, dest_port 853 ({len(dot)})")
http = find(action="block", proto="http", domain="www.tiktok.com", src_ip=c4)
out(len(http) == 1 and http[0]["dest_port"] == 80, f"log: the keep-alive second request blocked, proto http ({len(http)})")
tchap = [e for e in find(domain="tchap.gouv.fr", src_ip=c4) if e["action"] == "allow"]
out(len(tchap) >= 2 and all(e["reason"] == "allowlist" for e in tchap),
    f"log: tchap.gouv.fr allowed by the allow-list over TLS and HTTP ({sorted({e['proto'] for e in tchap})})")
out(not find(src_ip=c4u), "log: nothing from the unmanaged source")
s = json.load(open(summary, encoding="utf-8"))
c = s["counters"]
fd = [(e["action"], e.get("domain")) for e in ev if e.get("src_port") == frag_decoy]
out(len(fd) == 1 and fd[0][0] == "allow" and fd[0][1] != "www.tiktok.com",
    f"log: conflicting fragments, decoy first: one reading reached Vigie, the decoy ({fd})")
fb = [(e["action"], e.get("domain")) for e in ev if e.get("src_port") == frag_banned]
out(fb == [("block", "www.tiktok.com")], f"log: conflicting fragments, banned first: blocked ({fb})")
out(c.get("ip_fragment_conflicts", 0) == 0 and c.get("ip_fragments", 0) == 0,
    f"counters: ip_fragments {c.get('ip_fragments')}, ip_fragment_conflicts {c.get('ip_fragment_conflicts')}"
    " (the kernel reassembled before NFQUEUE)")
for k in ("tcp_urgent", "tcp_md5_unkeyed", "tcp_ttl_suspect", "tcp_overlap_conflicts"):
    out(c.get(k, 0) > 0, f"counters: {k} {c.get(k)}")
out(c.get("packets_unmanaged", 0) == 0,
    f"counters: packets_unmanaged {c.get('packets_unmanaged')} (neither the unmanaged source nor replies are queued)")
PY
)

rules down
ing iptables -w -S | grep -q VIGIE && fail "rules down left chains" || pass "vigie-iptables.sh down removes the chains"
finish
