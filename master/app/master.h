#ifndef GPUQ_MASTER_APP_MASTER_H_
#define GPUQ_MASTER_APP_MASTER_H_

#include <cstdint>
#include <optional>
#include <string>

namespace gpuq {

// `gpuq master` settings (INTERFACE.md). Flag > GPUQ_* environment > config file > default.
struct MasterOptions {
  std::string listen = "0.0.0.0:8000";  // HOST:PORT
  std::string data_dir = "./gpuq-data";
  int probe_interval_ms = 1000;
  int probe_timeout_ms = 5000;
  int connect_timeout_ms = 5000;
  int kill_grace_ms = 10000;   // cancel and time limits: TERM, then KILL after this
  int lost_after_ms = 600000;  // runs on a node unreachable this long are marked lost
  // Caps on tasks starting or running (0 = none) and the time limit of tasks that set none.
  // The settings table (admin panel) overrides these (master/store/sched_settings.h).
  int max_running = 0;
  int max_running_per_user = 0;
  int max_running_per_node = 0;
  std::optional<int64_t> default_time_limit_s;
  // A live CSV queue file to watch ("" = none) and the account its tasks belong to.
  std::string queue_file;
  std::string queue_file_user = "admin";
};

// Runs the master until SIGTERM or SIGINT; returns the process exit code. On first start
// creates the data folder, the database, DATA/secret.key and the `admin` account (password
// from GPUQ_ADMIN_PASSWORD, else generated and printed once). Tasks running on nodes keep
// running when the master stops.
int RunMaster(const MasterOptions& options);

}  // namespace gpuq

#endif  // GPUQ_MASTER_APP_MASTER_H_
