#include "master/store/audit_log.h"

#include <algorithm>
#include <limits>
#include <string>

#include "master/store/database.h"

namespace gpuq {

Status AuditLog::Record(std::optional<UserId> user, std::string_view action,
                        std::string_view target, std::string_view detail) {
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare(
        "INSERT INTO audit_log (at, user_id, action, target, detail) VALUES (?, ?, ?, ?, ?)");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(clock_->NowUnixMs(), user, action, target, detail));
    Status status = stmt->Run();
    if (status.code() == ErrorCode::kFailedPrecondition) {  // foreign key: no such user
      return Status::NotFound("user " + std::to_string(user.value_or(UserId()).value) +
                              " not found");
    }
    return status;
  });
}

Result<std::vector<AuditEntry>> AuditLog::List(int limit, std::optional<int64_t> before_id) {
  limit = std::clamp(limit, 1, kMaxListLimit);
  return db_->WithLock([&](Connection& conn) -> Result<std::vector<AuditEntry>> {
    Result<Statement> stmt = conn.Prepare(
        "SELECT id, at, user_id, action, target, detail FROM audit_log"
        " WHERE id < ? ORDER BY id DESC LIMIT ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(
        stmt->BindAll(before_id.value_or(std::numeric_limits<int64_t>::max()), limit));
    std::vector<AuditEntry> entries;
    for (;;) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      AuditEntry entry;
      entry.id = stmt->ColumnInt64(0);
      entry.at = stmt->ColumnInt64(1);
      if (!stmt->ColumnIsNull(2)) entry.user_id = UserId(stmt->ColumnInt64(2));
      entry.action = stmt->ColumnText(3);
      entry.target = stmt->ColumnText(4);
      entry.detail = stmt->ColumnText(5);
      entries.push_back(std::move(entry));
    }
    return entries;
  });
}

}  // namespace gpuq
