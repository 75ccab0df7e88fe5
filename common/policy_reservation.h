#ifndef GPUQ_COMMON_POLICY_RESERVATION_H_
#define GPUQ_COMMON_POLICY_RESERVATION_H_

// Where and when a waiting task could start once gpuq runs end (policy.h, BACKFILL).

#include <optional>
#include <vector>

#include "common/policy.h"
#include "common/policy_filters.h"

namespace gpuq::policy_internal {

// The reservation for `task`, which needs GPUs and does not fit now, given the pass state
// `nodes` (placements made so far included), or nullopt when no node qualifies (every node
// is filtered out, or needs GPUs blocked by foreign use or failures) or when the start is
// unknown and options.reserve_when_start_unknown is false.
std::optional<Reservation> PlanReservation(const std::vector<NodeState>& nodes,
                                           const TaskContext& task, const PolicyOptions& options,
                                           UnixMs now);

// The rank of a GPU index in the task's prefer_gpus (its position), or prefer_gpus.size()
// when it is not preferred: smaller is taken first.
size_t PreferRank(const TaskRequest& task, int index);

}  // namespace gpuq::policy_internal

#endif  // GPUQ_COMMON_POLICY_RESERVATION_H_
