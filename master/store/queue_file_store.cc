#include "master/store/queue_file_store.h"

#include "master/store/database.h"

namespace gpuq {

Result<std::map<TaskId, std::string>> QueueFileStore::List(const std::string& file) {
  return db_->WithLock([&](Connection& conn) -> Result<std::map<TaskId, std::string>> {
    Result<Statement> stmt =
        conn.Prepare("SELECT task_id, row_hash FROM queue_file_tasks WHERE file = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(file));
    std::map<TaskId, std::string> out;
    for (;;) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      out[TaskId(stmt->ColumnInt64(0))] = stmt->ColumnText(1);
    }
    return out;
  });
}

Result<std::optional<std::pair<std::string, std::string>>> QueueFileStore::Find(TaskId task) {
  using Found = std::optional<std::pair<std::string, std::string>>;
  return db_->WithLock([&](Connection& conn) -> Result<Found> {
    Result<Statement> stmt =
        conn.Prepare("SELECT file, row_hash FROM queue_file_tasks WHERE task_id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(task));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Found();
    return Found(std::pair(stmt->ColumnText(0), stmt->ColumnText(1)));
  });
}

Status QueueFileStore::Put(TaskId task, const std::string& file, const std::string& row_hash) {
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare(
        "INSERT INTO queue_file_tasks (task_id, file, row_hash) VALUES (?, ?, ?)"
        " ON CONFLICT (task_id) DO UPDATE SET file = excluded.file, row_hash = excluded.row_hash");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(task, file, row_hash));
    return stmt->Run();
  });
}

Status QueueFileStore::Remove(TaskId task) {
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare("DELETE FROM queue_file_tasks WHERE task_id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(task));
    return stmt->Run();
  });
}

Result<std::string> QueueFileStore::Fingerprint(const std::string& file) {
  return db_->WithLock([&](Connection& conn) -> Result<std::string> {
    Result<Statement> stmt = conn.Prepare(
        "SELECT COUNT(*), COALESCE(MAX(t.updated_at), 0), COALESCE(SUM(t.id), 0) "
        "FROM queue_file_tasks q JOIN tasks t ON t.id = q.task_id WHERE q.file = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(file));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return std::string();
    return std::to_string(stmt->ColumnInt64(0)) + "/" + std::to_string(stmt->ColumnInt64(1)) + "/" +
           std::to_string(stmt->ColumnInt64(2));
  });
}

}  // namespace gpuq
