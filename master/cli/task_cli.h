#ifndef GPUQ_MASTER_CLI_TASK_CLI_H_
#define GPUQ_MASTER_CLI_TASK_CLI_H_

// The command-line grammar of the task subcommands (submit, queue, show, cancel, logs,
// import), kept beside their implementation (task_commands.h) so that main.cc stays thin.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "master/cli/client_commands.h"
#include "master/cli/submit_args.h"

namespace gpuq::cli {

class TaskCli {
 public:
  // Adds the subcommands to `app`; `add_client_flags` adds --server and --token to one.
  TaskCli(CLI::App& app, const std::function<void(CLI::App*)>& add_client_flags);

  // After parsing: runs the subcommand that was given, if it is one of these, and stores its
  // exit code in *code. false when another subcommand was given.
  bool Run(const ClientOptions& client, int* code);

 private:
  CLI::App *submit_, *queue_, *show_, *cancel_, *logs_, *import_;
  SubmitOptions submit_options_;
  int gpus_ = 1, util_ = 0, priority_ = 0, retries_ = 0;
  std::vector<std::string> after_;
  std::string notify_;
  bool queue_all_ = false, json_ = false, follow_ = false;
  std::string queue_user_, file_;
  int64_t id_ = 0;
  std::vector<int64_t> ids_;
  int attempt_ = 0;
};

}  // namespace gpuq::cli

#endif  // GPUQ_MASTER_CLI_TASK_CLI_H_
