#!/usr/bin/env bash
# Builds the gpuq binary into build/master/gpuq (installing missing Debian packages first).
# Only the binary: tests and benchmarks are built by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target gpuq
