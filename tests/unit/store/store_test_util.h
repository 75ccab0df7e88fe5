#ifndef GPUQ_TESTS_UNIT_STORE_STORE_TEST_UTIL_H_
#define GPUQ_TESTS_UNIT_STORE_STORE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "master/store/database.h"
#include "master/store/migrations.h"
#include "tests/unit/temp_dir.h"

namespace gpuq::store_test {

using test::TempDir;

// Opens a private in-memory database with the real migrations, failing the test if it cannot.
inline std::unique_ptr<Database> OpenMemoryDb() {
  Result<std::unique_ptr<Database>> db = Database::Open(":memory:");
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(*db) : nullptr;
}

// The number of the newest embedded migration.
inline int NewestMigration() { return kMigrationsCount; }

// Runs SQL that returns one integer (a count, a pragma).
inline int64_t QueryInt(Database& db, const std::string& sql) {
  return db.WithLock([&](Connection& conn) -> int64_t {
    Result<Statement> stmt = conn.Prepare(sql);
    EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
    if (!stmt.ok()) return -1;
    Result<bool> row = stmt->Step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    return row.ok() && *row ? stmt->ColumnInt64(0) : -1;
  });
}

// Runs SQL that returns nothing.
inline Status Exec(Database& db, const std::string& sql) {
  return db.WithLock([&](Connection& conn) { return conn.Exec(sql); });
}

// Base fixture: an in-memory database and a fake clock.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenMemoryDb();
    ASSERT_NE(db_, nullptr);
  }

  std::unique_ptr<Database> db_;
  FakeClock clock_;
};

// The ids of rows, in order (tasks, runs, audit entries, ...): typed ids and plain integers.
inline int64_t IdValue(int64_t id) { return id; }
template <typename Id>
int64_t IdValue(const Id& id) {
  return id.value;
}
template <typename Row>
std::vector<int64_t> Ids(const std::vector<Row>& rows) {
  std::vector<int64_t> ids;
  for (const Row& row : rows) ids.push_back(IdValue(row.id));
  return ids;
}

}  // namespace gpuq::store_test

#endif  // GPUQ_TESTS_UNIT_STORE_STORE_TEST_UTIL_H_
