#ifndef GPUQ_COMMON_POLICY_PASS_H_
#define GPUQ_COMMON_POLICY_PASS_H_

// Internals of the scheduling policy (common/policy.h): one pass over a snapshot. It decides
// in queue order (policy.cc), then explains the tasks it could not place (policy_explain.cc).
// Only policy*.cc and their tests use this header. Not thread-safe: one pass owns its state.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/policy.h"
#include "common/policy_filters.h"
#include "common/policy_never_fits.h"

namespace gpuq::policy_internal {

// Tasks that differ only in size (gpus, mem_mib, util_pct) and in who/when are in one class:
// within a class a bigger task fits only where a smaller one does. `sharing` rather than
// the share flag: a share task without a memory need cannot share, one with a need can.
struct ClassKey {
  bool exclusive = false;
  bool sharing = false;
  bool may_use_reserved = false;
  policy_internal::ConstraintsKey constraints;
  friend bool operator==(const ClassKey&, const ClassKey&) = default;
};
struct ClassKeyHash {
  size_t operator()(const ClassKey& k) const {
    return k.constraints.Hash() * 8 + (k.exclusive ? 4 : 0) + (k.sharing ? 2 : 0) +
           (k.may_use_reserved ? 1 : 0);
  }
};

inline ClassKey MakeClassKey(const TaskContext& task) {
  const TaskRequest& t = *task.task;
  return ClassKey{t.exclusive, task.sharing, task.may_use_reserved,
                  policy_internal::ConstraintsKey::Of(t)};
}

// A task that found no place in this pass. Capacity only shrinks within a pass, so every
// later task of its class that is at least as big fails too, without a search.
struct Failure {
  int gpus = 0;
  int64_t mem_mib = 0;
  int util_pct = 0;

  bool AtMost(const TaskRequest& t) const {
    return gpus <= t.gpus && mem_mib <= t.mem_mib && util_pct <= t.util_pct;
  }
};

// What a waiting reason is about: the node closest to fitting the task.
struct Closest {
  const NodeState* node = nullptr;
  int level = -1;  // see Pass::FindClosest
  int passing = -1;
  size_t considered = 0;  // nodes matching the node constraint
};

// True when GpuPasses(gpu, task, ..., nullptr) is surely false, judged from two fields: the
// scans over every GPU call it for the few GPUs that might pass.
inline bool SurelyFails(const GpuState& gpu, const TaskContext& task) {
  return !gpu.healthy || (gpu.holders > 0 && (!task.sharing || !gpu.all_holders_share));
}

// One scheduling pass over an immutable snapshot.
class Pass {
 public:
  Pass(const ClusterSnapshot& snapshot, const PolicyOptions& options)
      : snapshot_(snapshot),
        options_(options),
        nodes_(MakeNodeStates(snapshot, options)),
        never_fits_(snapshot),
        running_total_(snapshot.running_total),
        running_per_user_(snapshot.running_per_user) {}

  Decision Run(std::span<const TaskRequest> queue);

  // A task that found no place, to explain once every placement is made.
  struct Unplaced {
    TaskContext task;
    const std::vector<Failure>* failures;  // its class
    bool held_back;                        // it would have fit but for the reservation
    size_t pos;                            // in the queue
    std::string note;                      // the reservation it holds, if any
  };

 private:
  struct Fit {
    NodeState* node = nullptr;
    std::vector<size_t> gpus;  // positions in node->gpus
  };

  // Which GPUs pass a task's model and gpu_ids constraints: flags per GPU of each node
  // (nodes_ order) and their count per node. Judged once per pass for each distinct pair,
  // since matching model names is the costliest part of judging a GPU.
  struct Eligibility {
    std::vector<std::vector<char>> gpu;
    std::vector<int> count;
  };
  // nullptr when the task has neither constraint (every GPU is eligible).
  const Eligibility* EligibilityOf(const TaskRequest& task);
  // GpuMemRoom of the eligible GPUs of every node for tasks of one signature (class,
  // util_pct, whether the reservation is judged: all that the GPU rules read of a task but
  // its memory need), taken at the node's version; a node's GPUs change only when it gets a
  // placement (node_version_). Tasks of one signature that differ in memory need (the
  // usual case) share them: a GPU passes when its room is at least the need.
  struct Rooms {
    std::vector<uint64_t> version;  // per node, 0 = not taken
    std::vector<int64_t> room;      // per node: stride_ entries, descending, kNoRoom after
  };
  // `signature` names the task's class (the address of its failures_ entry).
  Rooms& RoomsFor(const TaskContext& task, const void* signature);
  // The rooms of nodes_[n] (stride_ entries, descending) for the task's signature. `e` is
  // EligibilityOf(*task.task).
  const int64_t* RoomsOf(size_t n, const TaskContext& task, const Eligibility* e, Rooms& rooms);
  // GPUs of nodes_[n] that pass for the task (eligible, GPU rules).
  int Passing(size_t n, const TaskContext& task, const Eligibility* e, Rooms& rooms) {
    return PassingFor(RoomsOf(n, task, e, rooms), task.task->mem_mib);
  }
  int PassingFor(const int64_t* room, int64_t need) const {
    int passing = 0;
    while (passing < static_cast<int>(stride_) && room[passing] >= need) ++passing;
    return passing;
  }
  std::optional<std::string> CapReason(const TaskRequest& task) const;
  // The best fit.
  std::optional<Fit> FindFit(const TaskContext& task, const void* signature);
  std::vector<size_t> ChooseGpus(const NodeState& node, const TaskContext& task);
  // The node closest to fitting: highest (level, passing GPUs), first in node order on
  // ties. Levels: 0 fails a node filter, 1 no eligible GPU, 2 too few eligible GPUs, 3
  // enough eligible GPUs. Only once every placement is made (see Brief). One scan answers
  // for tasks of the signature and size of `task` that need each of `needs` (MiB,
  // ascending) of memory.
  std::vector<Closest> FindClosest(const TaskContext& task, const void* signature,
                                   const std::vector<int64_t>& needs);
  // The task is blocked by the reservation only: it would fit without it. `signature` as
  // for FindFit.
  bool HeldBack(const TaskContext& task, const void* signature);
  std::string Explain(const TaskContext& task, const Closest& closest);
  std::string ExplainNode(const NodeState& node, const TaskContext& task, int level, int passing);
  std::string HeldBackReason(const Reservation& r) const;
  // "; reserved node n1 gpus 0,1, expected to start by ..." for the task that holds `r`.
  static std::string ReservationNote(const Reservation& r);
  // Writes the reason of every task in `unplaced` into `texts` and `text_of` (by queue
  // position), against the pass's final state (policy_explain.cc).
  void ExplainUnplaced(const std::vector<Unplaced>& unplaced, std::vector<std::string>& texts,
                       std::vector<size_t>& text_of);
  void Apply(const TaskContext& task, const Fit& fit, Decision& decision);

  const ClusterSnapshot& snapshot_;
  const PolicyOptions& options_;
  std::vector<NodeState> nodes_;
  NeverFitsIndex never_fits_;
  int running_total_;
  std::map<std::string, int> running_per_user_;
  std::optional<Reservation> reservation_;
  // Per class, none bigger than another. Most tasks have no node, model or gpu_ids
  // constraint: their eight classes are found without a map lookup.
  std::vector<Failure>& FailuresOf(const TaskContext& task);
  std::array<std::vector<Failure>, 8> unconstrained_failures_;
  std::unordered_map<ClassKey, std::vector<Failure>, ClassKeyHash> failures_;
  // Node left empty in the key.
  std::unordered_map<ConstraintsKey, Eligibility, ConstraintsKeyHash> eligibility_;
  std::map<std::tuple<const void*, int, bool>, Rooms> rooms_;
  size_t stride_ = 0;  // the most GPUs of a node
  ModelMatcher model_matcher_;
  std::vector<uint64_t> node_version_ = std::vector<uint64_t>(nodes_.size(), 1);
  // What FindClosest reads of each node, side by side, taken when explaining starts: node
  // states no longer change then. `*_after` bound the passing GPUs of nodes_[n..].
  struct Brief {
    bool passes = false;  // NodePasses
    int gpus = 0;
    int unheld_healthy = 0;
    int open_to_sharers = 0;
    int unheld_after = 0;
    int open_after = 0;
  };
  std::vector<Brief> briefs_;
  size_t reserved_node_ = 0;  // position in nodes_ of reservation_->node
  // HeldBack by (class, gpus, mem_mib, util_pct): the reserved node's version and the answer.
  std::map<std::tuple<const void*, int, int64_t, int>, std::pair<uint64_t, bool>> held_back_;
};

}  // namespace gpuq::policy_internal

#endif  // GPUQ_COMMON_POLICY_PASS_H_
