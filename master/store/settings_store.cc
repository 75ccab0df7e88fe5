#include "master/store/settings_store.h"

#include "master/store/database.h"

namespace gpuq {

Result<std::optional<std::string>> SettingsStore::Get(std::string_view key) {
  return db_->WithLock([&](Connection& conn) -> Result<std::optional<std::string>> {
    Result<Statement> stmt = conn.Prepare("SELECT value FROM settings WHERE key = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(key));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return std::optional<std::string>();
    return std::optional<std::string>(stmt->ColumnText(0));
  });
}

Status SettingsStore::Set(std::string_view key, std::string_view value) {
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare(
        "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = "
        "excluded.updated_at");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(key, value, clock_->NowUnixMs()));
    return stmt->Run();
  });
}

Status SettingsStore::Delete(std::string_view key) {
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare("DELETE FROM settings WHERE key = ?");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(key));
    return stmt->Run();
  });
}

Result<std::map<std::string, std::string>> SettingsStore::All() {
  return db_->WithLock([&](Connection& conn) -> Result<std::map<std::string, std::string>> {
    Result<Statement> stmt = conn.Prepare("SELECT key, value FROM settings");
    if (!stmt.ok()) return stmt.status();
    std::map<std::string, std::string> settings;
    for (;;) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      settings.emplace(stmt->ColumnText(0), stmt->ColumnText(1));
    }
    return settings;
  });
}

}  // namespace gpuq
