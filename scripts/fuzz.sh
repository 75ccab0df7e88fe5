#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang and runs each for SECONDS
# (default 10), seeded from the matching captured outputs in tests/data/. The corpus and
# any crash inputs live under build-fuzz/, so the source tree stays clean.
# Exits non-zero if a fuzzer finds a crash, a leak, a timeout or a sanitizer error.
#
#   scripts/fuzz.sh          # 10 s per fuzzer
#   scripts/fuzz.sh 300      # longer, e.g. before a release
set -euo pipefail

SECONDS_PER_FUZZER="${1:-10}"
case "$SECONDS_PER_FUZZER" in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build-fuzz"
JOBS="${GPUQ_JOBS:-2}"

command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (scripts/install-deps.sh)" >&2; exit 1; }

GENERATOR=()
command -v ninja >/dev/null && GENERATOR=(-G Ninja)
[ -f "$BUILD/CMakeCache.txt" ] && GENERATOR=()  # keep the generator of an existing build
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" "${GENERATOR[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGPUQ_BUILD_FUZZ=ON -DGPUQ_BUILD_TESTS=ON -DGPUQ_BUILD_BENCH=OFF >/dev/null

# fuzzer name -> fixture glob in tests/data/
declare -A SEEDS=(
  [query_gpu_fuzzer]='nvidia_smi_query_gpu_*.txt'
  [compute_apps_fuzzer]='nvidia_smi_compute_apps_*.txt'
  [gpustat_fuzzer]='gpustat_*.json'
)
FUZZERS=(query_gpu_fuzzer compute_apps_fuzzer gpustat_fuzzer)

cmake --build "$BUILD" --target "${FUZZERS[@]}" -j "$JOBS"

failed=()
for name in "${FUZZERS[@]}"; do
  corpus="$BUILD/corpus/$name"
  crashes="$BUILD/crashes/$name"
  mkdir -p "$corpus" "$crashes"
  # shellcheck disable=SC2086  # the glob is meant to expand
  cp "$ROOT"/tests/data/${SEEDS[$name]} "$corpus"/
  log="$BUILD/$name.log"
  echo "fuzz: $name for ${SECONDS_PER_FUZZER}s (corpus $corpus)"
  bin="$(find "$BUILD" -type f -name "$name" -perm -u+x | head -n 1)"
  if "$bin" -max_total_time="$SECONDS_PER_FUZZER" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1; then
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    echo "fuzz: $name ok: ${execs:-?} runs, corpus $(find "$corpus" -type f | wc -l) inputs"
  else
    echo "fuzz: $name FAILED; log $log, inputs in $crashes/" >&2
    grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$log" | head -n 20 >&2 || true
    failed+=("$name")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#FUZZERS[@]} fuzzers ran ${SECONDS_PER_FUZZER}s each without a finding"
