#include "master/store/token_store.h"

#include <string>

#include "master/store/database.h"

namespace gpuq {

Result<ApiTokenId> TokenStore::Insert(UserId user, std::string_view token_sha256,
                                      std::string_view name) {
  return db_->WithLock([&](Connection& conn) -> Result<ApiTokenId> {
    Result<Statement> stmt = conn.Prepare(
        "INSERT INTO api_tokens (user_id, token_sha256, name, created_at) VALUES (?, ?, ?, ?)");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(user, token_sha256, name, clock_->NowUnixMs()));
    Status status = stmt->Run();
    if (status.code() == ErrorCode::kFailedPrecondition) {  // foreign key: no such user
      return Status::NotFound("user " + std::to_string(user.value) + " not found");
    }
    if (status.code() == ErrorCode::kAlreadyExists) {
      return Status::AlreadyExists("a token with this hash already exists", "token");
    }
    GPUQ_RETURN_IF_ERROR(status);
    return ApiTokenId(conn.LastInsertRowId());
  });
}

Result<UserRow> TokenStore::FindUserByTokenHash(std::string_view token_sha256) {
  static const std::string kFind =
      "SELECT api_tokens.id, " + std::string(UserStore::kColumns) +
      " FROM api_tokens JOIN users ON users.id = api_tokens.user_id"
      " WHERE api_tokens.token_sha256 = ? AND api_tokens.revoked_at IS NULL"
      " AND users.disabled = 0";
  return db_->Tx([&](Connection& conn) -> Result<UserRow> {
    ApiTokenId token;
    Result<UserRow> user = Status::NotFound("no active token with this hash");
    {
      Result<Statement> find = conn.Prepare(kFind);
      if (!find.ok()) return find.status();
      GPUQ_RETURN_IF_ERROR(find->BindAll(token_sha256));
      Result<bool> row = find->Step();
      if (!row.ok()) return row.status();
      if (!*row) return user;
      token = ApiTokenId(find->ColumnInt64(0));
      user = UserStore::ReadUserRow(*find, 1);
      if (!user.ok()) return user;
    }  // resets `find` before the table is written
    Result<Statement> touch = conn.Prepare("UPDATE api_tokens SET last_used_at = ? WHERE id = ?");
    if (!touch.ok()) return touch.status();
    GPUQ_RETURN_IF_ERROR(touch->BindAll(clock_->NowUnixMs(), token));
    GPUQ_RETURN_IF_ERROR(touch->Run());
    return user;
  });
}

Result<std::vector<ApiTokenRow>> TokenStore::List(UserId user) {
  return db_->WithLock([&](Connection& conn) -> Result<std::vector<ApiTokenRow>> {
    Result<Statement> stmt = conn.Prepare(
        "SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM api_tokens"
        " WHERE user_id = ? ORDER BY id");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(user));
    std::vector<ApiTokenRow> tokens;
    for (;;) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      ApiTokenRow token;
      token.id = ApiTokenId(stmt->ColumnInt64(0));
      token.user_id = UserId(stmt->ColumnInt64(1));
      token.name = stmt->ColumnText(2);
      token.created_at = stmt->ColumnInt64(3);
      token.last_used_at = stmt->ColumnOptionalInt64(4);
      token.revoked_at = stmt->ColumnOptionalInt64(5);
      tokens.push_back(std::move(token));
    }
    return tokens;
  });
}

Status TokenStore::Revoke(ApiTokenId id, UserId user) {
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare(
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND user_id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(clock_->NowUnixMs(), id, user));
    GPUQ_RETURN_IF_ERROR(stmt->Run());
    if (conn.Changes() == 0) {
      return Status::NotFound("token " + std::to_string(id.value) + " not found");
    }
    return Status::Ok();
  });
}

}  // namespace gpuq
