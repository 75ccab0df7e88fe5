#ifndef GPUQ_MASTER_APP_MASTER_H_
#define GPUQ_MASTER_APP_MASTER_H_

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
};

// Runs the master until SIGTERM or SIGINT; returns the process exit code. On first start
// creates the data folder, the database, DATA/secret.key and the `admin` account (password
// from GPUQ_ADMIN_PASSWORD, else generated and printed once). Tasks running on nodes keep
// running when the master stops.
int RunMaster(const MasterOptions& options);

}  // namespace gpuq

#endif  // GPUQ_MASTER_APP_MASTER_H_
