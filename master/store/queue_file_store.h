#ifndef GPUQ_MASTER_STORE_QUEUE_FILE_STORE_H_
#define GPUQ_MASTER_STORE_QUEUE_FILE_STORE_H_

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "common/ids.h"
#include "common/status.h"

namespace gpuq {

class Database;

// The queue_file_tasks table: which tasks came from which live CSV queue file, and a digest
// of each row's editable columns as gpuq last read them (master/app/queue_file_sync.h).
// Thread-safe (see Database).
class QueueFileStore {
 public:
  explicit QueueFileStore(Database* db) : db_(db) {}

  // task -> row digest, for the tasks of `file`.
  Result<std::map<TaskId, std::string>> List(const std::string& file);
  // The file a task came from and its row digest; nullopt when it came from none.
  Result<std::optional<std::pair<std::string, std::string>>> Find(TaskId task);
  // Adds or replaces the task's entry.
  Status Put(TaskId task, const std::string& file, const std::string& row_hash);
  // OK when there was none.
  Status Remove(TaskId task);
  // Changes whenever a task of the file changes state (its updated_at) or the set of tasks
  // changes: the watcher writes back only then, or when the file changed.
  Result<std::string> Fingerprint(const std::string& file);

 private:
  Database* db_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_QUEUE_FILE_STORE_H_
