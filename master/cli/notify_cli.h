#ifndef GPUQ_MASTER_CLI_NOTIFY_CLI_H_
#define GPUQ_MASTER_CLI_NOTIFY_CLI_H_

// `gpuq notify ...`: your own notification settings, and (admin) webhook and e-mail targets,
// "send test", and the delivery log with retries. A thin client of web/api_notify.cc.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "master/cli/client_commands.h"

namespace gpuq::cli {

class NotifyCli {
 public:
  // Adds `notify` and its subcommands to `app`; `add_client_flags` adds --server and --token.
  NotifyCli(CLI::App& app, const std::function<void(CLI::App*)>& add_client_flags);

  // After parsing: runs the subcommand given, if it is one of these, and stores its exit
  // code in *code. false when another subcommand was given.
  bool Run(const ClientOptions& client, int* code);

 private:
  CLI::App *me_, *targets_, *add_, *rm_, *test_, *log_, *retry_;
  std::string email_, default_, kind_ = "webhook", address_, format_ = "generic", name_, to_;
  std::string status_;
  std::vector<std::string> events_;
  int64_t id_ = 0;
  bool json_ = false;
};

}  // namespace gpuq::cli

#endif  // GPUQ_MASTER_CLI_NOTIFY_CLI_H_
