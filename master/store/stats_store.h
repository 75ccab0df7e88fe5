#ifndef GPUQ_MASTER_STORE_STATS_STORE_H_
#define GPUQ_MASTER_STORE_STATS_STORE_H_

#include <map>
#include <string>

#include "common/status.h"

namespace gpuq {

class Database;

// Aggregate counts for /metrics and the dashboard: one indexed GROUP BY each, so they stay
// cheap with tens of thousands of tasks. Thread-safe (see Database).
class StatsStore {
 public:
  explicit StatsStore(Database* db) : db_(db) {}

  // Tasks per status name ("queued", "running", ...); statuses with no task are absent.
  Result<std::map<std::string, int64_t>> TasksByStatus();
  // Ended runs per end status ("succeeded", "failed", "cancelled", "timed_out", "lost").
  Result<std::map<std::string, int64_t>> RunEndsByStatus();

 private:
  Database* db_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_STATS_STORE_H_
