#ifndef GPUQ_COMMON_POLICY_NEVER_FITS_H_
#define GPUQ_COMMON_POLICY_NEVER_FITS_H_

// A fast form of NeverFitsReason (policy.h) for a whole queue: per constraint class (node,
// model, gpu_ids) the capacity is summarised once, then each task is an O(1) lookup.

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/policy.h"
#include "common/policy_filters.h"
#include "common/snapshot.h"

namespace gpuq::policy_internal {

// Not thread-safe (fills its cache); lives for one pass. Holds a reference to `snapshot` and
// views of the tasks it was asked about: both must outlive it.
class NeverFitsIndex {
 public:
  explicit NeverFitsIndex(const ClusterSnapshot& snapshot) : snapshot_(snapshot) {}

  // Same answer as NeverFitsReason(snapshot, task).
  std::optional<std::string> Reason(const TaskRequest& task);

 private:
  // What the nodes of one class can hold at most.
  struct Capacity {
    bool any_node = false;  // some node matches the node constraint
    bool unknown = false;   // a matching node was never probed: anything might fit
    // largest_kth[k-1]: over matching nodes, the largest k-th biggest eligible GPU total
    // (unknown totals count as unlimited). A task of g GPUs x m MiB fits iff
    // g <= size() and largest_kth[g-1] >= m.
    std::vector<int64_t> largest_kth;
    // NeverFitsReason by (gpus, mem_mib, util_pct).
    std::map<std::tuple<int, int64_t, int>, std::optional<std::string>> texts;
  };
  Capacity& CapacityFor(const TaskRequest& task);

  const ClusterSnapshot& snapshot_;
  std::unordered_map<ConstraintsKey, Capacity, ConstraintsKeyHash> capacity_;
  ModelMatcher model_matcher_;
  Capacity* unconstrained_ = nullptr;  // no node, model or gpu_ids: in capacity_
};

}  // namespace gpuq::policy_internal

#endif  // GPUQ_COMMON_POLICY_NEVER_FITS_H_
