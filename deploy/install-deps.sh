#!/usr/bin/env bash
# Installs what Vigie needs to build and test on Debian 12, from Debian's archive
# only. Idempotent: packages already present are not touched, and apt is not
# even called when nothing is missing.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config ninja-build
  libpcap-dev libldns-dev libabsl-dev libtomlplusplus-dev libidn2-dev
  libnetfilter-queue-dev libssl-dev libcap-dev
  # sd_notify: readiness and reload for the Type=notify unit
  libsystemd-dev
  libboost-dev libboost-program-options-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-jsonschema publicsuffix
  # live modes (vigie run) and their network-namespace tests (tests/netns)
  iptables nftables conntrack iproute2 ethtool
  dnsmasq-base nginx-light openssl curl bind9-dnsutils chromium
  # the .deb and its checks (tests/package): dpkg-shlibdeps for Depends, man -l,
  # systemd-analyze verify/security, logrotate -d
  dpkg-dev man-db groff-base systemd logrotate
  # deploy/build-matrix.sh and the libFuzzer targets
  clang
  # vigie report: JSON lines (nlohmann-json) and gzip logs (zlib)
  nlohmann-json3-dev zlib1g-dev
  # tests: Community ID against tshark; real Prometheus and rsyslog servers;
  # the Ansible playbook's syntax check
  tshark prometheus rsyslog ansible-core
  # bench/: nDPI, the peer baseline of BM_Replay; iperf3 for bench/inline_bench.sh
  libndpi-dev iperf3
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
