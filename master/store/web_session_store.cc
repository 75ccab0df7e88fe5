#include "master/store/web_session_store.h"

#include "master/store/database.h"

namespace gpuq {

Status WebSessionStore::Create(const WebSessionRow& s) {
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare(
        "INSERT INTO web_sessions (id, user_id, csrf_token, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(
        stmt->BindAll(s.id_sha256, s.user_id, s.csrf_token, s.created_at, s.expires_at));
    Status status = stmt->Run();
    if (status.code() == ErrorCode::kFailedPrecondition) {  // foreign key: no such user
      return Status::NotFound("user " + std::to_string(s.user_id.value) + " not found");
    }
    return status;
  });
}

Result<std::pair<WebSessionRow, UserRow>> WebSessionStore::FindLive(std::string_view id_sha256) {
  static const std::string kFind =
      "SELECT web_sessions.id, web_sessions.user_id, web_sessions.csrf_token,"
      " web_sessions.created_at, web_sessions.expires_at, " +
      std::string(UserStore::kColumns) +
      " FROM web_sessions JOIN users ON users.id = web_sessions.user_id"
      " WHERE web_sessions.id = ? AND web_sessions.expires_at > ? AND users.disabled = 0";
  return db_->WithLock([&](Connection& conn) -> Result<std::pair<WebSessionRow, UserRow>> {
    Result<Statement> stmt = conn.Prepare(kFind);
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(id_sha256, clock_->NowUnixMs()));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("no live session");
    WebSessionRow session;
    session.id_sha256 = stmt->ColumnText(0);
    session.user_id = UserId(stmt->ColumnInt64(1));
    session.csrf_token = stmt->ColumnText(2);
    session.created_at = stmt->ColumnInt64(3);
    session.expires_at = stmt->ColumnInt64(4);
    Result<UserRow> user = UserStore::ReadUserRow(*stmt, 5);
    if (!user.ok()) return user.status();
    return std::make_pair(std::move(session), std::move(*user));
  });
}

Status WebSessionStore::Delete(std::string_view id_sha256) {
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare("DELETE FROM web_sessions WHERE id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(id_sha256));
    return stmt->Run();
  });
}

Status WebSessionStore::DeleteForUser(UserId user) {
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare("DELETE FROM web_sessions WHERE user_id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(user));
    return stmt->Run();
  });
}

Result<int64_t> WebSessionStore::DeleteExpired() {
  return db_->WithLock([&](Connection& conn) -> Result<int64_t> {
    Result<Statement> stmt = conn.Prepare("DELETE FROM web_sessions WHERE expires_at <= ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(clock_->NowUnixMs()));
    GPUQ_RETURN_IF_ERROR(stmt->Run());
    return conn.Changes();
  });
}

}  // namespace gpuq
