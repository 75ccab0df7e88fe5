#ifndef GPUQ_BENCH_POLICY_WORKLOAD_H_
#define GPUQ_BENCH_POLICY_WORKLOAD_H_

// The synthetic clusters and queues the policy benchmark schedules (policy_bench.cc):
// 100 nodes x 8 GPUs and 10 000 queued tasks, generated from a seed so every run sees the
// same input.

#include <cstdint>
#include <string>
#include <vector>

#include "common/policy.h"
#include "common/snapshot.h"

namespace gpuq::bench {

inline constexpr gpuq::UnixMs kNow = 1'700'000'000'000;
inline constexpr int64_t kGiB = 1024;
inline constexpr int kNodes = 100;
inline constexpr int kGpusPerNode = 8;
inline constexpr int kQueue = 10'000;
inline constexpr int kSamples = 10;  // the window the master hands the policy

// A small deterministic generator, so every run benchmarks the same input.
struct Lcg {
  uint64_t state;
  uint32_t Next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state >> 33);
  }
  int Below(int n) { return static_cast<int>(Next() % static_cast<uint32_t>(n)); }
};

enum class Load { kIdle, kMixed, kBusy };

inline ClusterSnapshot MakeCluster(Load load, uint64_t seed = 42) {
  Lcg rng{seed};
  ClusterSnapshot s;
  s.now = kNow;
  int64_t run = 1;
  for (int n = 0; n < kNodes; ++n) {
    NodeView node;
    node.id = gpuq::NodeId(n + 1);
    node.name = "gpu" + std::to_string(n + 1);
    node.available = n % 50 != 49;  // two nodes down
    if (!node.available) node.unavailable_reason = "connection refused";
    for (int g = 0; g < kGpusPerNode; ++g) {
      GpuView gpu;
      gpu.index = g;
      gpu.uuid = "GPU-" + node.name + "-" + std::to_string(g);
      gpu.model = n < 60 ? "NVIDIA A100-SXM4-80GB" : "NVIDIA H100 80GB HBM3";
      gpu.mem_total_mib = 80 * kGiB;
      bool held = load == Load::kBusy || (load == Load::kMixed && rng.Below(2) == 0);
      int64_t used = 0;
      if (held) {
        GpuAllocation a;
        a.run = gpuq::RunId(run);
        a.task = gpuq::TaskId(100'000 + run);
        ++run;
        a.started_at = kNow - 3'600'000;
        a.process_seen = rng.Below(20) != 0;  // a few still starting: promised memory
        a.share = rng.Below(4) == 0;
        a.mem_mib = a.share ? 20 * kGiB : 0;
        a.observed_mem_mib = 10 * kGiB + rng.Below(30) * kGiB;
        if (rng.Below(3) != 0) a.expected_end = kNow + 60'000 * (1 + rng.Below(600));
        used = a.observed_mem_mib;
        gpu.allocations.push_back(a);
        ++node.running_runs;
        ++s.running_total;
        ++s.running_per_user["user" + std::to_string(rng.Below(20))];
      } else if (load == Load::kMixed && rng.Below(10) == 0) {
        used = 30 * kGiB;  // someone else's process
        gpuq::GpuProcess p;
        p.pid = 4000 + g;
        p.mem_mib = used;
        gpu.foreign_processes.push_back(p);
      }
      for (int k = 0; k < kSamples; ++k) {
        gpu.recent_mem_used_mib.push_back(used + rng.Below(512));
        gpu.recent_util_pct.push_back(used > 0 ? 50 + rng.Below(50) : rng.Below(3));
      }
      node.gpus.push_back(std::move(gpu));
    }
    s.nodes.push_back(std::move(node));
  }
  for (int u = 0; u < 20; ++u) s.user_gpu_hours["user" + std::to_string(u)] = u * 3.5;
  return s;
}

inline std::vector<TaskRequest> MakeQueue(Load load, uint64_t seed = 7, int size = kQueue) {
  Lcg rng{seed};
  std::vector<TaskRequest> queue;
  queue.reserve(static_cast<size_t>(size));
  for (int i = 0; i < size; ++i) {
    TaskRequest t;
    t.id = gpuq::TaskId(i + 1);
    t.user = "user" + std::to_string(rng.Below(20));
    t.submitted_at = kNow - 1000 * (size - i);
    if (load == Load::kIdle) {
      t.gpus = 1;
    } else {
      static constexpr int kSizes[] = {1, 1, 1, 1, 2, 2, 4, 8};
      t.gpus = kSizes[rng.Below(8)];
      if (rng.Below(2) == 0) t.mem_mib = (8 + rng.Below(64)) * kGiB;
      if (rng.Below(10) == 0) t.util_pct = 50;
      if (rng.Below(20) == 0) t.exclusive = true;
      if (t.mem_mib > 0 && rng.Below(5) == 0) t.share = true;
      if (rng.Below(10) == 0) t.gpu_model = rng.Below(2) == 0 ? "A100" : "H100";
      if (rng.Below(50) == 0) t.node = "gpu" + std::to_string(1 + rng.Below(kNodes));
      if (rng.Below(10) == 0) t.priority = rng.Below(3);
      if (rng.Below(100) == 0) t.gpu_ids = {0, 1, 2, 3};
      if (rng.Below(20) == 0) t.prefer_gpus = {7, 6};
      if (rng.Below(200) == 0) t.gpus = 0;  // CPU-only
      if (t.gpus == 0) {                    // what a CPU-only task may not ask for
        t.mem_mib = 0;
        t.util_pct = 0;
        t.exclusive = t.share = false;
        t.gpu_model.clear();
      }
      if (rng.Below(2) == 0) t.time_limit_s = 600 * (1 + rng.Below(24));
    }
    queue.push_back(std::move(t));
  }
  return queue;
}

}  // namespace gpuq::bench

#endif  // GPUQ_BENCH_POLICY_WORKLOAD_H_
