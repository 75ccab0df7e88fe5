#ifndef GPUQ_MASTER_APP_QUEUE_FILE_SYNC_H_
#define GPUQ_MASTER_APP_QUEUE_FILE_SYNC_H_

// The live CSV queue file (issue 7), the half that decides: given the file's text, bring the
// tasks in line with it and render the text to write back. File I/O is the watcher's
// (queue_file_watcher.h).
//
// ROW IDENTITY. The task_id column holds the gpuq task id of the row's task, written back by
// gpuq. A row whose task_id is empty, or names no task of this file (another tool's id, a
// typo, the copy of a row already seen above it), is a new row: it is submitted and its
// task_id is replaced by the new task's id. A task_id of a task that came from another
// queue file (the file was moved or renamed) moves that task to this file. A row created
// but not yet seen back in the file with its id (the write-back raced a person's edit) is
// recognised by its other columns for a minute after it was submitted.
//
// WHAT A ROW DOES (compared with the digest of its editable columns when last read):
//   - new: submitted as the queue file's user (execution=No: held). A new row whose status
//     column already says it ended (succeeded, failed, cancelled, timed_out, lost, done,
//     finished) is left alone: it is history, not a task to run.
//   - edited (task_name, command, work_dir, n_gpus, execution, notify, gpu_ids, prefer_gpus,
//     as far as the header has them): updates the task while it is held or queued; once it
//     started the edit is ignored (logged once).
//   - removed: cancels its task if it has not started; a started task goes on.
//
// WRITE-BACK. gpuq writes task_id, status (gpuq's task status), allocated_gpus
// ("node:0,2" of the latest run while it runs and after), start_time (the latest run's
// start) and end_time (the task's end), times in RFC 3339 UTC; columns the header lacks are
// added at its end. Every other column and field is written back exactly as read, in order;
// line ends follow the file (CRLF if it has any), a byte order mark is dropped.
//
// REFUSED TEXT (Sync returns an error, nothing changes, nothing is written): text that is
// not CSV or a row that fails the import rules (ParseCsvQueue), and text with no task rows
// at all (an empty or truncated file is never taken for an empty queue).
//
// Not thread-safe: one watcher thread calls it.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"
#include "master/store/database.h"

namespace gpuq {

struct QueueSyncResult {
  std::string text;            // what the file should hold now
  bool tasks_changed = false;  // a task was submitted, edited, held/released or cancelled
};

class QueueFileSync {
 public:
  // `file` names the file in the store (its absolute path); tasks belong to `owner`.
  // Does not take ownership; db and clock must outlive it.
  QueueFileSync(Database* db, Clock* clock, std::string file, UserId owner)
      : db_(db), clock_(clock), file_(std::move(file)), owner_(owner) {}

  Result<QueueSyncResult> Sync(const std::string& text);

  // Changes when a task of the file changes; see QueueFileStore::Fingerprint.
  Result<std::string> Fingerprint();

 private:
  Database* db_;
  Clock* clock_;
  std::string file_;
  UserId owner_;
  // Rows submitted lately: their columns other than the write-back ones -> (task, when)
  // (a list: identical rows are distinct tasks). A row without its id that matches one is
  // that task: the write-back of its id raced a person's save of an older copy. Kept for
  // kRecentRowMs, not only until the id is first seen, for a save of an older copy later.
  std::map<std::string, std::vector<std::pair<TaskId, UnixMs>>> recent_rows_;
  std::map<TaskId, std::string> warned_;  // task -> the row digest a warning was logged for
  std::set<std::string> failed_rows_;     // rows whose submission failed (logged once)
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_APP_QUEUE_FILE_SYNC_H_
