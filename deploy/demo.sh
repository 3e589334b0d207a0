#!/usr/bin/env bash
# README command 1: install what is missing, build, and replay the bundled
# sample capture with the default policy, printing decisions and a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target vigie >/dev/null
echo "== vigie replay deploy/sample/ministry-sample.pcap (default policy: deploy/vigie.toml) =="
build/vigie replay --log - deploy/sample/ministry-sample.pcap "$@"
