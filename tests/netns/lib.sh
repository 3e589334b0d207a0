# Shared helpers for the network-namespace tests (sourced, bash).
#
# Topology (every name carries this run's id, so parallel runs do not clash):
#
#   client ns  c0 ===== g0  gateway ns  g1 ===== s0  server ns
#   10.20.5.10/24 (managed)     10.20.5.1     192.0.2.1   192.0.2.53 (dnsmasq)
#   10.20.5.17/24 (exception)   198.51.100.1  fd00:30::1  192.0.2.80 (nginx, TLS)
#   198.51.100.10/24 (unmanaged) fd00:20::1               fd00:30::53, fd00:30::80
#   fd00:20::10/64 (managed)
#
# Traffic goes only to addresses inside these namespaces. cleanup() (trap EXIT)
# kills every process started here and deletes the namespaces.

set -u
ID=${ID:-$$}
NS_C=vgc$ID
NS_G=vgg$ID
NS_S=vgs$ID
T=$(mktemp -d /tmp/vigie-netns.XXXXXX)
PIDS=()
VIGIE_PID=
PASS=0
FAIL=0

C4=10.20.5.10
C4X=10.20.5.17
C4U=198.51.100.10
C6=fd00:20::10
DNS4=192.0.2.53
DNS6=fd00:30::53
WEB4=192.0.2.80
WEB6=fd00:30::80

say() { echo "$*"; }
pass() { PASS=$((PASS + 1)); echo "PASS $*"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }
check() {  # check "description" command...
  local d=$1; shift
  if "$@" >/dev/null 2>&1; then pass "$d"; else fail "$d"; fi
}
skip() { echo "SKIP: $*"; exit 77; }
finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
}

cleanup() {
  set +e
  [ -n "$VIGIE_PID" ] && kill -9 "$VIGIE_PID" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.2
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  for ns in "$NS_C" "$NS_G" "$NS_S"; do
    # anything still running inside (chromium helpers, ...)
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "/etc/netns/$NS_C"
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

inc() { ip netns exec "$NS_C" "$@"; }
ing() { ip netns exec "$NS_G" "$@"; }
ins() { ip netns exec "$NS_S" "$@"; }

require_env() {
  [ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, NFQUEUE)"
  for t in ip iptables ip6tables dnsmasq nginx dig curl openssl; do
    command -v "$t" >/dev/null || { echo "missing tool: $t (run deploy/install-deps.sh)"; exit 1; }
  done
  ip netns add "$NS_G" 2>/dev/null || skip "kernel lacks network namespaces (ip netns add failed)"
  ip netns del "$NS_G"
}

make_topology() {
  ip netns add "$NS_C"; ip netns add "$NS_G"; ip netns add "$NS_S"
  ip link add c0 netns "$NS_C" type veth peer name g0 netns "$NS_G" ||
    skip "kernel lacks veth"
  ip link add s0 netns "$NS_S" type veth peer name g1 netns "$NS_G"
  for ns in "$NS_C" "$NS_G" "$NS_S"; do ip -n "$ns" link set lo up; done
  ip -n "$NS_C" link set c0 up; ip -n "$NS_G" link set g0 up
  ip -n "$NS_G" link set g1 up; ip -n "$NS_S" link set s0 up
  ip -n "$NS_C" addr add $C4/24 dev c0
  ip -n "$NS_C" addr add $C4X/24 dev c0
  ip -n "$NS_C" addr add $C4U/24 dev c0
  ip -n "$NS_C" addr add $C6/64 dev c0 nodad
  ip -n "$NS_G" addr add 10.20.5.1/24 dev g0
  ip -n "$NS_G" addr add 198.51.100.1/24 dev g0
  ip -n "$NS_G" addr add fd00:20::1/64 dev g0 nodad
  ip -n "$NS_G" addr add 192.0.2.1/24 dev g1
  ip -n "$NS_G" addr add fd00:30::1/64 dev g1 nodad
  ip -n "$NS_S" addr add $DNS4/24 dev s0
  ip -n "$NS_S" addr add $WEB4/24 dev s0
  ip -n "$NS_S" addr add $DNS6/64 dev s0 nodad
  ip -n "$NS_S" addr add $WEB6/64 dev s0 nodad
  ip -n "$NS_C" route add default via 10.20.5.1
  ip -n "$NS_C" -6 route add default via fd00:20::1
  ip -n "$NS_S" route add default via 192.0.2.1
  ip -n "$NS_S" -6 route add default via fd00:30::1
  ing sysctl -qw net.ipv4.ip_forward=1
  ing sysctl -qw net.ipv6.conf.all.forwarding=1
  # Offloads off: forwarded segments stay as the client sent them.
  for dev in g0 g1; do ing ethtool -K "$dev" gro off gso off tso off >/dev/null 2>&1 || true; done
  # resolv.conf for processes started with `ip netns exec` in the client
  mkdir -p "/etc/netns/$NS_C"
  echo "nameserver $DNS4" > "/etc/netns/$NS_C/resolv.conf"
  # The kernel must have NFQUEUE, conntrack and connmark for inline mode.
  ing iptables -w -A FORWARD -p udp --dport 9 -m conntrack --ctdir ORIGINAL \
      -j NFQUEUE --queue-num 0 --queue-bypass 2>/dev/null ||
    skip "kernel lacks xt_NFQUEUE or xt_conntrack (iptables -j NFQUEUE / -m conntrack --ctdir failed)"
  ing iptables -w -A FORWARD -m connmark --mark 0x1/0x3 -j CONNMARK --save-mark --nfmask 0x3 --ctmask 0x3 2>/dev/null ||
    skip "kernel lacks xt_connmark (CONNMARK target failed)"
  ing iptables -w -F FORWARD
  ing ip6tables -w -A FORWARD -p udp --dport 9 -j NFQUEUE --queue-num 0 --queue-bypass 2>/dev/null ||
    skip "kernel lacks ip6tables NFQUEUE"
  ing ip6tables -w -F FORWARD
}

# Test CA and one server certificate for every test name.
make_certs() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Vigie test CA" \
    -keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=vigie-test-server" \
    -keyout "$T/srv.key" -out "$T/srv.csr" >/dev/null 2>&1
  printf 'subjectAltName=DNS:www.tiktok.com,DNS:web.whatsapp.com,DNS:tchap.gouv.fr,DNS:www.wikipedia.org\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$T/ext.cnf"
  openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
    -extfile "$T/ext.cnf" -out "$T/srv.pem" >/dev/null 2>&1
}

start_servers() {
  make_certs
  local hr=""
  for n in www.tiktok.com web.whatsapp.com tchap.gouv.fr www.wikipedia.org; do
    hr="$hr --host-record=$n,$WEB4,$WEB6"
  done
  ip netns exec "$NS_S" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces --user=root --pid-file= \
    --listen-address=$DNS4 --listen-address=$DNS6 --except-interface=lo --port=${DNS_PORT:-53} \
    --log-facility="$T/dnsmasq.log" $hr &
  PIDS+=($!)
  mkdir -p "$T/nginx"
  cat > "$T/nginx.conf" <<NGX
daemon off;
user root;
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $T/nginx/body;
  proxy_temp_path $T/nginx/proxy;
  fastcgi_temp_path $T/nginx/fastcgi;
  uwsgi_temp_path $T/nginx/uwsgi;
  scgi_temp_path $T/nginx/scgi;
  server {
    listen $WEB4:443 ssl;
    listen [$WEB6]:443 ssl;
    listen $WEB4:80;
    ${NGINX_EXTRA_LISTEN:-}
    ssl_certificate $T/srv.pem;
    ssl_certificate_key $T/srv.key;
    location / { default_type text/html; return 200 "<html><title>ok</title><body>hello from \$host</body></html>\n"; }
  }
}
NGX
  ip netns exec "$NS_S" nginx -p "$T/nginx" -c "$T/nginx.conf" -e "$T/nginx/error.log" &
  PIDS+=($!)
  local i
  for i in $(seq 50); do
    if ins bash -c "exec 3<>/dev/tcp/$WEB4/443" 2>/dev/null && \
       ins dig +short +time=1 +tries=1 -p ${DNS_PORT:-53} @$DNS4 www.wikipedia.org 2>/dev/null | grep -q "$WEB4"; then
      return 0
    fi
    sleep 0.1
  done
  echo "servers did not start"; cat "$T/nginx/error.log" "$T/dnsmasq.log" 2>/dev/null; exit 1
}

# write_config FILE fail(open|closed) [mode] [extra toml]
# GW_USER: [gateway] user (default "": the tests run as root and stay root);
# LISTS_DIR: [lists] dir; LOG_MODE: [log] mode.
write_config() {
  local f=$1 failmode=$2 mode=${3:-inline} extra=${4:-}
  cat > "$f" <<TOML
[gateway]
mode = "$mode"
queues = [0, 1]
interfaces = ["g0"]
enforce = "inject"
fail = "$failmode"
user = "${GW_USER-}"

[scope]
managed = ["10.20.5.0/24", "fd00:20::/64"]

[lists]
dir = "${LISTS_DIR:-$SOURCE_DIR/lists/apps}"

[[policy]]
apps = ["tiktok", "twitter", "instagram", "netflix", "candycrush", "dating",
        "whatsapp", "telegram", "signal", "snapchat"]
action = "block"

[[policy]]
apps = ["olvid", "tchap", "wimi"]
action = "allow"

# Every list must be in a [[policy]] (as in deploy/vigie.toml).
[[policy]]
apps = ["doh", "canary"]
action = "block"

[[policy]]
apps = ["facebook"]
action = "log"

[[exception]]
id = "netns-test-whatsapp"
devices = ["$C4X/32"]
apps = ["whatsapp"]
until = "2099-12-31"
reason = "integration test"
ticket = "TEST-5"

[dns]
block_answer = "nxdomain"

[log]
path = "$T/decisions.jsonl"
mode = "${LOG_MODE:-decisions}"
$extra
TOML
}

# rules up --config FILE | rules down: the rules `vigie rules iptables` generates.
rules() {
  local cmd=$1; shift
  ing "$SOURCE_DIR/deploy/rules/vigie-iptables.sh" "$cmd" --vigie "$VIGIE" "$@"
}

# start_vigie CONFIG [vigie run options]: runs `vigie run` in the gateway and waits for "ready".
start_vigie() {
  local cfg=$1; shift
  : > "$T/vigie.err"
  # not through ing(): a backgrounded function would be a subshell, and $! its pid
  ip netns exec "$NS_G" "$VIGIE" run --config "$cfg" --summary-json "$T/summary.json" "$@" 2>>"$T/vigie.err" &
  VIGIE_PID=$!
  local i
  for i in $(seq 100); do
    grep -q "ready" "$T/vigie.err" && return 0
    kill -0 "$VIGIE_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "vigie did not start:"; cat "$T/vigie.err"; return 1
}
stop_vigie() {  # SIGTERM, wait for the clean exit; returns vigie's status
  [ -n "$VIGIE_PID" ] || return 0
  kill -TERM "$VIGIE_PID" 2>/dev/null
  local rc=0
  wait "$VIGIE_PID" || rc=$?
  VIGIE_PID=
  return $rc
}
kill9_vigie() {
  kill -9 "$VIGIE_PID" 2>/dev/null
  wait "$VIGIE_PID" 2>/dev/null
  VIGIE_PID=
}

# dig from the client: dig_c SRC SERVER NAME [TYPE] [extra dig options]
dig_c() {
  local src=$1 srv=$2 name=$3 type=${4:-A}; shift 4 2>/dev/null || shift $#
  # Three tries, as a stub resolver makes: one lost datagram is not a verdict.
  inc dig +time=2 +tries=3 -b "$src" @"$srv" "$name" "$type" "$@"
}
# curl from the client: curl_c SRC NAME [ADDR] [extra]: prints "exit=N time=S"
curl_c() {
  local src=$1 name=$2 addr=${3:-$WEB4}; shift 3 2>/dev/null || shift $#
  local a=$addr; [[ $addr == *:* ]] && a="[$addr]"
  local out rc=0
  out=$(inc curl -sS -o "$T/curl.body" -w '%{time_total}' --max-time 4 --cacert "$T/ca.pem" \
        --interface "$src" --resolve "$name:443:$addr" "$@" "https://$name/" 2>"$T/curl.err") || rc=$?
  echo "exit=$rc time=${out:-0} err=$(head -c 200 "$T/curl.err" | tr '\n' ' ')"
}
