#include "master/store/database.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "master/store/audit_log.h"
#include "master/store/migrations.h"
#include "master/store/user_store.h"
#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

using store_test::Exec;
using store_test::NewestMigration;
using store_test::OpenMemoryDb;
using store_test::QueryInt;
using store_test::StoreTest;
using store_test::TempDir;
using ::testing::HasSubstr;

std::string QueryText(Database& db, const std::string& sql) {
  return db.WithLock([&](Connection& conn) -> std::string {
    Result<Statement> stmt = conn.Prepare(sql);
    if (!stmt.ok()) return "error: " + stmt.status().ToString();
    Result<bool> row = stmt->Step();
    if (!row.ok()) return "error: " + row.status().ToString();
    return *row ? stmt->ColumnText(0) : "no row";
  });
}

bool TableExists(Database& db, const std::string& table) {
  return QueryInt(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '" +
                          table + "'") == 1;
}

TEST(DatabaseTest, EmbeddedMigrationsAreNumberedFromOne) {
  ASSERT_GE(kMigrationsCount, 1);
  EXPECT_EQ(EmbeddedMigrations().size(), static_cast<size_t>(kMigrationsCount));
  EXPECT_EQ(EmbeddedMigrations()[0].name, "0001_initial.sql");
  EXPECT_THAT(std::string(EmbeddedMigrations()[0].contents), HasSubstr("CREATE TABLE users"));
}

TEST(DatabaseTest, MemoryDatabaseGetsEveryTable) {
  std::unique_ptr<Database> db = OpenMemoryDb();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->schema_version(), NewestMigration());
  EXPECT_EQ(QueryInt(*db, "PRAGMA user_version"), NewestMigration());
  for (const char* table : {"users", "ssh_credentials", "api_tokens", "web_sessions", "nodes",
                            "gpus", "tasks", "runs", "settings", "audit_log"}) {
    EXPECT_TRUE(TableExists(*db, table)) << table;
  }
  EXPECT_EQ(QueryInt(*db, "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(QueryInt(*db, "PRAGMA synchronous"), 1);  // NORMAL
  EXPECT_EQ(QueryText(*db, "PRAGMA journal_mode"), "memory");
}

TEST(DatabaseTest, IndexesOnStatusColumnsExist) {
  std::unique_ptr<Database> db = OpenMemoryDb();
  ASSERT_NE(db, nullptr);
  for (const char* index : {"tasks_status", "runs_status", "runs_task_id_attempt"}) {
    EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = '" +
                                std::string(index) + "'"),
              1)
        << index;
  }
}

TEST(DatabaseTest, FileDatabaseUsesWalAndReopensIdempotently) {
  TempDir dir;
  const std::string path = dir.File("gpuq.db");
  FakeClock clock;
  {
    Result<std::unique_ptr<Database>> db = Database::Open(path);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_EQ(QueryText(**db, "PRAGMA journal_mode"), "wal");
    EXPECT_EQ((*db)->schema_version(), NewestMigration());
    ASSERT_TRUE(UserStore(db->get(), &clock).Create("alice", "h", UserRole::kUser).ok());
  }
  for (int i = 0; i < 2; ++i) {
    Result<std::unique_ptr<Database>> db = Database::Open(path);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_EQ((*db)->schema_version(), NewestMigration());
    EXPECT_EQ(QueryText(**db, "PRAGMA journal_mode"), "wal");
    Result<int64_t> count = UserStore(db->get(), &clock).Count();
    ASSERT_TRUE(count.ok());
    EXPECT_EQ(*count, 1) << "reopening must not re-run or reset migrations";
  }
}

TEST(DatabaseTest, RefusesSchemaNewerThanTheBinary) {
  TempDir dir;
  const std::string path = dir.File("gpuq.db");
  const int too_new = NewestMigration() + 6;
  {
    Result<std::unique_ptr<Database>> db = Database::Open(path);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(Exec(**db, "PRAGMA user_version = " + std::to_string(too_new)).ok());
  }
  Result<std::unique_ptr<Database>> db = Database::Open(path);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_THAT(db.status().message(),
              HasSubstr("database schema version " + std::to_string(too_new) +
                        " is newer than this gpuq binary (knows up to " +
                        std::to_string(NewestMigration()) + "): upgrade gpuq"));
}

TEST(DatabaseTest, FailedMigrationRollsBackAndNamesTheFile) {
  TempDir dir;
  const std::string path = dir.File("gpuq.db");
  const EmbeddedFile good = {"0001_first.sql", "CREATE TABLE t1 (x INTEGER);"};
  const EmbeddedFile bad = {"0002_broken.sql",
                            "CREATE TABLE t2 (x INTEGER); INSERT INTO missing VALUES (1);"};
  const EmbeddedFile both[] = {good, bad};
  Result<std::unique_ptr<Database>> failed = Database::OpenWithMigrations(path, both);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("migration 0002_broken.sql failed"));
  EXPECT_THAT(failed.status().message(), HasSubstr("no such table: missing"));

  const EmbeddedFile first_only[] = {good};
  Result<std::unique_ptr<Database>> db = Database::OpenWithMigrations(path, first_only);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->schema_version(), 1) << "0001 stays applied";
  EXPECT_TRUE(TableExists(**db, "t1"));
  EXPECT_FALSE(TableExists(**db, "t2")) << "0002 must be rolled back as a whole";
}

TEST(DatabaseTest, MigrationsApplyInNameOrderWhateverTheListOrder) {
  const EmbeddedFile second = {"0002_second.sql", "ALTER TABLE t ADD COLUMN y INTEGER;"};
  const EmbeddedFile first = {"0001_first.sql", "CREATE TABLE t (x INTEGER);"};
  const EmbeddedFile files[] = {second, first};
  Result<std::unique_ptr<Database>> db = Database::OpenWithMigrations(":memory:", files);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->schema_version(), 2);
  EXPECT_TRUE(Exec(**db, "INSERT INTO t (x, y) VALUES (1, 2)").ok());
}

TEST(DatabaseTest, RefusesMisnumberedMigrations) {
  const EmbeddedFile twice[] = {{"0001_a.sql", "SELECT 1;"}, {"0001_b.sql", "SELECT 1;"}};
  Result<std::unique_ptr<Database>> db = Database::OpenWithMigrations(":memory:", twice);
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.status().message(), HasSubstr("0001_b.sql"));
  const EmbeddedFile late_start[] = {{"0002_b.sql", "SELECT 1;"}};
  EXPECT_FALSE(Database::OpenWithMigrations(":memory:", late_start).ok());
  // A gap (numbers held by work merged later) is allowed.
  const EmbeddedFile gap[] = {{"0001_a.sql", "SELECT 1;"}, {"0003_c.sql", "SELECT 1;"}};
  db = Database::OpenWithMigrations(":memory:", gap);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->schema_version(), 3);

  const EmbeddedFile unnumbered[] = {{"initial.sql", "SELECT 1;"}};
  db = Database::OpenWithMigrations(":memory:", unnumbered);
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.status().message(), HasSubstr("initial.sql"));
}

TEST(DatabaseTest, MigrationLeavingDanglingForeignKeysFails) {
  const EmbeddedFile files[] = {{"0001_a.sql",
                                 "CREATE TABLE p (id INTEGER PRIMARY KEY);"
                                 "CREATE TABLE c (p_id INTEGER REFERENCES p(id));"
                                 "INSERT INTO c VALUES (42);"}};
  Result<std::unique_ptr<Database>> db = Database::OpenWithMigrations(":memory:", files);
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.status().message(), HasSubstr("0001_a.sql"));
}

TEST(DatabaseTest, OpenFailsForFileThatIsNotADatabase) {
  TempDir dir;
  const std::string path = dir.File("junk.db");
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("this is not an SQLite database, just some text that is long enough\n", f);
  std::fclose(f);
  Result<std::unique_ptr<Database>> db = Database::Open(path);
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.status().message(), HasSubstr(path));
}

TEST_F(StoreTest, ForeignKeysAreEnforced) {
  Status s =
      Exec(*db_, "INSERT INTO api_tokens (user_id, token_sha256, created_at) VALUES (999, 'x', 1)");
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("FOREIGN KEY constraint failed"));
}

TEST_F(StoreTest, CheckConstraintIsInvalidArgument) {
  Status s = Exec(*db_,
                  "INSERT INTO users (username, password_hash, role, created_at)"
                  " VALUES ('x', 'h', 'root', 1)");
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s.ToString();
}

TEST_F(StoreTest, UniqueViolationNamesTheColumn) {
  ASSERT_TRUE(
      Exec(*db_, "INSERT INTO settings (key, value, updated_at) VALUES ('k', 'v', 1)").ok());
  Status s = Exec(*db_, "INSERT INTO settings (key, value, updated_at) VALUES ('k', 'w', 1)");
  EXPECT_EQ(s.code(), ErrorCode::kAlreadyExists) << s.ToString();
  EXPECT_EQ(s.field(), "key");
}

TEST_F(StoreTest, PrepareErrorCarriesSqliteMessage) {
  Status s = db_->WithLock([](Connection& conn) { return conn.Prepare("SELEKT 1").status(); });
  EXPECT_EQ(s.code(), ErrorCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("syntax error"));
  EXPECT_THAT(s.message(), HasSubstr("SELEKT 1"));
}

TEST_F(StoreTest, BindErrorIsReported) {
  Status s = db_->WithLock([](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare("SELECT ?");
    if (!stmt.ok()) return stmt.status();
    return stmt->BindInt64(2, 1);  // only one parameter
  });
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("bind"));
}

TEST_F(StoreTest, StatementRoundTripsEveryType) {
  ASSERT_TRUE(Exec(*db_, "CREATE TABLE v (i INTEGER, t TEXT, b BLOB, n TEXT, o INTEGER)").ok());
  const std::string blob("a\0b\xff", 4);
  Status s = db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> insert = conn.Prepare("INSERT INTO v VALUES (?, ?, ?, ?, ?)");
    if (!insert.ok()) return insert.status();
    GPUQ_RETURN_IF_ERROR(insert->BindAll(int64_t{-5}, std::string_view(""), Blob{blob},
                                         std::nullopt, std::optional<int64_t>(7)));
    return insert->Run();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  db_->WithLock([&](Connection& conn) {
    Result<Statement> select = conn.Prepare("SELECT i, t, b, n, o, typeof(t) FROM v");
    ASSERT_TRUE(select.ok());
    Result<bool> row = select->Step();
    ASSERT_TRUE(row.ok() && *row);
    EXPECT_EQ(select->ColumnInt64(0), -5);
    EXPECT_EQ(select->ColumnOptionalText(1), std::optional<std::string>(""))
        << "an empty string must not become NULL";
    EXPECT_EQ(select->ColumnText(5), "text");
    EXPECT_EQ(select->ColumnBlob(2), blob);
    EXPECT_TRUE(select->ColumnIsNull(3));
    EXPECT_EQ(select->ColumnOptionalText(3), std::nullopt);
    EXPECT_EQ(select->ColumnOptionalInt64(4), 7);
    row = select->Step();
    ASSERT_TRUE(row.ok());
    EXPECT_FALSE(*row);
  });
}

TEST_F(StoreTest, NestedUseOfTheSameCachedStatementWorks) {
  ASSERT_TRUE(Exec(*db_, "CREATE TABLE n (x INTEGER); INSERT INTO n VALUES (1), (2);").ok());
  int64_t pairs = db_->WithLock([](Connection& conn) -> int64_t {
    const char* sql = "SELECT x FROM n ORDER BY x";
    Result<Statement> outer = conn.Prepare(sql);
    int64_t count = 0;
    while (outer.ok() && outer->Step().value()) {
      Result<Statement> inner = conn.Prepare(sql);  // the cached one is busy
      while (inner.ok() && inner->Step().value()) ++count;
    }
    return count;
  });
  EXPECT_EQ(pairs, 4);
}

TEST_F(StoreTest, CachedStatementIsResetAndUnboundForTheNextUse) {
  ASSERT_TRUE(Exec(*db_, "CREATE TABLE r (x INTEGER); INSERT INTO r VALUES (1), (2);").ok());
  const char* sql = "SELECT COUNT(*) FROM r WHERE x >= ?";
  for (int pass = 0; pass < 2; ++pass) {
    db_->WithLock([&](Connection& conn) {
      Result<Statement> stmt = conn.Prepare(sql);
      ASSERT_TRUE(stmt.ok());
      if (pass == 0) {
        ASSERT_TRUE(stmt->BindAll(2).ok());
      }
      ASSERT_TRUE(stmt->Step().value());
      // pass 1 has no binding: NULL, so nothing compares >= it.
      EXPECT_EQ(stmt->ColumnInt64(0), pass == 0 ? 1 : 0);
    });
  }
}

TEST_F(StoreTest, TxCommitsOnSuccessAndRollsBackOnError) {
  ASSERT_TRUE(Exec(*db_, "CREATE TABLE t (x INTEGER)").ok());
  Status ok = db_->Tx([](Connection& conn) { return conn.Exec("INSERT INTO t VALUES (1)"); });
  ASSERT_TRUE(ok.ok());
  Result<int> failed = db_->Tx([](Connection& conn) -> Result<int> {
    GPUQ_RETURN_IF_ERROR(conn.Exec("INSERT INTO t VALUES (2)"));
    return Status::Internal("changed my mind");
  });
  EXPECT_EQ(failed.status().message(), "changed my mind");
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM t"), 1);
  EXPECT_EQ(QueryInt(*db_, "SELECT MAX(x) FROM t"), 1);
}

TEST_F(StoreTest, NestedTxIsASavepoint) {
  ASSERT_TRUE(Exec(*db_, "CREATE TABLE t (x INTEGER)").ok());
  Status s = db_->Tx([&](Connection& conn) -> Status {
    GPUQ_RETURN_IF_ERROR(conn.Exec("INSERT INTO t VALUES (1)"));
    Status inner = db_->Tx([](Connection& c) -> Status {
      GPUQ_RETURN_IF_ERROR(c.Exec("INSERT INTO t VALUES (2)"));
      return Status::Internal("inner fails");
    });
    EXPECT_FALSE(inner.ok());
    EXPECT_TRUE(conn.InTransaction()) << "the outer transaction survives";
    return db_->Tx([](Connection& c) { return c.Exec("INSERT INTO t VALUES (3)"); });
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM t"), 2);
  EXPECT_EQ(QueryInt(*db_, "SELECT SUM(x) FROM t"), 4);
}

TEST_F(StoreTest, OuterRollbackUndoesRepositoryCallsInside) {
  UserStore users(db_.get(), &clock_);
  AuditLog audit(db_.get(), &clock_);
  Status s = db_->Tx([&](Connection&) -> Status {
    Result<UserId> id = users.Create("bob", "h", UserRole::kUser);
    if (!id.ok()) return id.status();
    GPUQ_RETURN_IF_ERROR(audit.Record(*id, "user.create", "user bob", ""));
    return Status::FailedPrecondition("abort");
  });
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM users"), 0);
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM audit_log"), 0);
}

TEST_F(StoreTest, TransactionRollsBackInDestructorUnlessCommitted) {
  ASSERT_TRUE(Exec(*db_, "CREATE TABLE t (x INTEGER)").ok());
  db_->WithLock([](Connection& conn) {
    {
      Result<Transaction> tx = Transaction::Begin(conn);
      ASSERT_TRUE(tx.ok());
      ASSERT_TRUE(conn.InTransaction());
      ASSERT_TRUE(conn.Exec("INSERT INTO t VALUES (1)").ok());
    }
    EXPECT_FALSE(conn.InTransaction());
    {
      Result<Transaction> tx = Transaction::Begin(conn);
      ASSERT_TRUE(tx.ok());
      ASSERT_TRUE(conn.Exec("INSERT INTO t VALUES (2)").ok());
      ASSERT_TRUE(tx->Commit().ok());
      EXPECT_FALSE(tx->Commit().ok()) << "a second commit is a bug, reported";
    }
  });
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM t"), 1);
  EXPECT_EQ(QueryInt(*db_, "SELECT x FROM t"), 2);
}

TEST_F(StoreTest, ManyThreadsShareOneDatabase) {
  UserStore users(db_.get(), &clock_);
  AuditLog audit(db_.get(), &clock_);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string name = "u" + std::to_string(t) + "_" + std::to_string(i);
        Result<UserId> id = users.Create(name, "h", UserRole::kUser);
        EXPECT_TRUE(id.ok()) << id.status().ToString();
        if (id.ok()) {
          EXPECT_TRUE(audit.Record(*id, "user.create", name, "").ok());
        }
        EXPECT_TRUE(users.FindByName(name).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(users.Count().value(), kThreads * kPerThread);
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM audit_log"), kThreads * kPerThread);
}

}  // namespace
}  // namespace gpuq
