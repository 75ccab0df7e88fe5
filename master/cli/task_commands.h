#ifndef GPUQ_MASTER_CLI_TASK_COMMANDS_H_
#define GPUQ_MASTER_CLI_TASK_COMMANDS_H_

// The task subcommands of `gpuq` (INTERFACE.md): submit, queue, show, cancel, logs, import.
// Each returns the process exit code (0 ok, 1 the master refused, 2 usage, 3 unreachable)
// and prints results to stdout, errors and warnings to stderr.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "master/cli/client_commands.h"
#include "master/cli/submit_args.h"

namespace gpuq::cli {

// Prints the new task's id; a warning from the master (a task no node could ever run) goes
// to stderr.
int SubmitTask(const ClientOptions& options, const SubmitOptions& submit);

// Queued and running tasks (with `all`, ended ones too, newest 1000), oldest first.
int ShowQueue(const ClientOptions& options, bool all, const std::string& user, bool json);

int ShowTask(const ClientOptions& options, int64_t id, bool json);

// Cancels each task; keeps going after a refusal and then exits with the first error's code.
int CancelTasks(const ClientOptions& options, const std::vector<int64_t>& ids);

// Prints the log of the task's latest run, or of its run with `attempt` (1 = the first).
// With `follow`, polls every 0.5 s until the task has ended and its log is fully read,
// moving on to a retry's run when one starts.
int ShowLogs(const ClientOptions& options, int64_t task, bool follow, std::optional<int> attempt);

// Sends the CSV file to POST /api/v1/tasks/import; prints one created id per line.
int ImportCsv(const ClientOptions& options, const std::string& file);

}  // namespace gpuq::cli

#endif  // GPUQ_MASTER_CLI_TASK_COMMANDS_H_
