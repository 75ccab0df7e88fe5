// Micro-benchmarks of the scheduling policy (common/policy.h): one pass over a queue of
// 10 000 tasks against 100 nodes x 8 GPUs. Target (issue 6): one pass under 5 ms.
//   build/bench/policy_bench [--benchmark_filter=Busy]
// Cases:
//   Busy   every GPU held by a run, the queue waits: the steady state of a full lab, where
//          every pass explains why each task waits.
//   Mixed  half of the GPUs held (some by sharing runs, some with foreign use), a queue of
//          mixed sizes, memory needs, models, priorities and users: some placements, a
//          reservation, many waiting reasons.
//   Idle   an idle cluster: 800 one-GPU placements, the rest wait.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bench/policy_workload.h"
#include "common/policy.h"

namespace {

using gpuq::bench::Load;
using gpuq::bench::MakeCluster;
using gpuq::bench::MakeQueue;

void SchedulePass(benchmark::State& state, Load load) {
  const gpuq::ClusterSnapshot snapshot = MakeCluster(load);
  const std::vector<gpuq::TaskRequest> queue = MakeQueue(load);
  size_t placed = 0;
  for (auto _ : state) {
    gpuq::Decision d = gpuq::Schedule(snapshot, queue);
    placed = d.placements.size();
    benchmark::DoNotOptimize(d);
  }
  state.counters["placed"] = static_cast<double>(placed);
  state.counters["queue"] = static_cast<double>(queue.size());
}

void BM_SchedulePass_Busy(benchmark::State& state) { SchedulePass(state, Load::kBusy); }
void BM_SchedulePass_Mixed(benchmark::State& state) { SchedulePass(state, Load::kMixed); }
void BM_SchedulePass_Idle(benchmark::State& state) { SchedulePass(state, Load::kIdle); }

BENCHMARK(BM_SchedulePass_Busy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SchedulePass_Mixed)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SchedulePass_Idle)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
