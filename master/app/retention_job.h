#ifndef GPUQ_MASTER_APP_RETENTION_JOB_H_
#define GPUQ_MASTER_APP_RETENTION_JOB_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"

namespace gpuq {

class Database;

// Forgets ended tasks older than the panel's retention setting (days; 0 keeps them
// forever): their rows, their runs and their run logs in DATA/logs/. Runs once at Start()
// and then every `period`, in batches, on its own thread.
class RetentionJob {
 public:
  RetentionJob(Database* db, Clock* clock, std::string data_dir,
               std::chrono::milliseconds period = std::chrono::minutes(10));
  ~RetentionJob();

  void Start();
  void Stop();  // returns once the thread has ended; idempotent

  // One pass now; how many tasks were deleted. For the thread and for tests.
  int RunOnce();

 private:
  Database* db_;
  Clock* clock_;
  std::string data_dir_;
  std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_APP_RETENTION_JOB_H_
