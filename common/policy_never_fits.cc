// NeverFitsReason (policy.h): capacity only, whatever runs end or nodes come back.

#include "common/policy_never_fits.h"

#include <algorithm>
#include <limits>

#include "common/policy.h"
#include "common/policy_filters.h"

namespace gpuq {
namespace {

using policy_internal::JoinInts;

bool ModelMatches(const GpuView& gpu, const TaskRequest& task) {
  return policy_internal::GpuModelMatches(gpu.model, task.gpu_model);
}

bool InGpuIds(const GpuView& gpu, const TaskRequest& task) {
  return task.gpu_ids.empty() ||
         std::find(task.gpu_ids.begin(), task.gpu_ids.end(), gpu.index) != task.gpu_ids.end();
}

// "4 GPUs of model 'A100' with at least 80 GiB among gpu_ids 0,1"
std::string DescribeNeed(const TaskRequest& task) {
  std::string out = std::to_string(task.gpus) + (task.gpus == 1 ? " GPU" : " GPUs");
  if (!task.gpu_model.empty()) out += " of model '" + task.gpu_model + "'";
  if (task.mem_mib > 0) {
    out += (task.gpu_model.empty() ? " of at least " : " with at least ") +
           policy_internal::MemText(task.mem_mib);
  }
  if (!task.gpu_ids.empty()) out += " among gpu_ids " + JoinInts(task.gpu_ids);
  return out;
}

}  // namespace

std::optional<std::string> NeverFitsReason(const ClusterSnapshot& snapshot,
                                           const TaskRequest& task) {
  if (task.gpus < 0) return "gpus must not be negative";
  if (task.mem_mib < 0) return "mem_mib must not be negative";
  if (task.util_pct < 0 || task.util_pct > 100) return "util_pct must be between 0 and 100";
  if (snapshot.nodes.empty()) return "no node is registered";

  bool any_node = false;
  bool model_seen = false;
  for (const NodeView& node : snapshot.nodes) {
    if (!policy_internal::NodeMatches(node, task)) continue;
    any_node = true;
    if (task.gpus == 0) return std::nullopt;
    // Never probed: its GPUs are unknown, so it might run anything.
    if (node.gpus.empty() && !node.available) return std::nullopt;
    int fitting = 0;
    for (const GpuView& gpu : node.gpus) {
      if (!ModelMatches(gpu, task)) continue;
      model_seen = true;
      if (!InGpuIds(gpu, task)) continue;
      if (!gpu.mem_total_mib || *gpu.mem_total_mib >= task.mem_mib) ++fitting;
    }
    if (fitting >= task.gpus) return std::nullopt;
  }
  if (!any_node) return "no node named '" + task.node + "'";
  if (!task.gpu_model.empty() && !model_seen) {
    if (task.node.empty()) return "no node has model '" + task.gpu_model + "'";
    return "node " + task.node + " has no GPU of model '" + task.gpu_model + "'";
  }
  if (task.node.empty()) return "no node has " + DescribeNeed(task);
  return "node " + task.node + " does not have " + DescribeNeed(task);
}

namespace policy_internal {

NeverFitsIndex::Capacity& NeverFitsIndex::CapacityFor(const TaskRequest& task) {
  bool unconstrained = task.node.empty() && task.gpu_model.empty() && task.gpu_ids.empty();
  if (unconstrained && unconstrained_ != nullptr) return *unconstrained_;  // the usual case
  ConstraintsKey key = ConstraintsKey::Of(task);
  auto it = capacity_.find(key);
  if (it != capacity_.end()) return it->second;
  Capacity c;
  for (const NodeView& node : snapshot_.nodes) {
    if (!NodeMatches(node, task)) continue;
    c.any_node = true;
    if (node.gpus.empty() && !node.available) c.unknown = true;
    std::vector<int64_t> totals;
    for (const GpuView& gpu : node.gpus) {
      if (!model_matcher_.Matches(gpu.model, task.gpu_model) || !InGpuIds(gpu, task)) continue;
      totals.push_back(gpu.mem_total_mib.value_or(std::numeric_limits<int64_t>::max()));
    }
    std::sort(totals.begin(), totals.end(), std::greater<>());
    if (c.largest_kth.size() < totals.size()) c.largest_kth.resize(totals.size(), 0);
    for (size_t k = 0; k < totals.size(); ++k) {
      c.largest_kth[k] = std::max(c.largest_kth[k], totals[k]);
    }
  }
  Capacity& added = capacity_.emplace(std::move(key), std::move(c)).first->second;
  if (unconstrained) unconstrained_ = &added;
  return added;
}

std::optional<std::string> NeverFitsIndex::Reason(const TaskRequest& task) {
  bool valid = task.gpus >= 0 && task.mem_mib >= 0 && task.util_pct >= 0 && task.util_pct <= 100;
  if (!valid) return NeverFitsReason(snapshot_, task);
  Capacity& c = CapacityFor(task);
  if (c.any_node) {
    if (c.unknown || task.gpus == 0) return std::nullopt;
    size_t g = static_cast<size_t>(task.gpus);
    if (g <= c.largest_kth.size() && c.largest_kth[g - 1] >= task.mem_mib) return std::nullopt;
  }
  // The text, for the few that never fit; tasks alike share it.
  auto [it, added] = c.texts.try_emplace({task.gpus, task.mem_mib, task.util_pct});
  if (added) it->second = NeverFitsReason(snapshot_, task);
  return it->second;
}

}  // namespace policy_internal
}  // namespace gpuq
