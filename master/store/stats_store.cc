#include "master/store/stats_store.h"

#include "master/store/database.h"

namespace gpuq {
namespace {

Result<std::map<std::string, int64_t>> CountByText(Database* db, const char* sql) {
  return db->WithLock([&](Connection& conn) -> Result<std::map<std::string, int64_t>> {
    Result<Statement> stmt = conn.Prepare(sql);
    if (!stmt.ok()) return stmt.status();
    std::map<std::string, int64_t> counts;
    for (;;) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      counts[stmt->ColumnText(0)] = stmt->ColumnInt64(1);
    }
    return counts;
  });
}

}  // namespace

Result<std::map<std::string, int64_t>> StatsStore::TasksByStatus() {
  return CountByText(db_, "SELECT status, COUNT(*) FROM tasks GROUP BY status");
}

Result<std::map<std::string, int64_t>> StatsStore::RunEndsByStatus() {
  return CountByText(db_,
                     "SELECT status, COUNT(*) FROM runs"
                     " WHERE status NOT IN ('starting', 'running') GROUP BY status");
}

}  // namespace gpuq
