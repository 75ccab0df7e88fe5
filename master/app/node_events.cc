#include "master/app/node_events.h"

#include <spdlog/spdlog.h>

#include "master/store/audit_log.h"
#include "master/store/gpu_inventory_store.h"
#include "master/store/node_store.h"

namespace gpuq {

NodeEvents::NodeEvents(Database* db, Clock* clock, ClusterState* cluster)
    : db_(db), clock_(clock), cluster_(cluster) {}

void NodeEvents::OnSample(NodeId node, const NodeSample& sample, double probe_rtt_ms) {
  std::optional<NodeLiveState> before = cluster_->Get(node);
  cluster_->RecordSample(node, sample, probe_rtt_ms);
  if (!before || !before->available) {
    spdlog::info("node {}: available, {} GPU(s)", node.value, sample.gpus.size());
    if (on_availability_change_) on_availability_change_();
  }

  if (on_sample_) on_sample_(node);

  std::vector<InventoryKey> keys;
  for (const GpuStatus& gpu : sample.gpus) {
    keys.push_back({gpu.index, gpu.uuid, gpu.model, gpu.mem_total_mib});
  }
  {
    std::lock_guard lock(mu_);
    auto it = inventory_.find(node);
    if (it != inventory_.end() && it->second == keys) return;
    inventory_[node] = keys;
  }
  Status s = GpuInventoryStore(db_, clock_).Replace(node, sample.gpus);
  if (!s.ok()) spdlog::warn("node {}: cannot store the GPU inventory: {}", node.value, s.ToString());
}

void NodeEvents::OnUnavailable(NodeId node, const Status& why) {
  std::optional<NodeLiveState> before = cluster_->Get(node);
  cluster_->RecordUnavailable(node, why.message(), clock_->NowUnixMs());
  if (!before || before->available || before->last_error != why.message()) {
    spdlog::warn("node {}: unavailable: {}", node.value, why.message());
    if (before && before->available && on_availability_change_) on_availability_change_();
  }
}

void NodeEvents::OnHostKeyFirstSeen(NodeId node, const std::string& sha256) {
  Status s = NodeStore(db_, clock_).PinHostKey(node, sha256);
  if (!s.ok()) {
    spdlog::error("node {}: cannot pin host key: {}", node.value, s.ToString());
    return;
  }
  spdlog::info("node {}: pinned host key {} on first contact", node.value, sha256);
  AuditLog(db_, clock_).Record(std::nullopt, "node.host_key.pin", "node " + std::to_string(node.value),
                               sha256);
}

void NodeEvents::OnHostKeyChanged(NodeId node, const std::string& sha256) {
  Status s = NodeStore(db_, clock_).SetPendingHostKey(node, sha256);
  if (!s.ok()) spdlog::error("node {}: cannot record the new host key: {}", node.value, s.ToString());
  spdlog::error("node {}: HOST KEY CHANGED to {}; refusing to connect until an admin accepts it",
                node.value, sha256);
  AuditLog(db_, clock_).Record(std::nullopt, "node.host_key.changed",
                               "node " + std::to_string(node.value), sha256);
}

}  // namespace gpuq
