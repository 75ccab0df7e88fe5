#ifndef GPUQ_MASTER_STORE_DATABASE_H_
#define GPUQ_MASTER_STORE_DATABASE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include "common/embedded_file.h"
#include "common/status.h"
#include "master/store/statement.h"

struct sqlite3;
struct sqlite3_stmt;

namespace gpuq {

class Database;

// The SQLite connection as seen from inside a Database::WithLock or Database::Tx callback,
// while the Database's lock is held. Never keep a Connection& (or a Statement) past the
// callback.
class Connection {
 public:
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Returns the statement for `sql`, prepared on first use and cached by its text after that.
  // Meant for fixed SQL text; build one-off SQL with PrepareUncached so the cache stays small.
  // If the cached statement is still held by a live Statement (a nested use of the same SQL),
  // a fresh uncached one is prepared instead.
  Result<Statement> Prepare(std::string_view sql);
  Result<Statement> PrepareUncached(std::string_view sql);

  // Runs one or more ;-separated statements that return nothing (sqlite3_exec).
  Status Exec(std::string_view sql);

  int64_t LastInsertRowId() const;
  // Rows changed by the most recent INSERT/UPDATE/DELETE.
  int64_t Changes() const;
  // Whether a transaction is open (sqlite3_get_autocommit() == 0).
  bool InTransaction() const;

  sqlite3* raw() const { return db_; }

 private:
  friend class Database;
  friend class Transaction;
  struct CachedStatement {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };

  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  // Node-based map: a Statement keeps a pointer to its entry's in_use flag, which stays valid
  // because entries are only erased in the destructor.
  std::unordered_map<std::string, CachedStatement> cache_;
  int64_t next_savepoint_ = 0;
};

// An RAII transaction. At the top level it is BEGIN IMMEDIATE (the write lock is taken at the
// start, so a transaction never fails half way with SQLITE_BUSY on upgrade); inside another
// transaction it is a SAVEPOINT, so transactions nest. Rolls back in the destructor unless
// Commit() succeeded. REQUIRES: used only inside a Database callback.
class Transaction {
 public:
  static Result<Transaction> Begin(Connection& conn);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // COMMIT (or RELEASE of the savepoint). On error the transaction is still open and the
  // destructor rolls it back.
  Status Commit();

 private:
  Transaction(Connection* conn, std::string savepoint)
      : conn_(conn), savepoint_(std::move(savepoint)) {}
  void Rollback();

  Connection* conn_;       // nullptr once committed, rolled back or moved from
  std::string savepoint_;  // empty at the top level
};

// The master's SQLite database: one connection, its statement cache and the schema
// migrations.
//
// Thread safety: a Database may be used from any number of threads. It holds ONE connection,
// opened with SQLITE_OPEN_NOMUTEX, and serializes every use of it with its own mutex: all
// access goes through WithLock() or Tx(), which run a callback while holding that mutex. The
// mutex is recursive, so a callback may call repositories (or WithLock/Tx) again on the same
// thread; a nested Tx becomes a SAVEPOINT of the outer transaction, which is how several
// repository calls are made atomic:
//
//   Status s = db->Tx([&](Connection&) -> Status {
//     GPUQ_RETURN_IF_ERROR(nodes.Delete(id));
//     return audit.Record(user, "node.delete", "node 3", "");
//   });
//
// Callbacks should be short: they block every other thread's database access. Never do
// network I/O inside one.
class Database {
 public:
  // Opens (creating if missing) the database at `path` (":memory:" for a private in-memory
  // database), sets journal_mode=WAL (file databases), foreign_keys=ON, busy_timeout=5000 ms
  // and synchronous=NORMAL, then applies the embedded migrations/*.sql that the database does
  // not have yet. Fails if the database's schema is newer than this binary knows, or if a
  // migration fails (that migration is rolled back; earlier ones stay applied).
  static Result<std::unique_ptr<Database>> Open(const std::string& path);

  // As Open, with the given migrations instead of the embedded ones. Each name must start
  // with its number ("0001_initial.sql"); numbers must rise from 1 in name order (gaps allowed).
  static Result<std::unique_ptr<Database>> OpenWithMigrations(
      const std::string& path, std::span<const EmbeddedFile> migrations);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() = default;

  // Runs fn(Connection&) while holding the lock and returns what it returns.
  template <typename Fn>
  auto WithLock(Fn&& fn) -> std::invoke_result_t<Fn&, Connection&> {
    std::lock_guard lock(mu_);
    return fn(*conn_);
  }

  // Runs fn(Connection&) inside a Transaction while holding the lock. fn returns Status or
  // Result<T>; the transaction commits when that is ok and rolls back otherwise. Returns fn's
  // result, or the error of BEGIN/COMMIT.
  template <typename Fn>
  auto Tx(Fn&& fn) -> std::invoke_result_t<Fn&, Connection&> {
    std::lock_guard lock(mu_);
    Result<Transaction> tx = Transaction::Begin(*conn_);
    if (!tx.ok()) return tx.status();
    auto result = fn(*conn_);
    if (!result.ok()) return result;  // ~Transaction rolls back
    Status commit = tx->Commit();
    if (!commit.ok()) return commit;
    return result;
  }

  // PRAGMA user_version after Open: the number of the newest migration applied.
  int schema_version() const { return schema_version_; }
  const std::string& path() const { return path_; }

 private:
  Database(std::string path, std::unique_ptr<Connection> conn)
      : path_(std::move(path)), conn_(std::move(conn)) {}

  Status Configure();
  Status Migrate(std::span<const EmbeddedFile> migrations);

  std::string path_;
  std::recursive_mutex mu_;
  std::unique_ptr<Connection> conn_;  // guarded by mu_
  int schema_version_ = 0;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_DATABASE_H_
