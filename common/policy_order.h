#ifndef GPUQ_COMMON_POLICY_ORDER_H_
#define GPUQ_COMMON_POLICY_ORDER_H_

// The order in which the policy considers queued tasks (policy.h, ORDER).

#include <cstddef>
#include <span>
#include <vector>

#include "common/snapshot.h"

namespace gpuq {

// Indices into `queue`, in scheduling order: priority (higher first), then the user's
// recent GPU-hours (fewer first; users missing from snapshot.user_gpu_hours have 0), then
// submitted_at (earlier first), then task id (lower first), then position in `queue`.
// Deterministic: the result depends only on the values, not on the order of `queue`
// (unless two entries share an id).
std::vector<size_t> OrderQueue(const ClusterSnapshot& snapshot, std::span<const TaskRequest> queue);

}  // namespace gpuq

#endif  // GPUQ_COMMON_POLICY_ORDER_H_
