#ifndef GPUQ_COMMON_POLICY_FILTERS_H_
#define GPUQ_COMMON_POLICY_FILTERS_H_

// Internals of the scheduling policy (common/policy.h): the per-pass state of nodes and
// GPUs and the filters that judge one task against them, with the reasons people read.
// Only policy*.cc and their tests use this header. Not thread-safe: one pass owns its state.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/policy.h"
#include "common/snapshot.h"

namespace gpuq::policy_internal {

// One GPU during a pass: what the snapshot says, digested once, plus the placements made
// earlier in the pass (AddHolder).
struct GpuState {
  const GpuView* view = nullptr;
  NodeId node;
  int index = 0;
  bool mem_known = false;   // total and used samples known
  bool healthy = false;     // index known, no error, mem_known
  bool util_known = false;  // utilisation samples known
  int64_t total_mib = 0;
  int64_t max_used_mib = 0;  // over the sample window
  int max_util_pct = 0;      // over the sample window
  // Used memory not explained by the holders' processes: window max - their observed use.
  int64_t foreign_used_mib = 0;
  bool has_foreign_process = false;
  int64_t declared_mib = 0;  // sum of the holders' declared memory
  int64_t promised_mib = 0;  // declared memory of holders not yet seen, within grace
  int holders = 0;           // gpuq runs on it, placements of this pass included
  bool all_holders_share = true;
  // The first holder, for reasons. first_this_pass: placed earlier in this pass.
  RunId first_run;
  TaskId first_task;
  bool first_this_pass = false;
  // Latest expected end of the holders; free_at_known is false when one has no time limit.
  bool free_at_known = true;
  UnixMs free_at = 0;
  // The task-independent start of the "held by run 7 of task 3 and 1 more" reason, built
  // once per holder count: the reasons of one pass name the same GPUs again and again.
  mutable std::string held_text;
  mutable int held_text_holders = 0;
};

struct NodeState {
  const NodeView* view = nullptr;
  std::vector<GpuState> gpus;  // in the order of NodeView::gpus
  int running = 0;             // runs here, placements of this pass included
  // Healthy GPUs no gpuq run holds: an upper bound on what a non-sharing task can get, so
  // busy nodes are skipped without looking at their GPUs. Kept up to date by AddHolder.
  int unheld_healthy = 0;
  // Healthy GPUs held by no run or by sharing runs only: the same bound for sharing tasks.
  int open_to_sharers = 0;
};

// A task's node, model and gpu_ids constraints as views, to key per-pass maps: the queue
// outlives the pass, so lookups copy nothing.
struct ConstraintsKey {
  std::string_view node;
  std::string_view gpu_model;
  std::span<const int> gpu_ids;

  static ConstraintsKey Of(const TaskRequest& t) { return {t.node, t.gpu_model, t.gpu_ids}; }
  friend bool operator==(const ConstraintsKey& a, const ConstraintsKey& b) {
    return a.node == b.node && a.gpu_model == b.gpu_model &&
           std::equal(a.gpu_ids.begin(), a.gpu_ids.end(), b.gpu_ids.begin(), b.gpu_ids.end());
  }
  size_t Hash() const {
    size_t h = std::hash<std::string_view>()(node) * 31 + std::hash<std::string_view>()(gpu_model);
    for (int id : gpu_ids) h = h * 31 + static_cast<size_t>(id);
    return h;
  }
};
struct ConstraintsKeyHash {
  size_t operator()(const ConstraintsKey& k) const { return k.Hash(); }
};

// What a pass knows about the task being judged.
struct TaskContext {
  const TaskRequest* task = nullptr;
  bool sharing = false;  // share && !exclusive && mem_mib > 0
  // The reservation of this pass (nullptr = none) and whether this task may use its GPUs
  // (it ends before the reservation starts).
  const Reservation* reservation = nullptr;
  bool may_use_reserved = false;
};

TaskContext MakeTaskContext(const TaskRequest& task, const Reservation* reservation, UnixMs now);

GpuState MakeGpuState(const GpuView& gpu, UnixMs now, const PolicyOptions& options);
// Nodes sorted by id, then name: the order every choice and tie-break uses.
std::vector<NodeState> MakeNodeStates(const ClusterSnapshot& snapshot,
                                      const PolicyOptions& options);

// Records that `task` now holds `gpu` of `node` (a placement made in this pass).
void AddHolder(NodeState& node, GpuState& gpu, const TaskContext& task, UnixMs now);

// The task's node constraint, if any, names this node.
inline bool NodeMatches(const NodeView& node, const TaskRequest& task) {
  return task.node.empty() || node.name == task.node;
}
// `wanted` is empty or a case-insensitive substring of `model`.
bool GpuModelMatches(std::string_view model, std::string_view wanted);
// GpuModelMatches with its answers remembered: a cluster has few distinct models and a queue
// few distinct wanted ones, while a pass asks about every GPU. Lives for one pass; the
// strings it is asked about must outlive it.
class ModelMatcher {
 public:
  bool Matches(std::string_view model, std::string_view wanted);

 private:
  struct Answer {
    std::string_view model;
    std::string_view wanted;
    bool matches;
  };
  std::vector<Answer> answers_;
};

// Model and gpu_ids constraints: GPUs that fail these are not counted nor listed.
bool GpuEligibleSlow(const GpuState& gpu, const TaskRequest& task);
inline bool GpuEligible(const GpuState& gpu, const TaskRequest& task) {
  return (task.gpu_model.empty() && task.gpu_ids.empty()) || GpuEligibleSlow(gpu, task);
}

// Node filters (availability, admin flag, per-node cap). When `why` is non-null and the
// node fails, sets it to "node n1: not schedulable" style text.
bool NodePassesSlow(const NodeState& node, const PolicyOptions& options, std::string* why);
inline bool NodePasses(const NodeState& node, const PolicyOptions& options, std::string* why) {
  // The scans over every node ask without `why`: answer those here, inline.
  if (why == nullptr) {
    return node.view->available && node.view->schedulable &&
           (options.max_running_per_node <= 0 || node.running < options.max_running_per_node);
  }
  return NodePassesSlow(node, options, why);
}

// The most memory (MiB) a task of this class (everything but its mem_mib) could need and
// still pass the GPU rules on `gpu`: GpuPasses(gpu, task) is GpuMemRoom(...) >= mem_mib.
// kNoRoom when a rule that does not depend on the need fails. May be negative (more in use
// than the total): then even a task that needs no memory fails.
inline constexpr int64_t kNoRoom = INT64_MIN;
int64_t GpuMemRoom(const GpuState& gpu, const TaskContext& task, const PolicyOptions& options);

// GPU rules (policy.h, FILTERS) for an eligible GPU. When `why` is non-null and the GPU
// fails, sets it to "gpu 3: 30 GiB in use by pid 4121" style text.
bool GpuPasses(const GpuState& gpu, const TaskContext& task, const PolicyOptions& options,
               std::string* why);

// Whether the GPU could take the task once every gpuq run on it has ended: healthy, and
// the use not explained by gpuq runs leaves room (foreign processes and memory for
// exclusive tasks, memory for the rest). Utilisation cannot be split, so it is not judged.
bool GpuPassesWithoutHolders(const GpuState& gpu, const TaskContext& task,
                             const PolicyOptions& options);

// "node n1: no GPU of model 'A100'" for a node without eligible GPUs.
std::string NoEligibleGpuReason(const NodeView& node, const TaskRequest& task);

// "0,1,5"
std::string JoinInts(const std::vector<int>& values);

// Memory as reasons print it: "512 MiB", "30 GiB", "29.3 GiB" (for people; units.h's
// FormatMib is the form that ParseMemMib reads back).
std::string MemText(int64_t mib);

}  // namespace gpuq::policy_internal

#endif  // GPUQ_COMMON_POLICY_FILTERS_H_
