#ifndef GPUQ_MASTER_EXEC_RUN_LEDGER_H_
#define GPUQ_MASTER_EXEC_RUN_LEDGER_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/snapshot.h"
#include "common/status.h"
#include "master/store/database.h"

namespace gpuq {

// A run that holds resources: status starting or running.
struct LiveRun {
  RunId run;
  TaskId task;
  NodeId node;
  std::string node_name;
  std::vector<int> gpu_indices;
  std::string remote_user;
  UserId owner;
  std::string status;  // "starting" or "running"
  std::optional<int64_t> pid;
  UnixMs created_at = 0;
  std::optional<UnixMs> started_at;
  std::optional<int64_t> time_limit_s;
  std::optional<UnixMs> cancel_requested_at;
  bool share = false;
  int64_t mem_mib = 0;
  bool requeue_on_time_limit = false;  // the task's on_time_limit is "requeue"
};

// What a launch sends to the node: the task as its owner wrote it.
struct LaunchSpec {
  std::string command;
  std::string workdir;  // empty: the account's home
  std::map<std::string, std::string> env;
  UserId owner;
  std::string conda;  // environment to activate first; "" = none
  std::string venv;
};

// Every change of a run's state, each in one transaction with the task it belongs to, so a
// master killed at any moment leaves a state that reconciliation can finish.
// Thread-safe (the Database serialises).
class RunLedger {
 public:
  RunLedger(Database* db, Clock* clock) : db_(db), clock_(clock) {}

  // The queue the policy may place from: queued tasks whose dependencies all succeeded and
  // whose owner has an SSH credential; the rest get a waiting reason in `waiting`. A task's
  // place in its priority class is its queued_at (submission or last requeue). Tasks with
  // no time limit get `default_time_limit_s` (the limit they will run under).
  Result<std::vector<TaskRequest>> Runnable(
      std::map<TaskId, std::string>* waiting,
      std::optional<int64_t> default_time_limit_s = std::nullopt);

  // Reserves the GPUs: inserts the run as `starting` and moves the task from queued to
  // starting, in one transaction, before anything is sent to the node. FailedPrecondition
  // when the task is no longer queued (cancelled or edited meanwhile). The run's time limit
  // is fixed here: the task's own, else `default_time_limit_s`.
  Result<RunId> Reserve(TaskId task, NodeId node, const std::string& node_name,
                        const std::vector<int>& gpu_indices, const std::string& remote_user,
                        std::optional<int64_t> default_time_limit_s = std::nullopt);
  Result<LaunchSpec> Spec(TaskId task);

  // starting -> running with the process group the node reported. Idempotent.
  Status MarkRunning(RunId run, int64_t pid);

  // Ends a live run: `status` is succeeded, failed, cancelled, timed_out or lost. The task
  // follows: a failed run with retries left puts the task back in the queue; a task that
  // ends without success cancels the queued tasks that depend on it; a timed_out run of a
  // task with on_time_limit "requeue" (and no cancel asked) puts it back in the queue at the
  // end of its priority class (queued_at = now), run after run. Returns false when the
  // run had already ended (ends are idempotent: an exit seen twice ends the run once).
  Result<bool> End(RunId run, const std::string& status, std::optional<int> exit_code,
                   const std::string& reason);

  Result<std::vector<LiveRun>> Live();

 private:
  Database* db_;
  Clock* clock_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_EXEC_RUN_LEDGER_H_
