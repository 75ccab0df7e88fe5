#ifndef GPUQ_MASTER_APP_QUEUE_FILE_WATCHER_H_
#define GPUQ_MASTER_APP_QUEUE_FILE_WATCHER_H_

// The live CSV queue file (issue 7), the half that reads and writes the file; what rows mean
// is QueueFileSync's (queue_file_sync.h).
//
// READING. The file is polled (every poll_interval): its inode, size and mtime. A change is
// read once the file has stayed the same for one more poll (an editor or script may still
// be writing), and a file whose last line has no line break only after it has stayed the
// same for settle_unterminated (it may be cut short mid-field). Text that QueueFileSync
// refuses (not CSV, a bad row, no rows at all) changes nothing and is logged once; the next
// change of the file is tried again.
//
// WRITING BACK happens only when the text on disk is what was last read and accepted (never
// over a file being edited or refused), and only when it would change it. The new text goes
// to a temporary file beside it (same mode), which is swapped with the file atomically
// (renameat2 RENAME_EXCHANGE; plain rename where the file system lacks it). The file that
// was swapped out is then compared with what was read: if a person changed it meanwhile
// (written in place or replaced), their text is synced again and written back with the
// status columns merged, so no edit made at the same moment is lost.
//
// Thread-safe: Start/Stop from one thread; PollOnce is also for tests (not with Start).

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "master/app/queue_file_sync.h"

namespace gpuq {

struct QueueFileWatcherOptions {
  std::chrono::milliseconds poll_interval{250};
  std::chrono::milliseconds settle_unterminated{1000};
  // Write-back is re-checked at least this often even when nothing seems to change.
  std::chrono::milliseconds resync_interval{5000};
};

class QueueFileWatcher {
 public:
  // `on_tasks_changed` runs (on the watcher's thread) after rows submitted, edited or
  // cancelled tasks: the master wakes the scheduler. Does not take ownership of sync/clock.
  QueueFileWatcher(std::string path, QueueFileSync* sync, Clock* clock,
                   std::function<void()> on_tasks_changed, QueueFileWatcherOptions options = {});
  ~QueueFileWatcher();

  void Start();
  void Stop();
  void PollOnce();

 private:
  struct FileSig {
    ino_t ino = 0;
    off_t size = -1;
    int64_t mtime_ns = 0;
    bool operator==(const FileSig&) const = default;
  };
  static FileSig SigOf(const struct stat& st);
  bool Stat(FileSig* sig) const;
  // Syncs `text` (read through `fd`, signature `sig`, with the tasks' `fingerprint` taken
  // before) and writes back what changed, merging a person's concurrent edit.
  void SyncAndWrite(std::string text, int fd, FileSig sig, const std::string& fingerprint);
  void LogOnce(const std::string& message);

  std::string path_;
  QueueFileSync* sync_;
  Clock* clock_;
  std::function<void()> on_tasks_changed_;
  QueueFileWatcherOptions options_;

  FileSig last_seen_;           // at the previous poll
  UnixMs last_seen_since_ = 0;  // when it became that
  FileSig processed_;           // last read and accepted, or written by us
  bool have_processed_ = false;
  bool accepted_ = false;    // the processed text was accepted (write-back allowed)
  std::string fingerprint_;  // of the file's tasks when last written back
  UnixMs last_sync_ = 0;
  std::string last_logged_;

  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_APP_QUEUE_FILE_WATCHER_H_
