#include "master/store/gpu_holders.h"

#include "master/store/database.h"

namespace gpuq {

Result<std::vector<GpuHolder>> ListGpuHolders(Database* db) {
  static const std::string kSql =
      "SELECT " + std::string(RunStore::kColumns) +
      ", tasks.name, users.username, users.id FROM runs"
      " JOIN tasks ON tasks.id = runs.task_id JOIN users ON users.id = tasks.user_id"
      " WHERE runs.status IN ('starting', 'running') ORDER BY runs.id";
  return db->WithLock([&](Connection& conn) -> Result<std::vector<GpuHolder>> {
    Result<Statement> stmt = conn.Prepare(kSql);
    if (!stmt.ok()) return stmt.status();
    std::vector<GpuHolder> out;
    for (;;) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      Result<RunRow> run = RunStore::ReadRunRow(*stmt, 0);
      if (!run.ok()) return run.status();
      GpuHolder h;
      h.run = std::move(*run);
      h.task_name = stmt->ColumnText(15);
      h.username = stmt->ColumnText(16);
      h.user_id = UserId(stmt->ColumnInt64(17));
      out.push_back(std::move(h));
    }
    return out;
  });
}

}  // namespace gpuq
