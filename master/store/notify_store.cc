#include "master/store/notify_store.h"

#include <nlohmann/json.hpp>

#include "master/store/database.h"

namespace gpuq {
namespace {

constexpr char kTargetColumns[] =
    "id, name, kind, address, format, events_json, enabled, created_at, updated_at";
constexpr char kMessageColumns[] =
    "id, event_id, event, channel, target_id, recipient, format, subject, body, status, "
    "attempts, next_attempt_at, last_error, created_at, sent_at";

std::string EventsJson(const std::vector<std::string>& events) {
  return nlohmann::json(events).dump();
}

NotifyTargetRow ReadTarget(const Statement& s) {
  NotifyTargetRow t;
  t.id = s.ColumnInt64(0);
  t.name = s.ColumnText(1);
  t.kind = s.ColumnText(2);
  t.address = s.ColumnText(3);
  t.format = s.ColumnText(4);
  nlohmann::json events = nlohmann::json::parse(s.ColumnText(5), nullptr, false);
  if (events.is_array()) {
    for (const auto& e : events) {
      if (e.is_string()) t.events.push_back(e.get<std::string>());
    }
  }
  t.enabled = s.ColumnInt64(6) != 0;
  t.created_at = s.ColumnInt64(7);
  t.updated_at = s.ColumnInt64(8);
  return t;
}

NotificationRow ReadMessage(const Statement& s) {
  NotificationRow m;
  m.id = s.ColumnInt64(0);
  m.event_id = s.ColumnOptionalInt64(1);
  m.event = s.ColumnText(2);
  m.channel = s.ColumnText(3);
  m.target_id = s.ColumnOptionalInt64(4);
  m.recipient = s.ColumnText(5);
  m.format = s.ColumnText(6);
  m.subject = s.ColumnText(7);
  m.body = s.ColumnText(8);
  m.status = s.ColumnText(9);
  m.attempts = static_cast<int>(s.ColumnInt64(10));
  m.next_attempt_at = s.ColumnInt64(11);
  m.last_error = s.ColumnText(12);
  m.created_at = s.ColumnInt64(13);
  m.sent_at = s.ColumnOptionalInt64(14);
  return m;
}

template <typename Row, typename Read>
Result<std::vector<Row>> ReadAll(Statement& stmt, Read read) {
  std::vector<Row> out;
  for (;;) {
    Result<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(read(stmt));
  }
}

Result<int64_t> InsertMessage(Connection& conn, const NotificationRow& m, UnixMs now) {
  Result<Statement> stmt = conn.Prepare(
      "INSERT INTO notifications (event_id, event, channel, target_id, recipient, format, "
      "  subject, body, status, attempts, next_attempt_at, last_error, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, '', ?)");
  if (!stmt.ok()) return stmt.status();
  GPUQ_RETURN_IF_ERROR(stmt->BindAll(m.event_id, m.event, m.channel, m.target_id, m.recipient,
                                     m.format, m.subject, m.body, now, now));
  GPUQ_RETURN_IF_ERROR(stmt->Run());
  return conn.LastInsertRowId();
}

}  // namespace

// ---- Targets ----

Result<std::vector<NotifyTargetRow>> NotifyTargetStore::List() {
  return db_->WithLock([&](Connection& conn) -> Result<std::vector<NotifyTargetRow>> {
    Result<Statement> stmt =
        conn.Prepare(std::string("SELECT ") + kTargetColumns + " FROM notify_targets ORDER BY id");
    if (!stmt.ok()) return stmt.status();
    return ReadAll<NotifyTargetRow>(*stmt, ReadTarget);
  });
}

Result<NotifyTargetRow> NotifyTargetStore::Get(int64_t id) {
  return db_->WithLock([&](Connection& conn) -> Result<NotifyTargetRow> {
    Result<Statement> stmt =
        conn.Prepare(std::string("SELECT ") + kTargetColumns + " FROM notify_targets WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(id));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("notification target " + std::to_string(id) + " not found");
    return ReadTarget(*stmt);
  });
}

Result<int64_t> NotifyTargetStore::Create(const NotifyTargetRow& t) {
  UnixMs now = clock_->NowUnixMs();
  return db_->WithLock([&](Connection& conn) -> Result<int64_t> {
    Result<Statement> stmt = conn.Prepare(
        "INSERT INTO notify_targets (name, kind, address, format, events_json, enabled, "
        "  created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(t.name, t.kind, t.address, t.format, EventsJson(t.events),
                                       t.enabled, now, now));
    GPUQ_RETURN_IF_ERROR(stmt->Run());
    return conn.LastInsertRowId();
  });
}

Status NotifyTargetStore::Update(const NotifyTargetRow& t) {
  UnixMs now = clock_->NowUnixMs();
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare(
        "UPDATE notify_targets SET name = ?, kind = ?, address = ?, format = ?, events_json = ?, "
        "  enabled = ?, updated_at = ? WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(t.name, t.kind, t.address, t.format, EventsJson(t.events),
                                       t.enabled, now, t.id));
    GPUQ_RETURN_IF_ERROR(stmt->Run());
    if (conn.Changes() == 0) {
      return Status::NotFound("notification target " + std::to_string(t.id) + " not found");
    }
    return Status::Ok();
  });
}

Status NotifyTargetStore::Delete(int64_t id) {
  return db_->Tx([&](Connection& conn) -> Status {
    // Its queued messages stop being retried (an admin removes a broken webhook to end them)
    // and stay visible as failed.
    Result<Statement> drop = conn.Prepare(
        "UPDATE notifications SET status = 'failed', last_error = 'its target was deleted' "
        "WHERE target_id = ? AND status = 'pending'");
    if (!drop.ok()) return drop.status();
    GPUQ_RETURN_IF_ERROR(drop->BindAll(id));
    GPUQ_RETURN_IF_ERROR(drop->Run());
    Result<Statement> stmt = conn.Prepare("DELETE FROM notify_targets WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(id));
    GPUQ_RETURN_IF_ERROR(stmt->Run());
    if (conn.Changes() == 0) {
      return Status::NotFound("notification target " + std::to_string(id) + " not found");
    }
    return Status::Ok();
  });
}

// ---- Events ----

Status NotifyOutbox::RecordEvent(Connection& conn, std::string_view kind,
                                 std::string_view facts_json, UnixMs now) {
  Result<Statement> stmt =
      conn.Prepare("INSERT INTO notify_events (kind, facts_json, created_at) VALUES (?, ?, ?)");
  if (!stmt.ok()) return stmt.status();
  GPUQ_RETURN_IF_ERROR(stmt->BindAll(kind, facts_json, now));
  return stmt->Run();
}

Status NotifyOutbox::RecordEvent(std::string_view kind, std::string_view facts_json) {
  UnixMs now = clock_->NowUnixMs();
  return db_->WithLock(
      [&](Connection& conn) -> Status { return RecordEvent(conn, kind, facts_json, now); });
}

Result<std::vector<NotifyEventRow>> NotifyOutbox::Undispatched(int limit) {
  return db_->WithLock([&](Connection& conn) -> Result<std::vector<NotifyEventRow>> {
    Result<Statement> stmt = conn.Prepare(
        "SELECT id, kind, facts_json, created_at FROM notify_events "
        "WHERE dispatched_at IS NULL ORDER BY id LIMIT ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(limit));
    return ReadAll<NotifyEventRow>(*stmt, [](const Statement& s) {
      return NotifyEventRow{s.ColumnInt64(0), s.ColumnText(1), s.ColumnText(2), s.ColumnInt64(3)};
    });
  });
}

Result<bool> NotifyOutbox::Dispatch(int64_t event_id,
                                    const std::vector<NotificationRow>& messages) {
  UnixMs now = clock_->NowUnixMs();
  return db_->Tx([&](Connection& conn) -> Result<bool> {
    Result<Statement> mark = conn.Prepare(
        "UPDATE notify_events SET dispatched_at = ? WHERE id = ? AND dispatched_at IS NULL");
    if (!mark.ok()) return mark.status();
    GPUQ_RETURN_IF_ERROR(mark->BindAll(now, event_id));
    GPUQ_RETURN_IF_ERROR(mark->Run());
    if (conn.Changes() == 0) return false;
    for (NotificationRow m : messages) {
      m.event_id = event_id;
      Result<int64_t> id = InsertMessage(conn, m, now);
      if (!id.ok()) return id.status();
    }
    return true;
  });
}

Result<int64_t> NotifyOutbox::Insert(const NotificationRow& message) {
  UnixMs now = clock_->NowUnixMs();
  return db_->WithLock(
      [&](Connection& conn) -> Result<int64_t> { return InsertMessage(conn, message, now); });
}

// ---- Messages ----

Result<std::vector<NotificationRow>> NotifyOutbox::Due(UnixMs now, int limit) {
  return db_->WithLock([&](Connection& conn) -> Result<std::vector<NotificationRow>> {
    Result<Statement> stmt =
        conn.Prepare(std::string("SELECT ") + kMessageColumns +
                     " FROM notifications WHERE status = 'pending' AND next_attempt_at <= ? "
                     "ORDER BY next_attempt_at, id LIMIT ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(now, limit));
    return ReadAll<NotificationRow>(*stmt, ReadMessage);
  });
}

Result<std::optional<UnixMs>> NotifyOutbox::NextDue() {
  return db_->WithLock([&](Connection& conn) -> Result<std::optional<UnixMs>> {
    Result<Statement> stmt =
        conn.Prepare("SELECT MIN(next_attempt_at) FROM notifications WHERE status = 'pending'");
    if (!stmt.ok()) return stmt.status();
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    return stmt->ColumnOptionalInt64(0);
  });
}

Status NotifyOutbox::MarkSent(int64_t id) {
  UnixMs now = clock_->NowUnixMs();
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare(
        "UPDATE notifications SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
        "  last_error = '' WHERE id = ? AND status = 'pending'");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(now, id));
    return stmt->Run();
  });
}

Status NotifyOutbox::MarkAttemptFailed(int64_t id, const std::string& error, UnixMs next_attempt_at,
                                       bool give_up) {
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare(
        "UPDATE notifications SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, "
        "  status = ? WHERE id = ? AND status = 'pending'");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(error, next_attempt_at, give_up ? "failed" : "pending", id));
    return stmt->Run();
  });
}

Status NotifyOutbox::Defer(int64_t id, const std::string& why, UnixMs next_attempt_at) {
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare(
        "UPDATE notifications SET last_error = ?, next_attempt_at = ? "
        "WHERE id = ? AND status = 'pending'");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(why, next_attempt_at, id));
    return stmt->Run();
  });
}

Status NotifyOutbox::Retry(int64_t id) {
  UnixMs now = clock_->NowUnixMs();
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare(
        "UPDATE notifications SET status = 'pending', attempts = 0, next_attempt_at = ? "
        "WHERE id = ? AND status = 'failed'");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(now, id));
    GPUQ_RETURN_IF_ERROR(stmt->Run());
    if (conn.Changes() == 1) return Status::Ok();
    Result<NotificationRow> row = Get(id);
    if (!row.ok()) return row.status();
    return Status::FailedPrecondition("notification " + std::to_string(id) + " is " + row->status +
                                      ", not failed");
  });
}

Result<NotificationRow> NotifyOutbox::Get(int64_t id) {
  return db_->WithLock([&](Connection& conn) -> Result<NotificationRow> {
    Result<Statement> stmt =
        conn.Prepare(std::string("SELECT ") + kMessageColumns + " FROM notifications WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(id));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("notification " + std::to_string(id) + " not found");
    return ReadMessage(*stmt);
  });
}

Result<std::vector<NotificationRow>> NotifyOutbox::List(const std::string& status, int limit) {
  return db_->WithLock([&](Connection& conn) -> Result<std::vector<NotificationRow>> {
    Result<Statement> stmt = conn.Prepare(std::string("SELECT ") + kMessageColumns +
                                          " FROM notifications WHERE (? = '' OR status = ?) "
                                          "ORDER BY id DESC LIMIT ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(status, status, limit));
    return ReadAll<NotificationRow>(*stmt, ReadMessage);
  });
}

Status NotifyOutbox::Prune(UnixMs before) {
  return db_->Tx([&](Connection& conn) -> Status {
    GPUQ_RETURN_IF_ERROR(
        conn.Exec("DELETE FROM notifications WHERE status != 'pending' AND created_at < " +
                  std::to_string(before)));
    return conn.Exec("DELETE FROM notify_events WHERE dispatched_at IS NOT NULL AND created_at < " +
                     std::to_string(before));
  });
}

// ---- Runs ----

namespace {

constexpr char kRunSelect[] =
    "SELECT r.id, r.attempt, r.node_id, r.node_name, r.gpu_indices, r.status, r.exit_code, "
    "  r.started_at, r.ended_at, COALESCE(r.end_reason, ''), t.id, t.name, t.command, t.notify, "
    "  u.username, u.email "
    "FROM runs r JOIN tasks t ON t.id = r.task_id JOIN users u ON u.id = t.user_id ";

RunNotifyRow ReadRun(const Statement& s) {
  RunNotifyRow r;
  r.run = RunId(s.ColumnInt64(0));
  r.attempt = static_cast<int>(s.ColumnInt64(1));
  if (!s.ColumnIsNull(2)) r.node_id = NodeId(s.ColumnInt64(2));
  r.node_name = s.ColumnText(3);
  r.gpu_indices = s.ColumnText(4);
  r.run_status = s.ColumnText(5);
  if (!s.ColumnIsNull(6)) r.exit_code = static_cast<int>(s.ColumnInt64(6));
  r.started_at = s.ColumnOptionalInt64(7);
  r.ended_at = s.ColumnOptionalInt64(8);
  r.end_reason = s.ColumnText(9);
  r.task = TaskId(s.ColumnInt64(10));
  r.task_name = s.ColumnText(11);
  r.command = s.ColumnText(12);
  r.task_notify = s.ColumnText(13);
  r.username = s.ColumnText(14);
  r.email = s.ColumnText(15);
  return r;
}

}  // namespace

Result<RunNotifyRow> LoadRunForNotify(Database* db, RunId run) {
  return db->WithLock([&](Connection& conn) -> Result<RunNotifyRow> {
    Result<Statement> stmt = conn.Prepare(std::string(kRunSelect) + "WHERE r.id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(run));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("run " + std::to_string(run.value) + " not found");
    return ReadRun(*stmt);
  });
}

Result<std::vector<RunNotifyRow>> RunningRunsForNotify(Database* db) {
  return db->WithLock([&](Connection& conn) -> Result<std::vector<RunNotifyRow>> {
    Result<Statement> stmt =
        conn.Prepare(std::string(kRunSelect) + "WHERE r.status = 'running' ORDER BY r.id");
    if (!stmt.ok()) return stmt.status();
    return ReadAll<RunNotifyRow>(*stmt, ReadRun);
  });
}

Result<bool> HasRunEvent(Database* db, std::string_view kind, RunId run) {
  return db->WithLock([&](Connection& conn) -> Result<bool> {
    Result<Statement> stmt = conn.Prepare(
        "SELECT EXISTS (SELECT 1 FROM notify_events WHERE kind = ? "
        "  AND json_extract(facts_json, '$.run') = ?)");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(kind, run));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    return stmt->ColumnInt64(0) != 0;
  });
}

// ---- Users ----

Result<std::string> GetUserEmail(Database* db, UserId user) {
  return db->WithLock([&](Connection& conn) -> Result<std::string> {
    Result<Statement> stmt = conn.Prepare("SELECT email FROM users WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(user));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("user " + std::to_string(user.value) + " not found");
    return stmt->ColumnText(0);
  });
}

Status SetUserEmail(Database* db, UserId user, std::string_view email) {
  return db->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare("UPDATE users SET email = ? WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(email, user));
    GPUQ_RETURN_IF_ERROR(stmt->Run());
    if (conn.Changes() == 0)
      return Status::NotFound("user " + std::to_string(user.value) + " not found");
    return Status::Ok();
  });
}

}  // namespace gpuq
