#include "master/store/task_store.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "common/gpu_indices.h"
#include "master/store/database.h"

namespace gpuq {
namespace {

constexpr std::string_view kSelect =
    "SELECT t.id, t.user_id, u.username, t.name, t.command, t.workdir, t.gpus, t.mem_mib,"
    " t.util_pct, t.exclusive, t.share, t.node, t.gpu_model, t.env_json, t.priority,"
    " t.time_limit_s, t.retries, t.retries_left, t.after_json, t.notify, t.status,"
    " t.created_at, t.updated_at, t.ended_at, t.cancel_requested_at,"
    " t.gpu_ids, t.prefer_gpus, t.on_time_limit, t.conda, t.venv"
    " FROM tasks t JOIN users u ON u.id = t.user_id";

std::string Name(TaskId id) { return "task " + std::to_string(id.value); }
Status TaskNotFound(TaskId id) { return Status::NotFound(Name(id) + " not found"); }

std::optional<std::string> NullIfEmpty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

std::string EnvJson(const std::map<std::string, std::string>& env) {
  return nlohmann::json(env).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string AfterJson(const std::vector<TaskId>& after) {
  nlohmann::json ids = nlohmann::json::array();
  for (TaskId id : after) ids.push_back(id.value);
  return ids.dump();
}

Result<TaskRow> ReadTaskRow(const Statement& stmt) {
  TaskRow row;
  row.id = TaskId(stmt.ColumnInt64(0));
  row.user_id = UserId(stmt.ColumnInt64(1));
  row.username = stmt.ColumnText(2);
  TaskSpec& s = row.spec;
  s.name = stmt.ColumnText(3);
  s.command = stmt.ColumnText(4);
  s.workdir = stmt.ColumnText(5);
  s.gpus = static_cast<int>(stmt.ColumnInt64(6));
  s.mem_mib = stmt.ColumnInt64(7);
  s.util_pct = static_cast<int>(stmt.ColumnInt64(8));
  s.exclusive = stmt.ColumnInt64(9) != 0;
  s.share = stmt.ColumnInt64(10) != 0;
  s.node = stmt.ColumnText(11);
  s.gpu_model = stmt.ColumnText(12);
  nlohmann::json env = nlohmann::json::parse(stmt.ColumnText(13), nullptr, false);
  if (!env.is_object()) return Status::Corruption(Name(row.id) + ": env_json is not an object");
  for (auto it = env.begin(); it != env.end(); ++it) {
    if (!it->is_string()) return Status::Corruption(Name(row.id) + ": env_json holds a non-string");
    s.env[it.key()] = it->get<std::string>();
  }
  s.priority = static_cast<int>(stmt.ColumnInt64(14));
  s.time_limit_s = stmt.ColumnOptionalInt64(15);
  s.retries = static_cast<int>(stmt.ColumnInt64(16));
  row.retries_left = static_cast<int>(stmt.ColumnInt64(17));
  nlohmann::json after = nlohmann::json::parse(stmt.ColumnText(18), nullptr, false);
  if (!after.is_array()) return Status::Corruption(Name(row.id) + ": after_json is not an array");
  for (const nlohmann::json& id : after) {
    if (!id.is_number_integer())
      return Status::Corruption(Name(row.id) + ": after_json holds a non-id");
    s.after.push_back(TaskId(id.get<int64_t>()));
  }
  s.notify = stmt.ColumnText(19);
  std::optional<TaskStatus> status = ParseTaskStatus(stmt.ColumnText(20));
  if (!status) return Status::Corruption(Name(row.id) + ": unknown status " + stmt.ColumnText(20));
  row.status = *status;
  s.hold = row.status == TaskStatus::kHeld;
  row.created_at = stmt.ColumnInt64(21);
  row.updated_at = stmt.ColumnInt64(22);
  row.ended_at = stmt.ColumnOptionalInt64(23);
  row.cancel_requested_at = stmt.ColumnOptionalInt64(24);
  Result<std::vector<int>> gpu_ids = ParseGpuIndices(stmt.ColumnText(25));
  if (!gpu_ids.ok())
    return Status::Corruption(Name(row.id) + ": gpu_ids: " + gpu_ids.status().message());
  s.gpu_ids = std::move(*gpu_ids);
  Result<std::vector<int>> prefer = ParseGpuIndices(stmt.ColumnText(26));
  if (!prefer.ok())
    return Status::Corruption(Name(row.id) + ": prefer_gpus: " + prefer.status().message());
  s.prefer_gpus = std::move(*prefer);
  s.on_time_limit = stmt.ColumnText(27);
  s.conda = stmt.ColumnText(28);
  s.venv = stmt.ColumnText(29);
  return row;
}

// Every row of a stepped SELECT of kSelect's columns.
Result<std::vector<TaskRow>> ReadTaskRows(Statement& stmt) {
  std::vector<TaskRow> rows;
  for (;;) {
    Result<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    Result<TaskRow> task = ReadTaskRow(stmt);
    if (!task.ok()) return task.status();
    rows.push_back(std::move(*task));
  }
  return rows;
}

// Reads the task inside the caller's lock (and transaction).
Result<TaskRow> GetLocked(Connection& conn, TaskId id) {
  Result<Statement> stmt = conn.Prepare(std::string(kSelect) + " WHERE t.id = ?");
  if (!stmt.ok()) return stmt.status();
  GPUQ_RETURN_IF_ERROR(stmt->BindAll(id));
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return TaskNotFound(id);
  return ReadTaskRow(*stmt);
}

Result<std::string> NotifyDefault(Connection& conn, UserId owner) {
  Result<Statement> stmt = conn.Prepare("SELECT notify_default FROM users WHERE id = ?");
  if (!stmt.ok()) return stmt.status();
  GPUQ_RETURN_IF_ERROR(stmt->BindAll(owner));
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::NotFound("user " + std::to_string(owner.value) + " not found");
  return stmt->ColumnText(0);
}

// The ids in `after` that name existing tasks; InvalidArgument (field "after") otherwise.
Status CheckAfterExist(Connection& conn, const std::vector<TaskId>& after) {
  for (TaskId dep : after) {
    Result<Statement> stmt = conn.Prepare("SELECT 1 FROM tasks WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(dep));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::InvalidArgument(Name(dep) + " does not exist", "after");
  }
  return Status::Ok();
}

// Refuses `after` of task `id` when it names the task itself or a task that (through its
// own dependencies) waits for `id`: such tasks would wait for each other forever.
Status CheckNoCycle(Connection& conn, TaskId id, const std::vector<TaskId>& after) {
  std::vector<TaskId> todo(after.begin(), after.end());
  std::set<TaskId> seen;
  while (!todo.empty()) {
    TaskId next = todo.back();
    todo.pop_back();
    if (next == id) {
      return Status::InvalidArgument(after.size() == 1 && after[0] == id
                                         ? "a task cannot wait for itself"
                                         : "would make tasks wait for each other forever (" +
                                               Name(id) + " is among what they wait for)",
                                     "after");
    }
    if (!seen.insert(next).second) continue;
    Result<Statement> stmt = conn.Prepare("SELECT after_json FROM tasks WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(next));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) continue;
    nlohmann::json deps = nlohmann::json::parse(stmt->ColumnText(0), nullptr, false);
    if (!deps.is_array()) continue;
    for (const nlohmann::json& d : deps) {
      if (d.is_number_integer()) todo.push_back(TaskId(d.get<int64_t>()));
    }
  }
  return Status::Ok();
}

Result<TaskId> Insert(Connection& conn, const TaskSpec& spec, UserId owner,
                      const std::string& notify_default, UnixMs now) {
  Result<Statement> stmt = conn.Prepare(
      "INSERT INTO tasks (name, user_id, command, workdir, gpus, mem_mib, util_pct, exclusive,"
      " share, node, gpu_model, env_json, priority, time_limit_s, retries, retries_left,"
      " after_json, notify, status, created_at, updated_at, gpu_ids, prefer_gpus,"
      " on_time_limit, conda, venv, queued_at)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!stmt.ok()) return stmt.status();
  GPUQ_RETURN_IF_ERROR(stmt->BindAll(
      spec.name, owner, spec.command, NullIfEmpty(spec.workdir), spec.gpus, spec.mem_mib,
      spec.util_pct, spec.exclusive, spec.share, NullIfEmpty(spec.node),
      NullIfEmpty(spec.gpu_model), EnvJson(spec.env), spec.priority, spec.time_limit_s,
      spec.retries, spec.retries, AfterJson(spec.after), spec.notify.value_or(notify_default),
      std::string(TaskStatusName(spec.hold ? TaskStatus::kHeld : TaskStatus::kQueued)), now, now,
      FormatGpuIndices(spec.gpu_ids), FormatGpuIndices(spec.prefer_gpus), spec.on_time_limit,
      NullIfEmpty(spec.conda), NullIfEmpty(spec.venv), now));
  GPUQ_RETURN_IF_ERROR(stmt->Run());
  return TaskId(conn.LastInsertRowId());
}

Status WrongState(const TaskRow& row, const char* what) {
  if (IsEnded(row.status)) {
    return Status::FailedPrecondition(Name(row.id) + " already ended (" +
                                      TaskStatusName(row.status) + ")");
  }
  return Status::FailedPrecondition(Name(row.id) + " has already started (" +
                                    TaskStatusName(row.status) + "); " + what);
}

}  // namespace

Result<TaskId> TaskStore::Create(const TaskSpec& spec, UserId owner) {
  Result<std::vector<TaskId>> ids = CreateMany(std::span<const TaskSpec>(&spec, 1), owner);
  if (!ids.ok()) return ids.status();
  return ids->front();
}

Result<std::vector<TaskId>> TaskStore::CreateMany(std::span<const TaskSpec> specs, UserId owner,
                                                  size_t* failed_index) {
  return db_->Tx([&](Connection& conn) -> Result<std::vector<TaskId>> {
    Result<std::string> notify_default = NotifyDefault(conn, owner);
    if (!notify_default.ok()) return notify_default.status();
    const UnixMs now = clock_->NowUnixMs();
    std::vector<TaskId> ids;
    ids.reserve(specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      if (failed_index != nullptr) *failed_index = i;
      GPUQ_RETURN_IF_ERROR(ValidateTaskSpec(specs[i]));
      GPUQ_RETURN_IF_ERROR(CheckAfterExist(conn, specs[i].after));
      Result<TaskId> id = Insert(conn, specs[i], owner, *notify_default, now);
      if (!id.ok()) return id.status();
      ids.push_back(*id);
    }
    if (failed_index != nullptr) *failed_index = specs.size();  // a commit error is no row's
    return ids;
  });
}

Result<TaskRow> TaskStore::Get(TaskId id) {
  return db_->WithLock([&](Connection& conn) { return GetLocked(conn, id); });
}

Result<std::vector<TaskRow>> TaskStore::List(const TaskFilter& filter) {
  return db_->WithLock([&](Connection& conn) -> Result<std::vector<TaskRow>> {
    // One SQL text per combination of filters (at most 16, each cached), so every variant
    // gets the plan that fits it.
    std::string sql(kSelect);
    std::string where;
    auto add = [&](const char* cond) {
      where += (where.empty() ? " WHERE " : " AND ") + std::string(cond);
    };
    if (!filter.statuses.empty()) add("t.status IN (SELECT value FROM json_each(?))");
    if (filter.user) add("t.user_id = ?");
    if (filter.before_id) add("t.id < ?");
    if (!filter.run_node.empty()) {
      add("(t.node = ? OR t.id IN (SELECT task_id FROM runs WHERE node_name = ?))");
    }
    sql += where + " ORDER BY t.id DESC LIMIT ?";
    Result<Statement> stmt = conn.Prepare(sql);
    if (!stmt.ok()) return stmt.status();
    int index = 0;
    if (!filter.statuses.empty()) {
      nlohmann::json names = nlohmann::json::array();
      for (TaskStatus s : filter.statuses) names.push_back(TaskStatusName(s));
      GPUQ_RETURN_IF_ERROR(stmt->BindText(++index, names.dump()));
    }
    if (filter.user) GPUQ_RETURN_IF_ERROR(stmt->BindInt64(++index, filter.user->value));
    if (filter.before_id) GPUQ_RETURN_IF_ERROR(stmt->BindInt64(++index, filter.before_id->value));
    if (!filter.run_node.empty()) {
      GPUQ_RETURN_IF_ERROR(stmt->BindText(++index, filter.run_node));
      GPUQ_RETURN_IF_ERROR(stmt->BindText(++index, filter.run_node));
    }
    GPUQ_RETURN_IF_ERROR(stmt->BindInt64(++index, std::clamp(filter.limit, 1, kMaxListLimit)));
    return ReadTaskRows(*stmt);
  });
}

Status TaskStore::Update(TaskId id, const TaskPatch& patch) {
  return db_->Tx([&](Connection& conn) -> Status {
    Result<TaskRow> row = GetLocked(conn, id);
    if (!row.ok()) return row.status();
    if (!IsPending(row->status)) {
      return WrongState(*row, "only a held or queued task can be edited");
    }
    TaskSpec spec = row->spec;
    ApplyTaskPatch(patch, &spec);
    GPUQ_RETURN_IF_ERROR(ValidateTaskSpec(spec));
    if (patch.after) {
      GPUQ_RETURN_IF_ERROR(CheckAfterExist(conn, spec.after));
      GPUQ_RETURN_IF_ERROR(CheckNoCycle(conn, id, spec.after));
    }
    Result<Statement> stmt = conn.Prepare(
        "UPDATE tasks SET name = ?, command = ?, workdir = ?, gpus = ?, mem_mib = ?,"
        " util_pct = ?, exclusive = ?, share = ?, node = ?, gpu_model = ?, env_json = ?,"
        " priority = ?, time_limit_s = ?, retries = ?, retries_left = ?, after_json = ?,"
        " notify = ?, status = ?, updated_at = ?, gpu_ids = ?, prefer_gpus = ?,"
        " on_time_limit = ?, conda = ?, venv = ? WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(
        spec.name, spec.command, NullIfEmpty(spec.workdir), spec.gpus, spec.mem_mib, spec.util_pct,
        spec.exclusive, spec.share, NullIfEmpty(spec.node), NullIfEmpty(spec.gpu_model),
        EnvJson(spec.env), spec.priority, spec.time_limit_s, spec.retries, spec.retries,
        AfterJson(spec.after), spec.notify.value_or("off"),
        std::string(TaskStatusName(spec.hold ? TaskStatus::kHeld : TaskStatus::kQueued)),
        clock_->NowUnixMs(), FormatGpuIndices(spec.gpu_ids), FormatGpuIndices(spec.prefer_gpus),
        spec.on_time_limit, NullIfEmpty(spec.conda), NullIfEmpty(spec.venv), id));
    return stmt->Run();
  });
}

Status TaskStore::SetHeld(TaskId id, bool held) {
  return db_->Tx([&](Connection& conn) -> Status {
    Result<TaskRow> row = GetLocked(conn, id);
    if (!row.ok()) return row.status();
    if (!IsPending(row->status)) {
      return WrongState(*row, "only a held or queued task can be held or released");
    }
    if (row->spec.hold == held) return Status::Ok();
    Result<Statement> stmt =
        conn.Prepare("UPDATE tasks SET status = ?, updated_at = ? WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(
        stmt->BindAll(std::string(TaskStatusName(held ? TaskStatus::kHeld : TaskStatus::kQueued)),
                      clock_->NowUnixMs(), id));
    return stmt->Run();
  });
}

Result<CancelOutcome> TaskStore::Cancel(TaskId id) {
  return db_->Tx([&](Connection& conn) -> Result<CancelOutcome> {
    Result<TaskRow> row = GetLocked(conn, id);
    if (!row.ok()) return row.status();
    if (IsEnded(row->status)) return WrongState(*row, "");
    const UnixMs now = clock_->NowUnixMs();
    const bool pending = IsPending(row->status);
    Result<Statement> stmt = conn.Prepare(
        pending ? "UPDATE tasks SET status = 'cancelled', ended_at = ?, updated_at = ?"
                  " WHERE id = ?"
                : "UPDATE tasks SET cancel_requested_at = COALESCE(cancel_requested_at, ?),"
                  " updated_at = ? WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(now, now, id));
    GPUQ_RETURN_IF_ERROR(stmt->Run());
    return pending ? CancelOutcome::kEnded : CancelOutcome::kKillRequested;
  });
}

namespace {

// Runs a SELECT of kSelect's columns with an optional user id bound first, then the limit.
Result<std::vector<TaskRow>> ListTasks(Connection& conn, const std::string& sql,
                                       std::optional<UserId> user, int limit) {
  Result<Statement> stmt = conn.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  int index = 0;
  if (user) GPUQ_RETURN_IF_ERROR(stmt->BindInt64(++index, user->value));
  GPUQ_RETURN_IF_ERROR(stmt->BindInt64(++index, std::clamp(limit, 1, TaskStore::kMaxListLimit)));
  return ReadTaskRows(*stmt);
}

}  // namespace

Result<std::vector<TaskRow>> TaskStore::QueueHead(int limit, std::optional<UserId> user) {
  // Queued before held: a held task is not waiting for GPUs. Each status is one index range.
  std::string sql = std::string(kSelect) + " WHERE t.status = 'queued'" +
                    (user ? " AND t.user_id = ?1" : "") +
                    " ORDER BY t.priority DESC, t.id LIMIT ?" + (user ? "2" : "1");
  std::string held = std::string(kSelect) + " WHERE t.status = 'held'" +
                     (user ? " AND t.user_id = ?1" : "") + " ORDER BY t.id LIMIT ?" +
                     (user ? "2" : "1");
  return db_->WithLock([&](Connection& conn) -> Result<std::vector<TaskRow>> {
    Result<std::vector<TaskRow>> queued = ListTasks(conn, sql, user, limit);
    if (!queued.ok() || static_cast<int>(queued->size()) >= limit) return queued;
    Result<std::vector<TaskRow>> rest =
        ListTasks(conn, held, user, limit - static_cast<int>(queued->size()));
    if (!rest.ok()) return rest.status();
    for (TaskRow& row : *rest) queued->push_back(std::move(row));
    return queued;
  });
}

Result<std::vector<TaskRow>> TaskStore::RecentEnds(int limit, std::optional<UserId> user) {
  std::string sql = std::string(kSelect) + " WHERE t.ended_at IS NOT NULL" +
                    (user ? " AND t.user_id = ?1" : "") + " ORDER BY t.ended_at DESC LIMIT ?" +
                    (user ? "2" : "1");
  return db_->WithLock([&](Connection& conn) { return ListTasks(conn, sql, user, limit); });
}

Result<std::map<TaskStatus, int64_t>> TaskStore::CountByStatus(std::optional<UserId> user) {
  return db_->WithLock([&](Connection& conn) -> Result<std::map<TaskStatus, int64_t>> {
    Result<Statement> stmt =
        conn.Prepare(user ? "SELECT status, COUNT(*) FROM tasks WHERE user_id = ? GROUP BY status"
                          : "SELECT status, COUNT(*) FROM tasks GROUP BY status");
    if (!stmt.ok()) return stmt.status();
    if (user) GPUQ_RETURN_IF_ERROR(stmt->BindInt64(1, user->value));
    return ReadStatusCounts(*stmt);
  });
}

Result<std::map<TaskStatus, int64_t>> ReadStatusCounts(Statement& stmt) {
  std::map<TaskStatus, int64_t> counts;
  for (;;) {
    Result<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    std::optional<TaskStatus> status = ParseTaskStatus(stmt.ColumnText(0));
    if (status) counts[*status] = stmt.ColumnInt64(1);
  }
  return counts;
}

}  // namespace gpuq
