#ifndef GPUQ_COMMON_CLUSTER_STATE_H_
#define GPUQ_COMMON_CLUSTER_STATE_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/gpu.h"
#include "common/gpu_history.h"
#include "common/ids.h"

namespace gpuq {

// What the master knows of one node right now, from its link.
struct NodeLiveState {
  NodeId id;
  bool available = false;
  std::string last_error;      // the latest failure; kept after recovery for the panel
  UnixMs since = 0;            // when `available` last changed
  UnixMs last_sample_at = 0;
  double probe_rtt_ms = 0;     // round trip of the latest probe
  std::vector<GpuStatus> gpus; // the latest sample
};

// The live picture of every node, written by node links and read by the scheduler, the API
// and the panel. Thread-safe; readers get copies. Every change bumps a version that
// WaitForChange() waits on, so the scheduler can wake on new samples and node changes.
class ClusterState {
 public:
  void RecordSample(NodeId node, const NodeSample& sample, double probe_rtt_ms);
  void RecordUnavailable(NodeId node, const std::string& error, UnixMs at);
  void Remove(NodeId node);

  std::optional<NodeLiveState> Get(NodeId node) const;
  std::map<NodeId, NodeLiveState> All() const;
  // The GPU's recent raw points (oldest first) and its plot series.
  std::vector<GpuPoint> Recent(NodeId node, int gpu_index) const;
  std::vector<GpuPoint> Plot(NodeId node, int gpu_index) const;

  uint64_t version() const;
  // Returns once version() != seen or the timeout passed; the version then.
  uint64_t WaitForChange(uint64_t seen, std::chrono::milliseconds timeout) const;

 private:
  struct Entry {
    NodeLiveState live;
    std::map<int, GpuHistory> history;  // by GPU index
  };
  void BumpLocked();

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::map<NodeId, Entry> nodes_;
  uint64_t version_ = 0;
};

}  // namespace gpuq

#endif  // GPUQ_COMMON_CLUSTER_STATE_H_
