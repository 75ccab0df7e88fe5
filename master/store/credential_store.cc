#include "master/store/credential_store.h"

#include <string>

#include "master/store/database.h"

namespace gpuq {

Status CredentialStore::Put(UserId user, std::string_view remote_user,
                            std::string_view private_key_sealed,
                            std::string_view public_key_sha256) {
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare(
        "INSERT INTO ssh_credentials"
        " (user_id, remote_user, private_key_sealed, public_key_sha256, updated_at)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET remote_user = excluded.remote_user,"
        " private_key_sealed = excluded.private_key_sealed,"
        " public_key_sha256 = excluded.public_key_sha256, updated_at = excluded.updated_at");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(user, remote_user, Blob{private_key_sealed},
                                       public_key_sha256, clock_->NowUnixMs()));
    Status status = stmt->Run();
    if (status.code() == ErrorCode::kFailedPrecondition) {  // foreign key: no such user
      return Status::NotFound("user " + std::to_string(user.value) + " not found");
    }
    return status;
  });
}

Result<std::optional<CredentialRow>> CredentialStore::Get(UserId user) {
  return db_->WithLock([&](Connection& conn) -> Result<std::optional<CredentialRow>> {
    Result<Statement> stmt = conn.Prepare(
        "SELECT remote_user, private_key_sealed, public_key_sha256, updated_at"
        " FROM ssh_credentials WHERE user_id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(user));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return std::optional<CredentialRow>();
    CredentialRow credential;
    credential.user_id = user;
    credential.remote_user = stmt->ColumnText(0);
    credential.private_key_sealed = stmt->ColumnBlob(1);
    credential.public_key_sha256 = stmt->ColumnText(2);
    credential.updated_at = stmt->ColumnInt64(3);
    return std::optional<CredentialRow>(std::move(credential));
  });
}

Status CredentialStore::Delete(UserId user) {
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare("DELETE FROM ssh_credentials WHERE user_id = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(user));
    return stmt->Run();
  });
}

}  // namespace gpuq
