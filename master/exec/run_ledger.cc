#include "master/exec/run_ledger.h"

#include <nlohmann/json.hpp>

#include "common/gpu_indices.h"
#include "master/store/notify_store.h"

namespace gpuq {
namespace {

bool IsFinalFailure(const std::string& status) {
  return status == "failed" || status == "cancelled" || status == "timed_out" || status == "lost";
}

// Cancels the queued or held tasks that wait for `task`, and theirs in turn.
Status CancelDependents(Connection& conn, TaskId task, UnixMs now) {
  std::vector<int64_t> pending = {task.value};
  while (!pending.empty()) {
    int64_t id = pending.back();
    pending.pop_back();
    Result<Statement> find = conn.Prepare(
        "SELECT t.id FROM tasks t, json_each(t.after_json) j "
        "WHERE j.value = ? AND t.status IN ('queued', 'held')");
    if (!find.ok()) return find.status();
    GPUQ_RETURN_IF_ERROR(find->BindAll(id));
    std::vector<int64_t> found;
    while (true) {
      Result<bool> row = find->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      found.push_back(find->ColumnInt64(0));
    }
    for (int64_t dep : found) {
      Result<Statement> cancel = conn.Prepare(
          "UPDATE tasks SET status = 'cancelled', ended_at = ?, updated_at = ? WHERE id = ?");
      if (!cancel.ok()) return cancel.status();
      GPUQ_RETURN_IF_ERROR(cancel->BindAll(now, now, dep));
      GPUQ_RETURN_IF_ERROR(cancel->Run());
      pending.push_back(dep);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<TaskRequest>> RunLedger::Runnable(std::map<TaskId, std::string>* waiting,
                                                     std::optional<int64_t> default_time_limit_s) {
  return db_->WithLock([&](Connection& conn) -> Result<std::vector<TaskRequest>> {
    // One pass over the queue: the unmet dependency and the credential are looked up per
    // task by correlated subqueries, so the scheduler makes one query per cycle.
    Result<Statement> stmt = conn.Prepare(
        "SELECT t.id, u.username, t.gpus, t.mem_mib, t.util_pct, t.exclusive, t.share, "
        "  COALESCE(t.node, ''), COALESCE(t.gpu_model, ''), t.priority, "
        "  COALESCE(t.time_limit_s, 0), COALESCE(t.queued_at, t.created_at), "
        "  (SELECT d.id || ' is ' || d.status FROM json_each(t.after_json) j "
        "     LEFT JOIN tasks d ON d.id = j.value "
        "     WHERE d.status IS NULL OR d.status != 'succeeded' LIMIT 1), "
        "  EXISTS (SELECT 1 FROM ssh_credentials c WHERE c.user_id = t.user_id), "
        "  t.gpu_ids, t.prefer_gpus "
        "FROM tasks t JOIN users u ON u.id = t.user_id "
        "WHERE t.status = 'queued' ORDER BY t.id");
    if (!stmt.ok()) return stmt.status();
    std::vector<TaskRequest> out;
    while (true) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      TaskRequest t;
      t.id = TaskId(stmt->ColumnInt64(0));
      t.user = stmt->ColumnText(1);
      t.gpus = static_cast<int>(stmt->ColumnInt64(2));
      t.mem_mib = stmt->ColumnInt64(3);
      t.util_pct = static_cast<int>(stmt->ColumnInt64(4));
      t.exclusive = stmt->ColumnInt64(5) != 0;
      t.share = stmt->ColumnInt64(6) != 0;
      t.node = stmt->ColumnText(7);
      t.gpu_model = stmt->ColumnText(8);
      t.priority = static_cast<int>(stmt->ColumnInt64(9));
      t.time_limit_s = stmt->ColumnInt64(10);
      if (t.time_limit_s <= 0 && default_time_limit_s) t.time_limit_s = *default_time_limit_s;
      t.submitted_at = stmt->ColumnInt64(11);
      Result<std::vector<int>> gpu_ids = ParseGpuIndices(stmt->ColumnText(14));
      Result<std::vector<int>> prefer = ParseGpuIndices(stmt->ColumnText(15));
      if (!gpu_ids.ok() || !prefer.ok()) {
        (*waiting)[t.id] = "the stored gpu_ids or prefer_gpus cannot be read";
        continue;
      }
      t.gpu_ids = std::move(*gpu_ids);
      t.prefer_gpus = std::move(*prefer);
      if (!stmt->ColumnIsNull(12)) {
        (*waiting)[t.id] = "waiting for task " + stmt->ColumnText(12);
        continue;
      }
      if (stmt->ColumnInt64(13) == 0) {
        (*waiting)[t.id] = "user " + t.user + " has no SSH credential stored (gpuq credential set)";
        continue;
      }
      out.push_back(std::move(t));
    }
    return out;
  });
}

Result<RunId> RunLedger::Reserve(TaskId task, NodeId node, const std::string& node_name,
                                 const std::vector<int>& gpu_indices,
                                 const std::string& remote_user,
                                 std::optional<int64_t> default_time_limit_s) {
  UnixMs now = clock_->NowUnixMs();
  return db_->Tx([&](Connection& conn) -> Result<RunId> {
    Result<Statement> claim = conn.Prepare(
        "UPDATE tasks SET status = 'starting', updated_at = ? WHERE id = ? AND status = 'queued'");
    if (!claim.ok()) return claim.status();
    GPUQ_RETURN_IF_ERROR(claim->BindAll(now, task));
    GPUQ_RETURN_IF_ERROR(claim->Run());
    if (conn.Changes() != 1) {
      return Status::FailedPrecondition("task " + std::to_string(task.value) + " is not queued");
    }
    Result<Statement> insert = conn.Prepare(
        "INSERT INTO runs (task_id, attempt, node_id, node_name, gpu_indices, remote_user, "
        "  run_dir, status, created_at, time_limit_s) "
        "VALUES (?, (SELECT COALESCE(MAX(attempt), 0) + 1 FROM runs WHERE task_id = ?), "
        "  ?, ?, ?, ?, '', 'starting', ?, "
        "  COALESCE((SELECT time_limit_s FROM tasks WHERE id = ?), ?))");
    if (!insert.ok()) return insert.status();
    GPUQ_RETURN_IF_ERROR(insert->BindAll(task, task, node, node_name, FormatGpuIndices(gpu_indices),
                                         remote_user, now, task, default_time_limit_s));
    GPUQ_RETURN_IF_ERROR(insert->Run());
    return RunId(conn.LastInsertRowId());
  });
}

Result<LaunchSpec> RunLedger::Spec(TaskId task) {
  return db_->WithLock([&](Connection& conn) -> Result<LaunchSpec> {
    Result<Statement> stmt = conn.Prepare(
        "SELECT command, COALESCE(workdir, ''), env_json, user_id, COALESCE(conda, ''), "
        "  COALESCE(venv, '') FROM tasks WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(task));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("task " + std::to_string(task.value) + " not found");
    LaunchSpec spec;
    spec.command = stmt->ColumnText(0);
    spec.workdir = stmt->ColumnText(1);
    nlohmann::json env = nlohmann::json::parse(stmt->ColumnText(2), nullptr, false);
    if (env.is_object()) {
      for (auto it = env.begin(); it != env.end(); ++it) {
        if (it->is_string()) spec.env[it.key()] = it->get<std::string>();
      }
    }
    spec.owner = UserId(stmt->ColumnInt64(3));
    spec.conda = stmt->ColumnText(4);
    spec.venv = stmt->ColumnText(5);
    return spec;
  });
}

Status RunLedger::MarkRunning(RunId run, int64_t pid) {
  UnixMs now = clock_->NowUnixMs();
  return db_->Tx([&](Connection& conn) -> Status {
    Result<Statement> r = conn.Prepare(
        "UPDATE runs SET status = 'running', pid = ?, started_at = COALESCE(started_at, ?) "
        "WHERE id = ? AND status = 'starting'");
    if (!r.ok()) return r.status();
    GPUQ_RETURN_IF_ERROR(r->BindAll(pid, now, run));
    GPUQ_RETURN_IF_ERROR(r->Run());
    if (conn.Changes() == 0) return Status::Ok();  // already running or ended
    Result<Statement> t = conn.Prepare(
        "UPDATE tasks SET status = 'running', updated_at = ? "
        "WHERE id = (SELECT task_id FROM runs WHERE id = ?) AND status = 'starting'");
    if (!t.ok()) return t.status();
    GPUQ_RETURN_IF_ERROR(t->BindAll(now, run));
    GPUQ_RETURN_IF_ERROR(t->Run());
    // In this transaction, so the notification exists if and only if the start does.
    return NotifyOutbox::RecordEvent(conn, "run_started", nlohmann::json{{"run", run.value}}.dump(),
                                     now);
  });
}

Result<bool> RunLedger::End(RunId run, const std::string& status, std::optional<int> exit_code,
                            const std::string& reason) {
  UnixMs now = clock_->NowUnixMs();
  return db_->Tx([&](Connection& conn) -> Result<bool> {
    Result<Statement> r = conn.Prepare(
        "UPDATE runs SET status = ?, exit_code = ?, ended_at = ?, end_reason = ?, "
        "  started_at = COALESCE(started_at, ?) "
        "WHERE id = ? AND status IN ('starting', 'running')");
    if (!r.ok()) return r.status();
    GPUQ_RETURN_IF_ERROR(r->BindAll(status, exit_code, now, reason, now, run));
    GPUQ_RETURN_IF_ERROR(r->Run());
    if (conn.Changes() == 0) return false;

    Result<Statement> task = conn.Prepare(
        "SELECT t.id, t.retries_left, t.cancel_requested_at IS NOT NULL, t.on_time_limit "
        "FROM tasks t JOIN runs r ON r.task_id = t.id WHERE r.id = ?");
    if (!task.ok()) return task.status();
    GPUQ_RETURN_IF_ERROR(task->BindAll(run));
    Result<bool> row = task->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Corruption("run " + std::to_string(run.value) + " has no task");
    TaskId task_id(task->ColumnInt64(0));
    int64_t retries_left = task->ColumnInt64(1);
    bool cancel_requested = task->ColumnInt64(2) != 0;
    const bool requeue_on_limit = task->ColumnText(3) == "requeue";

    bool retry = status == "failed" && retries_left > 0 && !cancel_requested;
    // A requeue is not a retry: it takes no retry and goes behind its priority class.
    bool requeue = status == "timed_out" && requeue_on_limit && !cancel_requested;
    Result<Statement> update =
        requeue ? conn.Prepare(
                      "UPDATE tasks SET status = 'queued', queued_at = ?, "
                      "updated_at = ? WHERE id = ?")
        : retry ? conn.Prepare(
                      "UPDATE tasks SET status = 'queued', "
                      "retries_left = retries_left - 1, updated_at = ? WHERE id = ?")
                : conn.Prepare(
                      "UPDATE tasks SET status = ?, ended_at = ?, updated_at = ? "
                      "WHERE id = ?");
    if (!update.ok()) return update.status();
    GPUQ_RETURN_IF_ERROR(requeue ? update->BindAll(now, now, task_id)
                         : retry ? update->BindAll(now, task_id)
                                 : update->BindAll(status, now, now, task_id));
    retry = retry || requeue;
    GPUQ_RETURN_IF_ERROR(update->Run());
    if (!retry && IsFinalFailure(status))
      GPUQ_RETURN_IF_ERROR(CancelDependents(conn, task_id, now));
    // "final": the task ended with this run (no retry), which is what task e-mails and
    // "task failed after retries" follow.
    GPUQ_RETURN_IF_ERROR(NotifyOutbox::RecordEvent(
        conn, "run_ended", nlohmann::json{{"run", run.value}, {"final", !retry}}.dump(), now));
    return true;
  });
}

Result<std::vector<LiveRun>> RunLedger::Live() {
  return db_->WithLock([&](Connection& conn) -> Result<std::vector<LiveRun>> {
    Result<Statement> stmt = conn.Prepare(
        "SELECT r.id, r.task_id, COALESCE(r.node_id, 0), r.node_name, r.gpu_indices, "
        "  r.remote_user, t.user_id, r.status, r.pid, r.created_at, r.started_at, "
        "  COALESCE(r.time_limit_s, t.time_limit_s), t.cancel_requested_at, t.share, t.mem_mib, "
        "  t.on_time_limit = 'requeue' "
        "FROM runs r JOIN tasks t ON t.id = r.task_id "
        "WHERE r.status IN ('starting', 'running') ORDER BY r.id");
    if (!stmt.ok()) return stmt.status();
    std::vector<LiveRun> out;
    while (true) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      LiveRun l;
      l.run = RunId(stmt->ColumnInt64(0));
      l.task = TaskId(stmt->ColumnInt64(1));
      l.node = NodeId(stmt->ColumnInt64(2));
      l.node_name = stmt->ColumnText(3);
      Result<std::vector<int>> gpus = ParseGpuIndices(stmt->ColumnText(4));
      if (!gpus.ok()) return gpus.status();
      l.gpu_indices = std::move(*gpus);
      l.remote_user = stmt->ColumnText(5);
      l.owner = UserId(stmt->ColumnInt64(6));
      l.status = stmt->ColumnText(7);
      l.pid = stmt->ColumnOptionalInt64(8);
      l.created_at = stmt->ColumnInt64(9);
      l.started_at = stmt->ColumnOptionalInt64(10);
      l.time_limit_s = stmt->ColumnOptionalInt64(11);
      l.cancel_requested_at = stmt->ColumnOptionalInt64(12);
      l.share = stmt->ColumnInt64(13) != 0;
      l.mem_mib = stmt->ColumnInt64(14);
      l.requeue_on_time_limit = stmt->ColumnInt64(15) != 0;
      out.push_back(std::move(l));
    }
    return out;
  });
}

}  // namespace gpuq
