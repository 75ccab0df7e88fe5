#ifndef GPUQ_MASTER_STORE_RETENTION_H_
#define GPUQ_MASTER_STORE_RETENTION_H_

#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"

namespace gpuq {

class Database;

struct PurgeResult {
  int64_t tasks = 0;        // how many tasks were deleted
  std::vector<RunId> runs;  // their runs, also deleted (the caller removes their log files)
};

// Deletes up to `limit` tasks that ended before `cutoff`, oldest end first, with their runs,
// in one transaction. A task that a not-yet-ended task waits for ("after") is kept, so no
// dependency goes missing under a waiting task.
Result<PurgeResult> PurgeEndedTasks(Database* db, UnixMs cutoff, int limit);

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_RETENTION_H_
