#include "master/store/run_store.h"

#include <nlohmann/json.hpp>

#include "common/gpu_indices.h"
#include "master/store/database.h"
#include "master/store/task_store.h"

namespace gpuq {
namespace {

Result<std::vector<RunRow>> ReadAll(Statement& stmt) {
  std::vector<RunRow> runs;
  for (;;) {
    Result<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    Result<RunRow> run = RunStore::ReadRunRow(stmt);
    if (!run.ok()) return run.status();
    runs.push_back(std::move(*run));
  }
  return runs;
}

}  // namespace

Result<RunRow> RunStore::ReadRunRow(const Statement& stmt, int first) {
  RunRow run;
  run.id = RunId(stmt.ColumnInt64(first + 0));
  run.task_id = TaskId(stmt.ColumnInt64(first + 1));
  run.attempt = static_cast<int>(stmt.ColumnInt64(first + 2));
  if (std::optional<int64_t> node = stmt.ColumnOptionalInt64(first + 3))
    run.node_id = NodeId(*node);
  run.node_name = stmt.ColumnText(first + 4);
  Result<std::vector<int>> gpus = ParseGpuIndices(stmt.ColumnText(first + 5));
  if (!gpus.ok()) return gpus.status().WithPrefix("run " + std::to_string(run.id.value));
  run.gpu_indices = std::move(*gpus);
  run.remote_user = stmt.ColumnText(first + 6);
  run.run_dir = stmt.ColumnText(first + 7);
  run.pid = stmt.ColumnOptionalInt64(first + 8);
  std::optional<TaskStatus> status = ParseTaskStatus(stmt.ColumnText(first + 9));
  if (!status || IsPending(*status)) {
    return Status::Corruption("run " + std::to_string(run.id.value) + ": bad status " +
                              stmt.ColumnText(first + 9));
  }
  run.status = *status;
  if (std::optional<int64_t> code = stmt.ColumnOptionalInt64(first + 10)) {
    run.exit_code = static_cast<int>(*code);
  }
  run.created_at = stmt.ColumnInt64(first + 11);
  run.started_at = stmt.ColumnOptionalInt64(first + 12);
  run.ended_at = stmt.ColumnOptionalInt64(first + 13);
  run.end_reason = stmt.ColumnOptionalText(first + 14);
  return run;
}

Result<RunRow> RunStore::Get(RunId id) {
  return db_->WithLock([&](Connection& conn) -> Result<RunRow> {
    Result<Statement> stmt =
        conn.Prepare("SELECT " + std::string(kColumns) + " FROM runs WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(id));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("run " + std::to_string(id.value) + " not found");
    return ReadRunRow(*stmt);
  });
}

Result<std::vector<RunRow>> RunStore::ListForTask(TaskId task) {
  return db_->WithLock([&](Connection& conn) -> Result<std::vector<RunRow>> {
    Result<Statement> stmt = conn.Prepare("SELECT " + std::string(kColumns) +
                                          " FROM runs WHERE task_id = ? ORDER BY attempt");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(task));
    return ReadAll(*stmt);
  });
}

Result<std::vector<RunRow>> RunStore::ListForTasks(std::span<const TaskId> tasks) {
  if (tasks.empty()) return std::vector<RunRow>();
  return db_->WithLock([&](Connection& conn) -> Result<std::vector<RunRow>> {
    // One cached statement for any number of ids: they travel as a JSON array.
    Result<Statement> stmt =
        conn.Prepare("SELECT " + std::string(kColumns) +
                     " FROM runs WHERE task_id IN (SELECT value FROM json_each(?))"
                     " ORDER BY task_id, attempt");
    if (!stmt.ok()) return stmt.status();
    nlohmann::json ids = nlohmann::json::array();
    for (TaskId id : tasks) ids.push_back(id.value);
    GPUQ_RETURN_IF_ERROR(stmt->BindText(1, ids.dump()));
    return ReadAll(*stmt);
  });
}

Result<std::map<TaskStatus, int64_t>> RunStore::CountEndsByStatus() {
  return db_->WithLock([&](Connection& conn) -> Result<std::map<TaskStatus, int64_t>> {
    Result<Statement> stmt = conn.Prepare(
        "SELECT status, COUNT(*) FROM runs WHERE status NOT IN ('starting', 'running')"
        " GROUP BY status");
    if (!stmt.ok()) return stmt.status();
    return ReadStatusCounts(*stmt);
  });
}

}  // namespace gpuq
