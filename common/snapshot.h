#ifndef GPUQ_COMMON_SNAPSHOT_H_
#define GPUQ_COMMON_SNAPSHOT_H_

// What the scheduling policy (common/policy.h) sees: one immutable picture of the cluster
// per scheduling cycle (Kubernetes' cache/snapshot.go), and the queued tasks as requests.
// Plain values: the scheduling loop (master/sched/) builds them from the store and the node
// links; the policy only reads them. Nothing here does I/O or reads the clock.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/gpu.h"
#include "common/ids.h"

namespace gpuq {

// A gpuq run that holds a GPU (status starting or running).
struct GpuAllocation {
  RunId run;
  TaskId task;
  // The run's task declared --share and a memory need: other sharing tasks may join this
  // GPU while the declared memory of all of them fits. An allocation with share set but
  // mem_mib <= 0 is treated as not shared (a task with no memory need cannot share).
  bool share = false;
  int64_t mem_mib = 0;    // the task's declared memory need on this GPU (0 = none)
  UnixMs started_at = 0;  // when the run was marked starting
  // A process of this run has been seen on this GPU. Until then (and for at most
  // PolicyOptions::promise_grace_ms after started_at) mem_mib counts as used memory.
  bool process_seen = false;
  // Memory the run's processes use on this GPU in the latest sample (0 when none seen).
  // Lets the policy tell foreign use from gpuq use: foreign use = window max of used
  // memory - sum of observed_mem_mib of the GPU's allocations.
  int64_t observed_mem_mib = 0;
  // started_at + the task's time limit; empty when the task has no time limit (such a run
  // never ends for reservation purposes).
  std::optional<UnixMs> expected_end;
};

// One GPU as the policy sees it: the latest sample plus a short window of history.
struct GpuView {
  int index = 0;  // nvidia-smi index; negative = unknown (never scheduled on)
  std::string uuid;
  std::string model;  // "NVIDIA A100-SXM4-80GB"
  // Non-empty when the driver reports the GPU as failing: never scheduled on.
  std::string error;
  std::optional<int64_t> mem_total_mib;  // empty = unknown: never scheduled on
  // Used memory and utilisation of the recent samples, oldest first, newest last; samples
  // where the value was unknown are left out. Empty memory = unknown (never scheduled on);
  // empty utilisation = unknown (only tasks that need utilisation are refused).
  // The builder should drop samples taken before the GPU's last gpuq run ended, so a run
  // that just ended does not keep its GPU looking busy for a whole window.
  std::vector<int64_t> recent_mem_used_mib;
  std::vector<int> recent_util_pct;
  // Compute processes on this GPU that belong to no gpuq run (latest sample).
  std::vector<GpuProcess> foreign_processes;
  // gpuq runs that hold this GPU.
  std::vector<GpuAllocation> allocations;
};

struct NodeView {
  NodeId id;
  std::string name;
  bool available = false;          // reachable and the last probe worked
  std::string unavailable_reason;  // "connection refused"; shown when !available
  bool schedulable = true;         // the admin's flag
  std::vector<GpuView> gpus;       // in index order; empty for a CPU-only or unprobed node
  int running_runs = 0;            // gpuq runs starting or running here (CPU-only included)
};

struct ClusterSnapshot {
  UnixMs now = 0;  // the only clock the policy reads
  std::vector<NodeView> nodes;
  // Recent GPU-hours per user name (decayed usage, for fair share); missing = 0.
  std::map<std::string, double> user_gpu_hours;
  int running_total = 0;                        // gpuq runs starting or running
  std::map<std::string, int> running_per_user;  // same, per user name; missing = 0
};

// A queued task, as far as placing it goes. The queue handed to the policy holds only
// tasks that may start now (status queued, not held, dependencies done).
struct TaskRequest {
  TaskId id;
  std::string user;
  int gpus = 1;              // 0 = CPU-only
  int64_t mem_mib = 0;       // free memory needed on each GPU; 0 = no need
  int util_pct = 0;          // free utilisation needed on each GPU, 0..100; 0 = no need
  bool exclusive = false;    // only GPUs with no process and (almost) no memory in use
  bool share = false;        // may share GPUs with other sharing tasks (needs mem_mib > 0)
  std::string node;          // node name; empty = any
  std::string gpu_model;     // case-insensitive substring of GpuView::model; empty = any
  int priority = 0;          // higher first
  int64_t time_limit_s = 0;  // <= 0 = none
  UnixMs submitted_at = 0;
  std::vector<int> gpu_ids;      // only these GPU indices; empty = any
  std::vector<int> prefer_gpus;  // among fitting GPUs, take these first
};

}  // namespace gpuq

#endif  // GPUQ_COMMON_SNAPSHOT_H_
