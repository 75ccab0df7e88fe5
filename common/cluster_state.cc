#include "common/cluster_state.h"

namespace gpuq {

void ClusterState::BumpLocked() {
  ++version_;
  changed_.notify_all();
}

void ClusterState::RecordSample(NodeId node, const NodeSample& sample, double probe_rtt_ms) {
  std::lock_guard lock(mu_);
  Entry& entry = nodes_[node];
  NodeLiveState& live = entry.live;
  live.id = node;
  if (!live.available) {
    live.available = true;
    live.since = sample.sampled_at;
  }
  live.last_sample_at = sample.sampled_at;
  live.probe_rtt_ms = probe_rtt_ms;
  live.gpus = sample.gpus;
  for (const GpuStatus& gpu : sample.gpus) {
    GpuPoint point;
    point.t = sample.sampled_at;
    if (gpu.mem_used_mib) point.mem_used_mib = static_cast<int32_t>(*gpu.mem_used_mib);
    if (gpu.util_pct) point.util_pct = static_cast<int16_t>(*gpu.util_pct);
    entry.history[gpu.index].Add(point);
  }
  BumpLocked();
}

void ClusterState::RecordUnavailable(NodeId node, const std::string& error, UnixMs at) {
  std::lock_guard lock(mu_);
  NodeLiveState& live = nodes_[node].live;
  live.id = node;
  bool changed = live.available || live.since == 0 || live.last_error != error;
  if (live.available || live.since == 0) live.since = at;
  live.available = false;
  live.last_error = error;
  if (changed) BumpLocked();
}

void ClusterState::Remove(NodeId node) {
  std::lock_guard lock(mu_);
  if (nodes_.erase(node) > 0) BumpLocked();
}

std::optional<NodeLiveState> ClusterState::Get(NodeId node) const {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return std::nullopt;
  return it->second.live;
}

std::map<NodeId, NodeLiveState> ClusterState::All() const {
  std::lock_guard lock(mu_);
  std::map<NodeId, NodeLiveState> out;
  for (const auto& [id, entry] : nodes_) out.emplace(id, entry.live);
  return out;
}

std::vector<GpuPoint> ClusterState::Recent(NodeId node, int gpu_index) const {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return {};
  auto h = it->second.history.find(gpu_index);
  if (h == it->second.history.end()) return {};
  return {h->second.recent().begin(), h->second.recent().end()};
}

std::vector<GpuPoint> ClusterState::Plot(NodeId node, int gpu_index) const {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return {};
  auto h = it->second.history.find(gpu_index);
  if (h == it->second.history.end()) return {};
  return h->second.Plot();
}

uint64_t ClusterState::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

uint64_t ClusterState::WaitForChange(uint64_t seen, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, timeout, [&] { return version_ != seen; });
  return version_;
}

}  // namespace gpuq
