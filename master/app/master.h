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
  // Whether a flag, GPUQ_PROBE_INTERVAL_MS or the config file set probe_interval_ms; if not,
  // the panel's poll interval setting (settings table) applies.
  bool probe_interval_given = false;
  int probe_timeout_ms = 5000;
  int connect_timeout_ms = 5000;
  int kill_grace_ms = 10000;   // cancel and time limits: TERM, then KILL after this
  int lost_after_ms = 600000;  // runs on a node unreachable this long are marked lost
  // HTTPS: PEM certificate (chain) and private key; both or neither.
  std::string tls_cert;
  std::string tls_key;
  // Notifications (issue 5). Startup values; what an admin saves in the settings overrides.
  std::string public_url;              // links in messages; empty: http://<listen address>
  std::string smtp_host;               // empty: no e-mail
  int smtp_port = 0;                   // 0: 25, 587 or 465 by smtp_security
  std::string smtp_security = "none";  // none, starttls, tls
  std::string smtp_user;
  std::string smtp_password;
  std::string smtp_from;
  int notify_retry_base_ms = 30000;   // first retry of a failed delivery; doubles each time
  int notify_retry_max_ms = 3600000;  // longest wait between attempts
  int notify_max_attempts = 10;       // then the message is failed (shown, retryable)
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
