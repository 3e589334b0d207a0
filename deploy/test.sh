#!/usr/bin/env bash
# README command 2 (and .ci/run): install what is missing, then
#   1. plain:     build everything (GCC, RelWithDebInfo, -Werror), run every test;
#   2. sanitized: build with ASan+UBSan (-DVIGIE_SANITIZE=ON) in build-asan/,
#                 with clang when present (then also -DVIGIE_FUZZ=ON: the same
#                 instrumented libraries serve the libFuzzer binaries), and
#                 run the unit, corpus, e2e and fuzz-replay tests under it,
#                 LeakSanitizer on (netns tests, the .deb, the floods, whose
#                 peak-RSS caps the sanitizers' shadow memory would break,
#                 and tests that do not run vigie's code stay with the plain
#                 build); the sanitizer canaries (tests/sanitize) fail the
#                 stage if a sanitizer is silently off;
#   3. fuzz:      with clang, run each libFuzzer target for
#                 VIGIE_FUZZ_SECONDS (default 4) seconds, two at a time; an
#                 input that breaks a contract fails the run and is saved
#                 under build-asan/fuzz-crashes/<target>/ (the path is printed).
# Each stage prints its wall time. VIGIE_CI_STAGES picks stages, e.g.
# VIGIE_CI_STAGES=plain deploy/test.sh. The default runs all three, within
# CI's 30 minutes on 2 cores (README "Two commands" gives the measured times).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
JOBS="$(nproc)"
STAGES="${VIGIE_CI_STAGES:-plain sanitized fuzz}"
FUZZ_SECONDS="${VIGIE_FUZZ_SECONDS:-4}"
have_clang() { command -v clang++ >/dev/null && command -v clang >/dev/null; }
stage_start() { STAGE_T0=$SECONDS; echo "==== $1"; }
stage_end() { echo "==== $1: $((SECONDS - STAGE_T0)) s"; }

plain() {
  stage_start plain
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIE_WERROR=ON
  cmake --build build -j"$JOBS"
  ctest --test-dir build --output-on-failure -j"$JOBS" --timeout 600
  stage_end plain
}

# Tests that run none of vigie's code under the sanitizers, or that need the
# plain build (netns: root namespaces, run serially; package: the .deb).
readonly SANITIZED_EXCLUDE='^(ansible_playbook|grafana_dashboard_series|report_html_chromium|bundled_sample_is_generated|installed_tree_finds_default_config|mkpcap_selftest|eve_validator_rejects_invalid_lines|lists_.*)$'

configure_asan() {
  local cc=() fuzz=OFF
  if have_clang; then
    cc=(-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++)
    fuzz=ON
  fi
  # -O1 -g1: ASan's usual trade-off (fast enough, line numbers in reports).
  cmake -S . -B build-asan "${cc[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DVIGIE_SANITIZE=ON -DVIGIE_FUZZ="$fuzz" -DVIGIE_BUILD_BENCH=OFF -DVIGIE_WERROR=OFF
}

sanitized() {
  stage_start sanitized
  configure_asan
  cmake --build build-asan -j"$JOBS"
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    ctest --test-dir build-asan --output-on-failure -j"$JOBS" --timeout 900 \
      -LE 'netns|package|flood' -E "$SANITIZED_EXCLUDE"
  stage_end sanitized
}

# run_fuzzer TARGET: one bounded libFuzzer run; a new corpus in build-asan/
# fuzz-corpus/, the regression inputs as extra seeds (read only).
run_fuzzer() {
  local t=$1 bin=build-asan/tests/fuzz/fuzz_$1
  local crashes=build-asan/fuzz-crashes/$t corpus=build-asan/fuzz-corpus/$t
  mkdir -p "$crashes" "$corpus"
  if ASAN_OPTIONS="detect_leaks=1" "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=30 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" "tests/fuzz/regressions/$t" \
      >"$crashes/log.txt" 2>&1; then
    echo "fuzz_$t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$crashes/log.txt" | grep -o '[0-9]*$') runs, no crash"
    return 0
  fi
  tail -40 "$crashes/log.txt"
  local f
  for f in "$crashes"/crash-* "$crashes"/leak-* "$crashes"/timeout-* "$crashes"/oom-*; do
    [ -e "$f" ] || continue
    echo "fuzz_$t: contract broken; input saved as $PWD/$f"
    echo "  reproduce: build/tests/fuzz/fuzz_replay_$t $f   (or $bin $f)"
    echo "  keep it:   cp $f tests/fuzz/regressions/$t/   (ctest replays it from then on)"
  done
  return 1
}

fuzz() {
  if ! have_clang; then
    echo "==== fuzz: skipped (no clang)"
    return 0
  fi
  stage_start fuzz
  configure_asan
  cmake --build build-asan -j"$JOBS" --target vigie_fuzzers  # nothing to do after the sanitized stage
  local targets=() t failed=0 pids=()
  for t in tests/fuzz/regressions/*/; do targets+=("$(basename "$t")"); done
  for t in "${targets[@]}"; do
    [ -x "build-asan/tests/fuzz/fuzz_$t" ] || { echo "fuzz_$t: not built"; failed=1; continue; }
    run_fuzzer "$t" &
    pids+=($!)
    if [ ${#pids[@]} -ge "$JOBS" ]; then
      wait "${pids[0]}" || failed=1
      pids=("${pids[@]:1}")
    fi
  done
  for t in "${pids[@]}"; do wait "$t" || failed=1; done
  stage_end fuzz
  return $failed
}

T0=$SECONDS
for s in $STAGES; do
  case "$s" in
    plain | sanitized | fuzz) "$s" ;;
    *) echo "deploy/test.sh: unknown stage '$s' (plain, sanitized, fuzz)" >&2; exit 2 ;;
  esac
done
echo "==== deploy/test.sh: $((SECONDS - T0)) s in all"
