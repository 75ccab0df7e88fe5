#ifndef GPUQ_TESTS_UNIT_STORE_STORE_TEST_UTIL_H_
#define GPUQ_TESTS_UNIT_STORE_STORE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

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

// The number of the newest embedded migration (numbers may have gaps).
inline int NewestMigration() {
  int newest = 0;
  for (const EmbeddedFile& file : EmbeddedMigrations()) {
    newest = std::max(newest, std::stoi(std::string(file.name.substr(0, file.name.find('_')))));
  }
  return newest;
}

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

}  // namespace gpuq::store_test

#endif  // GPUQ_TESTS_UNIT_STORE_STORE_TEST_UTIL_H_
