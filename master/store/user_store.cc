#include "master/store/user_store.h"

#include <string>

#include "master/store/database.h"

namespace gpuq {
namespace {

std::string NotFound(UserId id) { return "user " + std::to_string(id.value) + " not found"; }

const std::string kSelect = "SELECT " + std::string(UserStore::kColumns) + " FROM users";

// Runs a one-row UPDATE of users whose last parameter is the id.
template <typename... Args>
Status UpdateUser(Database* db, UserId id, std::string_view sql, const Args&... args) {
  return db->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare(sql);
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(args..., id));
    GPUQ_RETURN_IF_ERROR(stmt->Run());
    if (conn.Changes() == 0) return Status::NotFound(NotFound(id));
    return Status::Ok();
  });
}

}  // namespace

const char* UserRoleName(UserRole role) {
  switch (role) {
    case UserRole::kAdmin:
      return "admin";
    case UserRole::kUser:
      return "user";
  }
  return "user";
}

std::optional<UserRole> ParseUserRole(std::string_view name) {
  if (name == "admin") return UserRole::kAdmin;
  if (name == "user") return UserRole::kUser;
  return std::nullopt;
}

Result<UserRow> UserStore::ReadUserRow(const Statement& stmt, int first) {
  UserRow row;
  row.id = UserId(stmt.ColumnInt64(first));
  row.username = stmt.ColumnText(first + 1);
  row.password_hash = stmt.ColumnText(first + 2);
  std::string role = stmt.ColumnText(first + 3);
  std::optional<UserRole> parsed = ParseUserRole(role);
  if (!parsed) {
    return Status::Corruption("user " + std::to_string(row.id.value) + " has unknown role \"" +
                              role + "\"");
  }
  row.role = *parsed;
  row.disabled = stmt.ColumnInt64(first + 4) != 0;
  row.lang = stmt.ColumnText(first + 5);
  row.notify_default = stmt.ColumnText(first + 6);
  row.created_at = stmt.ColumnInt64(first + 7);
  return row;
}

Result<UserId> UserStore::Create(std::string_view username, std::string_view password_hash,
                                 UserRole role) {
  return db_->WithLock([&](Connection& conn) -> Result<UserId> {
    Result<Statement> stmt = conn.Prepare(
        "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(
        stmt->BindAll(username, password_hash, UserRoleName(role), clock_->NowUnixMs()));
    Status status = stmt->Run();
    if (status.code() == ErrorCode::kAlreadyExists) {
      return Status::AlreadyExists("user \"" + std::string(username) + "\" already exists",
                                   "username");
    }
    GPUQ_RETURN_IF_ERROR(status);
    return UserId(conn.LastInsertRowId());
  });
}

Result<UserRow> UserStore::FindById(UserId id) {
  return db_->WithLock([&](Connection& conn) -> Result<UserRow> {
    Result<Statement> stmt = conn.Prepare(kSelect + " WHERE users.id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(id));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound(NotFound(id));
    return ReadUserRow(*stmt);
  });
}

Result<UserRow> UserStore::FindByName(std::string_view username) {
  return db_->WithLock([&](Connection& conn) -> Result<UserRow> {
    Result<Statement> stmt = conn.Prepare(kSelect + " WHERE users.username = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(username));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("user \"" + std::string(username) + "\" not found");
    return ReadUserRow(*stmt);
  });
}

Result<std::vector<UserRow>> UserStore::List() {
  return db_->WithLock([&](Connection& conn) -> Result<std::vector<UserRow>> {
    Result<Statement> stmt = conn.Prepare(kSelect + " ORDER BY users.id");
    if (!stmt.ok()) return stmt.status();
    std::vector<UserRow> users;
    for (;;) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      Result<UserRow> user = ReadUserRow(*stmt);
      if (!user.ok()) return user.status();
      users.push_back(std::move(*user));
    }
    return users;
  });
}

Result<int64_t> UserStore::Count() {
  return db_->WithLock([&](Connection& conn) -> Result<int64_t> {
    Result<Statement> stmt = conn.Prepare("SELECT COUNT(*) FROM users");
    if (!stmt.ok()) return stmt.status();
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    return stmt->ColumnInt64(0);
  });
}

Status UserStore::SetRole(UserId id, UserRole role) {
  return UpdateUser(db_, id, "UPDATE users SET role = ? WHERE id = ?", UserRoleName(role));
}

Status UserStore::SetDisabled(UserId id, bool disabled) {
  return UpdateUser(db_, id, "UPDATE users SET disabled = ? WHERE id = ?", disabled);
}

Status UserStore::SetPasswordHash(UserId id, std::string_view password_hash) {
  return UpdateUser(db_, id, "UPDATE users SET password_hash = ? WHERE id = ?", password_hash);
}

Status UserStore::SetPreferences(UserId id, std::string_view lang,
                                 std::string_view notify_default) {
  if (lang != "" && lang != "en" && lang != "zh") {
    return Status::InvalidArgument("must be \"\", \"en\" or \"zh\"", "lang");
  }
  if (notify_default != "end" && notify_default != "failure" && notify_default != "off") {
    return Status::InvalidArgument("must be \"end\", \"failure\" or \"off\"", "notify_default");
  }
  return UpdateUser(db_, id, "UPDATE users SET lang = ?, notify_default = ? WHERE id = ?", lang,
                    notify_default);
}

}  // namespace gpuq
