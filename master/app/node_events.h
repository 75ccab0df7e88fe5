#ifndef GPUQ_MASTER_APP_NODE_EVENTS_H_
#define GPUQ_MASTER_APP_NODE_EVENTS_H_

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/cluster_state.h"
#include "common/clock.h"
#include "master/node/node_link.h"
#include "master/store/database.h"

namespace gpuq {

// Where node links report: samples and availability go to the live ClusterState; host keys
// and changes of a node's GPU inventory go to the store (with an audit entry for keys).
// Thread-safe: called from every link's thread.
class NodeEvents final : public NodeLinkListener {
 public:
  NodeEvents(Database* db, Clock* clock, ClusterState* cluster);

  void OnSample(NodeId node, const NodeSample& sample, double probe_rtt_ms) override;
  void OnUnavailable(NodeId node, const Status& why) override;
  void OnHostKeyFirstSeen(NodeId node, const std::string& sha256) override;
  void OnHostKeyChanged(NodeId node, const std::string& sha256) override;

  // Called when a node becomes available or unavailable (wakes the scheduler).
  void SetOnAvailabilityChange(std::function<void()> f) { on_availability_change_ = std::move(f); }
  // Called after each sample of a node (the master wakes the scheduler when it is waiting
  // for that node's fresh sample).
  void SetOnSample(std::function<void(NodeId)> f) { on_sample_ = std::move(f); }

 private:
  // The inventory last written per node, so the store is touched only when GPUs change.
  struct InventoryKey {
    int index;
    std::string uuid, model;
    std::optional<int64_t> mem_total_mib;
    bool operator==(const InventoryKey&) const = default;
  };

  Database* db_;
  Clock* clock_;
  ClusterState* cluster_;
  std::function<void()> on_availability_change_;
  std::function<void(NodeId)> on_sample_;
  std::mutex mu_;
  std::map<NodeId, std::vector<InventoryKey>> inventory_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_APP_NODE_EVENTS_H_
