#ifndef GPUQ_MASTER_STORE_GPU_INVENTORY_STORE_H_
#define GPUQ_MASTER_STORE_GPU_INVENTORY_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/gpu.h"
#include "common/ids.h"
#include "common/status.h"

namespace gpuq {

class Database;

// One GPU of a node as last probed: what the node has, not how busy it is (live samples stay
// in memory).
struct GpuRow {
  NodeId node_id;
  int index = 0;  // nvidia-smi index
  std::string uuid;
  std::string model;
  std::optional<int64_t> mem_total_mib;
  UnixMs last_seen_at = 0;
};

// The gpus table. Thread-safe (see Database).
class GpuInventoryStore {
 public:
  // Does not take ownership; both must outlive the GpuInventoryStore.
  GpuInventoryStore(Database* db, Clock* clock) : db_(db), clock_(clock) {}

  // Makes `gpus` the node's whole inventory, in one transaction, stamped with the current time;
  // GPUs not in `gpus` are removed (an empty vector clears it). Only index, uuid, model and
  // mem_total_mib are kept. kNotFound when there is no such node; kInvalidArgument (field
  // "index") when two GPUs share an index or one is negative.
  Status Replace(NodeId node, const std::vector<GpuStatus>& gpus);

  // The node's GPUs by index; empty for a node never probed (or one that does not exist).
  Result<std::vector<GpuRow>> List(NodeId node);

 private:
  Database* db_;
  Clock* clock_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_GPU_INVENTORY_STORE_H_
