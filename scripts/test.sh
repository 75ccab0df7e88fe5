#!/usr/bin/env bash
# Installs what is missing, builds with -Werror, and runs every test:
#   1. unit tests and parser fixtures, then integration tests on real sshd nodes with
#      simulated GPUs (ctest, build/);
#   2. the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/);
#   3. a short libFuzzer run of each parser (build-fuzz/).
# Environment: FUZZ_SECONDS (default 10 per parser), SKIP_ASAN=1, SKIP_FUZZ=1.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
scripts/install-deps.sh
jobs=$(nproc)

echo "== build (-Werror)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGPUQ_WERROR=ON \
  -DGPUQ_BUILD_TESTS=ON -DGPUQ_BUILD_BENCH=ON >/dev/null
cmake --build build -j"$jobs"

echo "== unit and integration tests"
(cd build && ctest --output-on-failure -j2 --timeout 600)

if [ "${SKIP_ASAN:-0}" != 1 ]; then
  echo "== unit tests under ASan + UBSan"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DGPUQ_SANITIZE=ON -DGPUQ_WERROR=ON \
    -DGPUQ_BUILD_BENCH=OFF >/dev/null
  # Only the unit test binaries: the integration tests use the normal build.
  targets=$(cmake --build build-asan --target help | sed -n 's/^\([a-z_]*_tests\):.*/\1/p')
  cmake --build build-asan -j"$jobs" --target $targets
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest -L unit --output-on-failure -j2)
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzzing the parsers"
  scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
fi

echo "== all tests passed in $(( $(date +%s) - started )) s"
