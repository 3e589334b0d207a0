#!/usr/bin/env bash
# Issue 14's build matrix: every build type with GCC and with Clang builds every
# target with no warning at all.
#
#   deploy/build-matrix.sh                      # all eight: {gcc,clang} x {Release,Debug,RelWithDebInfo,MinSizeRel}
#   deploy/build-matrix.sh gcc-Release clang-Debug   # only these
#
# Each configuration builds in build-matrix/<cc>-<type> (git-ignored) with
# -DVIGIE_WERROR=OFF, so that one warning does not hide the others: the build log
# (build-matrix/<cc>-<type>/build.log) is searched for "warning:" instead, and
# any hit fails the configuration. Configurations run one after another, at
# nice 10, with -j"${JOBS:-2}" (a shared machine: set JOBS to go faster alone).
# Builds are incremental: a rerun only rebuilds what changed, and only the
# files it recompiles can warn (delete the directory for a full check).
# Exit status: 0 when every configuration built with no warning, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

readonly ALL_CONFIGS=(
  gcc-Release gcc-Debug gcc-RelWithDebInfo gcc-MinSizeRel
  clang-Release clang-Debug clang-RelWithDebInfo clang-MinSizeRel
)
JOBS="${JOBS:-2}"
configs=("$@")
if [ ${#configs[@]} -eq 0 ]; then configs=("${ALL_CONFIGS[@]}"); fi

failed=()
for c in "${configs[@]}"; do
  cc="${c%%-*}"
  type="${c#*-}"
  case "$cc" in
    gcc) CC_BIN=gcc CXX_BIN=g++ ;;
    clang) CC_BIN=clang CXX_BIN=clang++ ;;
    *) echo "build-matrix: $c: compiler must be gcc or clang" >&2; exit 2 ;;
  esac
  case "$type" in
    Release | Debug | RelWithDebInfo | MinSizeRel) ;;
    *) echo "build-matrix: $c: unknown build type $type" >&2; exit 2 ;;
  esac
  if ! command -v "$CXX_BIN" >/dev/null; then
    echo "build-matrix: $c: FAIL ($CXX_BIN not installed; apt-get install ${cc/gcc/g++})" >&2
    failed+=("$c")
    continue
  fi
  dir="build-matrix/$c"
  log="$dir/build.log"
  mkdir -p "$dir"
  echo "build-matrix: $c: building in $dir" >&2
  if ! CC="$CC_BIN" CXX="$CXX_BIN" cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" \
        -DVIGIE_WERROR=OFF >"$log" 2>&1 ||
     ! nice -n 10 cmake --build "$dir" -j"$JOBS" >>"$log" 2>&1; then
    echo "build-matrix: $c: FAIL (build error, see $log)" >&2
    grep -m 20 -E "error|Error" "$log" >&2
    failed+=("$c")
    continue
  fi
  # CMake's own warnings ("CMake Warning") count too.
  if grep -E "warning:|CMake Warning" "$log" >"$dir/warnings.txt"; then
    echo "build-matrix: $c: FAIL ($(wc -l <"$dir/warnings.txt") warning lines, see $log)" >&2
    head -n 20 "$dir/warnings.txt" >&2
    failed+=("$c")
    continue
  fi
  echo "build-matrix: $c: ok" >&2
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "build-matrix: failed: ${failed[*]}" >&2
  exit 1
fi
echo "build-matrix: all ok: ${configs[*]}" >&2
