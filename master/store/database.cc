#include "master/store/database.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "master/store/migrations.h"

namespace gpuq {
namespace {

constexpr int kBusyTimeoutMs = 5000;

struct NumberedMigration {
  int number;
  const EmbeddedFile* file;
};

// Sorts migrations by name and checks that their numbers rise, starting at 1. A gap is
// allowed: engineers working in parallel hold numbers that land at the merge (0003 and 0005
// beside 0004); the lead may make this strict again once the numbers are contiguous.
Result<std::vector<NumberedMigration>> NumberMigrations(std::span<const EmbeddedFile> files) {
  std::vector<NumberedMigration> out;
  for (const EmbeddedFile& file : files) {
    size_t digits = 0;
    while (digits < file.name.size() && std::isdigit(static_cast<unsigned char>(file.name[digits])))
      ++digits;
    if (digits == 0 || digits > 6 || digits == file.name.size() || file.name[digits] != '_') {
      return Status::Internal("migration file name \"" + std::string(file.name) +
                              "\" does not start with its number (like 0001_initial.sql)");
    }
    out.push_back({std::stoi(std::string(file.name.substr(0, digits))), &file});
  }
  std::sort(out.begin(), out.end(), [](const NumberedMigration& a, const NumberedMigration& b) {
    return a.file->name < b.file->name;
  });
  for (size_t i = 0; i < out.size(); ++i) {
    const int previous = i == 0 ? 0 : out[i - 1].number;
    if (out[i].number <= previous || (i == 0 && out[i].number != 1)) {
      return Status::Internal("migration " + std::string(out[i].file->name) +
                              " is out of order: migrations are numbered 1, 2, 3, ... in name "
                              "order, each number once");
    }
  }
  return out;
}

Result<int64_t> QueryInt(Connection& conn, std::string_view sql) {
  Result<Statement> stmt = conn.PrepareUncached(sql);
  if (!stmt.ok()) return stmt.status();
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Internal(std::string(sql) + " returned no row");
  return stmt->ColumnInt64(0);
}

Result<std::string> QueryText(Connection& conn, std::string_view sql) {
  Result<Statement> stmt = conn.PrepareUncached(sql);
  if (!stmt.ok()) return stmt.status();
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Internal(std::string(sql) + " returned no row");
  return stmt->ColumnText(0);
}

}  // namespace

// ---- Connection ----

Connection::~Connection() {
  for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.stmt);
  cache_.clear();
  int rc = sqlite3_close(db_);
  if (rc != SQLITE_OK) {
    spdlog::error("store: closing the database failed: {}", sqlite3_errstr(rc));
  }
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it != cache_.end()) {
    if (it->second.in_use) return PrepareUncached(sql);
    it->second.in_use = true;
    return Statement(db_, it->second.stmt, &it->second.in_use);
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteError(db_, rc, "prepare \"" + std::string(sql) + "\"");
  }
  auto inserted = cache_.emplace(std::string(sql), CachedStatement{stmt, true}).first;
  return Statement(db_, stmt, &inserted->second.in_use);
}

Result<Statement> Connection::PrepareUncached(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteError(db_, rc, "prepare \"" + std::string(sql) + "\"");
  }
  return Statement(db_, stmt, nullptr);
}

Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) return Status::Ok();
  return SqliteError(db_, rc, "exec \"" + text.substr(0, 60) + (text.size() > 60 ? "...\"" : "\""));
}

int64_t Connection::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

// ---- Transaction ----

Result<Transaction> Transaction::Begin(Connection& conn) {
  if (!conn.InTransaction()) {
    GPUQ_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
    return Transaction(&conn, "");
  }
  std::string savepoint = "gpuq_sp" + std::to_string(++conn.next_savepoint_);
  GPUQ_RETURN_IF_ERROR(conn.Exec("SAVEPOINT " + savepoint));
  return Transaction(&conn, std::move(savepoint));
}

Transaction::Transaction(Transaction&& other) noexcept
    : conn_(other.conn_), savepoint_(std::move(other.savepoint_)) {
  other.conn_ = nullptr;
}

Transaction::~Transaction() {
  if (conn_ != nullptr) Rollback();
}

Status Transaction::Commit() {
  if (conn_ == nullptr) return Status::Internal("transaction already finished");
  GPUQ_RETURN_IF_ERROR(conn_->Exec(savepoint_.empty() ? "COMMIT" : "RELEASE " + savepoint_));
  conn_ = nullptr;
  return Status::Ok();
}

void Transaction::Rollback() {
  Status status;
  if (savepoint_.empty()) {
    // SQLite may already have rolled back by itself (after SQLITE_FULL, SQLITE_IOERR, ...).
    if (conn_->InTransaction()) status = conn_->Exec("ROLLBACK");
  } else {
    status = conn_->Exec("ROLLBACK TO " + savepoint_ + "; RELEASE " + savepoint_);
  }
  if (!status.ok()) spdlog::error("store: rollback failed: {}", status.ToString());
  conn_ = nullptr;
}

// ---- Database ----

Result<std::unique_ptr<Database>> Database::Open(const std::string& path) {
  return OpenWithMigrations(path, EmbeddedMigrations());
}

Result<std::unique_ptr<Database>> Database::OpenWithMigrations(
    const std::string& path, std::span<const EmbeddedFile> migrations) {
  if (sqlite3_threadsafe() == 0) {
    return Status::Internal("sqlite3 was built without thread support (SQLITE_THREADSAFE=0)");
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status status = SqliteError(db, rc, "cannot open database " + path);
    sqlite3_close(db);
    return status;
  }
  std::unique_ptr<Database> database(
      new Database(path, std::unique_ptr<Connection>(new Connection(db))));
  std::lock_guard lock(database->mu_);
  GPUQ_RETURN_IF_ERROR(database->Configure().WithPrefix("database " + path));
  GPUQ_RETURN_IF_ERROR(database->Migrate(migrations).WithPrefix("database " + path));
  return database;
}

Status Database::Configure() {
  Connection& conn = *conn_;
  sqlite3_extended_result_codes(conn.raw(), 1);
  int rc = sqlite3_busy_timeout(conn.raw(), kBusyTimeoutMs);
  if (rc != SQLITE_OK) return SqliteError(conn.raw(), rc, "busy_timeout");

  // journal_mode answers with the mode now in force: "memory" for an in-memory database.
  Result<std::string> mode = QueryText(conn, "PRAGMA journal_mode=WAL");
  if (!mode.ok()) return mode.status();
  if (*mode != "wal" && *mode != "memory") {
    spdlog::warn("store: {}: journal_mode is {}, not wal (does the file system support it?)", path_,
                 *mode);
  }
  GPUQ_RETURN_IF_ERROR(conn.Exec("PRAGMA synchronous=NORMAL"));
  return Status::Ok();
}

Status Database::Migrate(std::span<const EmbeddedFile> files) {
  Connection& conn = *conn_;
  Result<std::vector<NumberedMigration>> migrations = NumberMigrations(files);
  if (!migrations.ok()) return migrations.status();
  const int newest = migrations->empty() ? 0 : migrations->back().number;

  auto check_version = [&](int64_t version) -> Status {
    if (version > newest) {
      return Status::FailedPrecondition("database schema version " + std::to_string(version) +
                                        " is newer than this gpuq binary (knows up to " +
                                        std::to_string(newest) + "): upgrade gpuq");
    }
    return Status::Ok();
  };
  Result<int64_t> version = QueryInt(conn, "PRAGMA user_version");
  if (!version.ok()) return version.status();
  GPUQ_RETURN_IF_ERROR(check_version(*version));

  // Foreign keys are off while migrating so that a migration may rebuild a table (SQLite's
  // "12-step" ALTER); PRAGMA foreign_key_check before each commit keeps the data consistent.
  // The pragma is a no-op inside a transaction, so it is set here, between them.
  GPUQ_RETURN_IF_ERROR(conn.Exec("PRAGMA foreign_keys=OFF"));
  for (const NumberedMigration& migration : *migrations) {
    if (migration.number <= *version) continue;
    const std::string name(migration.file->name);
    Result<Transaction> tx = Transaction::Begin(conn);
    if (!tx.ok()) return tx.status().WithPrefix("migration " + name);
    // Another process may have migrated since we looked.
    version = QueryInt(conn, "PRAGMA user_version");
    if (!version.ok()) return version.status();
    GPUQ_RETURN_IF_ERROR(check_version(*version));
    if (migration.number <= *version) continue;

    std::string script(migration.file->contents);
    int rc = sqlite3_exec(conn.raw(), script.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqliteError(conn.raw(), rc, "migration " + name + " failed");
    if (!conn.InTransaction()) {
      return Status::Internal("migration " + name + " failed: it ended the transaction");
    }
    Result<Statement> fk_check = conn.PrepareUncached("PRAGMA foreign_key_check");
    if (!fk_check.ok()) return fk_check.status();
    Result<bool> violation = fk_check->Step();
    if (!violation.ok()) return violation.status().WithPrefix("migration " + name);
    if (*violation) {
      return Status::Corruption("migration " + name + " failed: it leaves rows in table " +
                                fk_check->ColumnText(0) + " whose foreign key points nowhere");
    }
    GPUQ_RETURN_IF_ERROR(conn.Exec("PRAGMA user_version=" + std::to_string(migration.number)));
    GPUQ_RETURN_IF_ERROR(tx->Commit().WithPrefix("migration " + name));
    *version = migration.number;
    // Quiet for in-memory databases: tests open hundreds.
    spdlog::log(path_ == ":memory:" ? spdlog::level::debug : spdlog::level::info,
                "store: {}: applied migration {}", path_, name);
  }

  GPUQ_RETURN_IF_ERROR(conn.Exec("PRAGMA foreign_keys=ON"));
  Result<int64_t> foreign_keys = QueryInt(conn, "PRAGMA foreign_keys");
  if (!foreign_keys.ok()) return foreign_keys.status();
  if (*foreign_keys != 1) {
    return Status::Internal("sqlite3 was built without foreign key support");
  }
  schema_version_ = static_cast<int>(*version);
  return Status::Ok();
}

}  // namespace gpuq
