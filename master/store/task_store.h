#ifndef GPUQ_MASTER_STORE_TASK_STORE_H_
#define GPUQ_MASTER_STORE_TASK_STORE_H_

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"
#include "common/task_spec.h"
#include "common/task_status.h"

namespace gpuq {

class Database;
class Statement;

struct TaskRow {
  TaskId id;
  UserId user_id;
  std::string username;  // the owner's name
  // What was asked for. spec.hold is status == kHeld; spec.notify is always set (the
  // owner's default was filled in at submission).
  TaskSpec spec;
  TaskStatus status = TaskStatus::kQueued;
  int retries_left = 0;  // failed runs that may still be retried
  UnixMs created_at = 0;
  UnixMs updated_at = 0;
  std::optional<UnixMs> ended_at;
  // A cancel was asked for while the task was starting or running; the master acts on it.
  std::optional<UnixMs> cancel_requested_at;
};

struct TaskFilter {
  std::vector<TaskStatus> statuses;  // empty = any
  std::optional<UserId> user;        // empty = every user's
  int limit = 1000;                  // clamped to 1..TaskStore::kMaxListLimit
  std::optional<TaskId> before_id;   // only tasks older than this one (to page back)
  // "" = any; else only tasks bound to this node or with a run on it.
  std::string run_node;
};

// What Cancel did.
enum class CancelOutcome {
  kEnded,          // the task was held or queued: it is now cancelled
  kKillRequested,  // the task is starting or running: the master must stop its run
};

// The tasks table: what users asked for and where each task is in its life. The web layer
// writes submissions, edits, holds and cancels of tasks not yet started; the master moves
// tasks through starting/running to their end. Every operation is one transaction, and
// every check of a task's status is made inside the transaction that acts on it.
// Times come from the injected Clock. Thread-safe (see Database).
class TaskStore {
 public:
  static constexpr int kMaxListLimit = 10000;

  // Does not take ownership; both must outlive the TaskStore.
  TaskStore(Database* db, Clock* clock) : db_(db), clock_(clock) {}

  // Adds a task owned by `owner`, queued (or held when spec.hold), with notify defaulting to
  // the owner's users.notify_default. Errors: InvalidArgument naming the field when the spec
  // fails ValidateTaskSpec or "after" names a task that does not exist; NotFound when the
  // owner does not exist.
  Result<TaskId> Create(const TaskSpec& spec, UserId owner);

  // Adds all of `specs` in ONE transaction: all are created, or none (on any error). The ids
  // are in the order of `specs`. On error, *failed_index (when given) is the index of the
  // spec that failed, or specs.size() when no spec did (COMMIT failed). Statements are prepared
  // once; 1000 tasks take milliseconds.
  Result<std::vector<TaskId>> CreateMany(std::span<const TaskSpec> specs, UserId owner,
                                         size_t* failed_index = nullptr);

  // NotFound "task 7 not found".
  Result<TaskRow> Get(TaskId id);

  // Tasks matching the filter, newest (highest id) first.
  Result<std::vector<TaskRow>> List(const TaskFilter& filter);

  // Applies the patch (spec fields and hold) to a held or queued task. Errors: NotFound;
  // FailedPrecondition "task 7 has already started (running): ..." for any other status;
  // InvalidArgument naming the field when the patched spec fails ValidateTaskSpec, "after"
  // names a missing task, the task itself, or a task that waits for this one.
  Status Update(TaskId id, const TaskPatch& patch);

  // Holds (held = true) or releases a held or queued task; holding a held task (or
  // releasing a queued one) changes nothing. NotFound; FailedPrecondition once started.
  Status SetHeld(TaskId id, bool held);

  // Cancels a task: a held or queued one ends now (cancelled, ended_at set); for a starting
  // or running one the request is recorded (cancel_requested_at, first request kept) and
  // the caller must tell the master. Errors: NotFound; FailedPrecondition "task 7 already
  // ended (succeeded)".
  Result<CancelOutcome> Cancel(TaskId id);

  // ---- The panel's dashboard: each a bounded read (LIMIT), whatever the queue length ----
  // Held and queued tasks in the order the scheduler considers them (priority, then age),
  // at most `limit`; only `user`'s when given.
  Result<std::vector<TaskRow>> QueueHead(int limit, std::optional<UserId> user);
  // Ended tasks, latest end first, at most `limit`; only `user`'s when given.
  Result<std::vector<TaskRow>> RecentEnds(int limit, std::optional<UserId> user);
  // How many tasks are in each status; only `user`'s when given.
  Result<std::map<TaskStatus, int64_t>> CountByStatus(std::optional<UserId> user);

 private:
  Database* db_;
  Clock* clock_;
};

// Steps a query of (status, count) rows into counts by status; unknown statuses are skipped.
// Shared by TaskStore::CountByStatus and RunStore::CountEndsByStatus.
Result<std::map<TaskStatus, int64_t>> ReadStatusCounts(Statement& stmt);

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_TASK_STORE_H_
