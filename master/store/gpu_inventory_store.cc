#include "master/store/gpu_inventory_store.h"

#include <set>
#include <string>

#include "master/store/database.h"

namespace gpuq {

Status GpuInventoryStore::Replace(NodeId node, const std::vector<GpuStatus>& gpus) {
  std::set<int> indexes;
  for (const GpuStatus& gpu : gpus) {
    if (gpu.index < 0) {
      return Status::InvalidArgument("GPU index " + std::to_string(gpu.index) + " is negative",
                                     "index");
    }
    if (!indexes.insert(gpu.index).second) {
      return Status::InvalidArgument("GPU index " + std::to_string(gpu.index) + " appears twice",
                                     "index");
    }
  }
  return db_->Tx([&](Connection& conn) -> Status {
    {
      Result<Statement> exists = conn.Prepare("SELECT 1 FROM nodes WHERE id = ?");
      if (!exists.ok()) return exists.status();
      GPUQ_RETURN_IF_ERROR(exists->BindAll(node));
      Result<bool> row = exists->Step();
      if (!row.ok()) return row.status();
      if (!*row) return Status::NotFound("node " + std::to_string(node.value) + " not found");
    }
    Result<Statement> clear = conn.Prepare("DELETE FROM gpus WHERE node_id = ?");
    if (!clear.ok()) return clear.status();
    GPUQ_RETURN_IF_ERROR(clear->BindAll(node));
    GPUQ_RETURN_IF_ERROR(clear->Run());

    const UnixMs now = clock_->NowUnixMs();
    for (const GpuStatus& gpu : gpus) {
      Result<Statement> insert = conn.Prepare(
          "INSERT INTO gpus (node_id, idx, uuid, model, mem_total_mib, last_seen_at)"
          " VALUES (?, ?, ?, ?, ?, ?)");
      if (!insert.ok()) return insert.status();
      GPUQ_RETURN_IF_ERROR(
          insert->BindAll(node, gpu.index, gpu.uuid, gpu.model, gpu.mem_total_mib, now));
      GPUQ_RETURN_IF_ERROR(insert->Run());
    }
    return Status::Ok();
  });
}

Result<std::vector<GpuRow>> GpuInventoryStore::List(NodeId node) {
  return db_->WithLock([&](Connection& conn) -> Result<std::vector<GpuRow>> {
    Result<Statement> stmt = conn.Prepare(
        "SELECT idx, uuid, model, mem_total_mib, last_seen_at FROM gpus"
        " WHERE node_id = ? ORDER BY idx");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(node));
    std::vector<GpuRow> gpus;
    for (;;) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      GpuRow gpu;
      gpu.node_id = node;
      gpu.index = static_cast<int>(stmt->ColumnInt64(0));
      gpu.uuid = stmt->ColumnText(1);
      gpu.model = stmt->ColumnText(2);
      gpu.mem_total_mib = stmt->ColumnOptionalInt64(3);
      gpu.last_seen_at = stmt->ColumnInt64(4);
      gpus.push_back(std::move(gpu));
    }
    return gpus;
  });
}

}  // namespace gpuq
