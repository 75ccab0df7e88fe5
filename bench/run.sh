#!/usr/bin/env bash
# gpuq's benchmark harness (issue 6). Builds the master and the micro-benchmarks, then runs
# every workload on simulated nodes (real sshd on loopback) with a fresh master each, and
# prints one table plus bench/out/bench-<time>.json with the raw figures.
#
#   bench/run.sh [--quick] [--vs-slurm] [--only micro,latency,makespan,throughput,polling,api]
#
#   --quick     smaller sizes, under 2 minutes (the table names the sizes it used)
#   --vs-slurm  also runs the same workloads through Slurm (installs slurm-wlm and munge
#               from Debian if missing) on a one-node, 8-GPU cluster, default and tuned
# Exit status 1 when a row misses its target. GPUQ_BUILD_DIR picks another build folder.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${GPUQ_BUILD_DIR:-build}
for arg in "$@"; do
  if [ "$arg" = --vs-slurm ]; then bench/slurm/install.sh; fi
done
scripts/install-deps.sh
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGPUQ_BUILD_BENCH=ON >/dev/null
elif ! grep -q policy_bench "$build/build.ninja"; then
  cmake -S . -B "$build" -DGPUQ_BUILD_BENCH=ON >/dev/null  # keeps the folder's other options
fi
cmake --build "$build" -j"$(nproc)" --target gpuq policy_bench parse_bench >/dev/null
GPUQ_BUILD_DIR=$(cd "$build" && pwd) exec python3 bench/bench.py "$@"
