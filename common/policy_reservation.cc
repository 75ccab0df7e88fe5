#include "common/policy_reservation.h"

#include <algorithm>
#include <tuple>

namespace gpuq::policy_internal {
namespace {

// When one GPU could be given to the task.
struct FreeTime {
  bool known = true;  // false: held by a run without a time limit
  UnixMs at = 0;
  size_t prefer_rank = 0;
  int index = 0;
};

// The node's best reservation: the `gpus` GPUs that free up first.
struct NodePlan {
  const NodeState* node = nullptr;
  int unknown = 0;          // chosen GPUs whose free time is unknown
  UnixMs latest_known = 0;  // latest free time among the others
  std::vector<int> gpu_indices;
};

std::optional<NodePlan> PlanNode(const NodeState& node, const TaskContext& task,
                                 const PolicyOptions& options, UnixMs now) {
  const TaskRequest& t = *task.task;
  std::vector<FreeTime> times;
  for (const GpuState& gpu : node.gpus) {
    if (!GpuEligible(gpu, t)) continue;
    FreeTime ft;
    ft.prefer_rank = PreferRank(t, gpu.index);
    ft.index = gpu.index;
    if (GpuPasses(gpu, task, options, nullptr)) {
      ft.at = now;
    } else if (gpu.holders > 0 && GpuPassesWithoutHolders(gpu, task, options)) {
      ft.known = gpu.free_at_known;
      ft.at = std::max(gpu.free_at, now);
    } else {
      continue;  // blocked by something no run's end will clear
    }
    times.push_back(ft);
  }
  if (times.size() < static_cast<size_t>(t.gpus)) return std::nullopt;
  std::sort(times.begin(), times.end(), [](const FreeTime& a, const FreeTime& b) {
    return std::tie(b.known, a.at, a.prefer_rank, a.index) <
           std::tie(a.known, b.at, b.prefer_rank, b.index);
  });
  NodePlan plan;
  plan.node = &node;
  for (int i = 0; i < t.gpus; ++i) {
    const FreeTime& ft = times[static_cast<size_t>(i)];
    if (ft.known) {
      plan.latest_known = std::max(plan.latest_known, ft.at);
    } else {
      ++plan.unknown;
    }
    plan.gpu_indices.push_back(ft.index);
  }
  std::sort(plan.gpu_indices.begin(), plan.gpu_indices.end());
  return plan;
}

}  // namespace

size_t PreferRank(const TaskRequest& task, int index) {
  auto it = std::find(task.prefer_gpus.begin(), task.prefer_gpus.end(), index);
  return static_cast<size_t>(it - task.prefer_gpus.begin());
}

std::optional<Reservation> PlanReservation(const std::vector<NodeState>& nodes,
                                           const TaskContext& task, const PolicyOptions& options,
                                           UnixMs now) {
  const TaskRequest& t = *task.task;
  if (t.gpus <= 0) return std::nullopt;
  std::optional<NodePlan> best;
  for (const NodeState& node : nodes) {
    if (!NodeMatches(*node.view, t) || !NodePasses(node, options, nullptr)) continue;
    std::optional<NodePlan> plan = PlanNode(node, task, options, now);
    if (!plan) continue;
    // Fewer unknown GPUs first (0 = a known start), then the earlier start; nodes come in
    // id order, so a tie keeps the lower id.
    if (!best ||
        std::tie(plan->unknown, plan->latest_known) < std::tie(best->unknown, best->latest_known)) {
      best = std::move(plan);
    }
  }
  if (!best) return std::nullopt;
  if (best->unknown > 0 && !options.reserve_when_start_unknown) return std::nullopt;
  Reservation r;
  r.task = t.id;
  r.node = best->node->view->id;
  r.node_name = best->node->view->name;
  r.gpu_indices = std::move(best->gpu_indices);
  if (best->unknown == 0) r.start_at = best->latest_known;
  return r;
}

}  // namespace gpuq::policy_internal
