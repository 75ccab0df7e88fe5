#ifndef GPUQ_MASTER_STORE_RUN_STORE_H_
#define GPUQ_MASTER_STORE_RUN_STORE_H_

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"
#include "common/task_status.h"

namespace gpuq {

class Database;
class Statement;

// One attempt at running a task: a row of the runs table.
struct RunRow {
  RunId id;
  TaskId task_id;
  int attempt = 1;                // 1 for the first run of a task, 2 for its first retry, ...
  std::optional<NodeId> node_id;  // nullopt once the node was deleted
  std::string node_name;          // kept for history
  std::vector<int> gpu_indices;   // nvidia-smi indices, ascending; empty for CPU-only
  std::string remote_user;        // the SSH account it runs as
  std::string run_dir;            // on the node
  std::optional<int64_t> pid;     // nullopt until the node reports it
  TaskStatus status = TaskStatus::kStarting;  // starting, running, or one of the ends
  std::optional<int> exit_code;
  UnixMs created_at = 0;  // when it was marked starting
  std::optional<UnixMs> started_at;
  std::optional<UnixMs> ended_at;
  std::optional<std::string> end_reason;  // why it ended, in words
};

// The runs table. Thread-safe (see Database).
class RunStore {
 public:
  // Does not take ownership; both must outlive the RunStore.
  RunStore(Database* db, Clock* clock) : db_(db), clock_(clock) {}

  // ---- Reading (web layer, CLI views, reconciliation) ----

  // NotFound "run 7 not found".
  Result<RunRow> Get(RunId id);
  // The task's runs by attempt (oldest first); empty when it has none.
  Result<std::vector<RunRow>> ListForTask(TaskId task);
  // The runs of all the given tasks in one query, by task id then attempt.
  Result<std::vector<RunRow>> ListForTasks(std::span<const TaskId> tasks);
  // Ended runs per end status (succeeded, failed, cancelled, timed_out, lost), for /metrics.
  Result<std::map<TaskStatus, int64_t>> CountEndsByStatus();

  // The columns ReadRunRow expects, in order, for SELECTs from runs.
  static constexpr std::string_view kColumns =
      "runs.id, runs.task_id, runs.attempt, runs.node_id, runs.node_name, runs.gpu_indices,"
      " runs.remote_user, runs.run_dir, runs.pid, runs.status, runs.exit_code,"
      " runs.created_at, runs.started_at, runs.ended_at, runs.end_reason";
  // Reads a row selected with kColumns starting at column `first`.
  static Result<RunRow> ReadRunRow(const Statement& stmt, int first = 0);

  // ---- Writing (the master's launcher and monitor: master/exec/) ----
  // Added with the scheduling loop: creating a run with its GPU reservation and marking the
  // task starting (one transaction), recording the pid, the end, and reconciliation.

 private:
  Database* db_;
  [[maybe_unused]] Clock* clock_;  // for the writing half
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_RUN_STORE_H_
