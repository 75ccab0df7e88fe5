// CLI11 2.1 compiled by GCC 12 at -O2 trips a false -Wnull-dereference inside
// CLI::detail::split (a std::string move it cannot prove non-null). The pragma must come
// before the standard headers, whose code the warning points into.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include "master/cli/task_cli.h"

#include <optional>

#include "master/cli/task_commands.h"

namespace gpuq::cli {

TaskCli::TaskCli(CLI::App& app, const std::function<void(CLI::App*)>& add_client_flags) {
  submit_ =
      app.add_subcommand("submit", "submit a task: gpuq submit [options] -- COMMAND [ARGS...]");
  add_client_flags(submit_);
  SubmitOptions& o = submit_options_;
  submit_->add_option("--name", o.name, "a name for the task");
  submit_->add_option("--workdir", o.workdir, "folder to run in on the node (default: home)");
  submit_->add_option("--gpus", gpus_, "GPUs (default 1; 0 = CPU-only)");
  submit_->add_option("--mem", o.mem, "free memory needed per GPU: 8000 (MiB), 8G, 512M");
  submit_->add_option("--util", util_, "free utilisation needed per GPU, percent");
  submit_->add_flag("--exclusive", o.exclusive, "only GPUs with no other process");
  submit_->add_flag("--share", o.share, "may share GPUs with other --share tasks while --mem fits");
  submit_->add_option("--node", o.node, "run only on this node");
  submit_->add_option("--gpu-model", o.gpu_model, "only GPUs whose model contains this text");
  submit_->add_option("--env", o.env, "K=V for the task's environment (repeatable)")
      ->allow_extra_args(false);
  submit_->add_option("--priority", priority_, "higher runs first (-1000..1000, default 0)");
  submit_->add_option("--time-limit", o.time_limit, "kill after this long: 90s, 30m, 2h, 1d");
  submit_->add_option("--retries", retries_, "re-queue a failed run up to N times");
  submit_->add_option("--after", after_, "start after these tasks succeeded: ID[,ID]")
      ->allow_extra_args(false);
  submit_->add_flag("--hold", o.hold, "submit held: queued but not ready");
  // A flag with an optional value: --notify alone means "end"; it never takes the next
  // word (so `--notify -- cmd` leaves `--` alone).
  submit_->add_flag("--notify{end}", notify_, "e-mail on end (or --notify=failure, =off)");
  submit_->add_option("--command-file", o.command_file, "read the command (a script) from FILE");
  submit_->add_option("--gpu-ids", o.gpu_ids,
                      "run only on these GPU indices, waiting for them: 0,2");
  submit_->add_option("--prefer-gpus", o.prefer_gpus, "use these GPU indices if free, else any: 1");
  submit_->add_option("--on-time-limit", o.on_time_limit,
                      "at the time limit: kill (default) or requeue (run again later)");
  submit_->add_option("--conda", o.conda, "activate this conda environment first (name or path)");
  submit_->add_option("--venv", o.venv, "activate this Python venv first (folder on the node)");
  submit_->add_option("command", o.command_words, "the command and its arguments, after --");

  queue_ = app.add_subcommand("queue", "queued and running tasks");
  add_client_flags(queue_);
  queue_->add_flag("--all", queue_all_, "also ended tasks (newest 1000)");
  queue_->add_option("--user", queue_user_, "only this user's tasks");
  queue_->add_flag("--json", json_, "print the API's JSON");

  show_ = app.add_subcommand("show", "a task's fields, why it waits, and its runs");
  add_client_flags(show_);
  show_->add_option("id", id_, "task id")->required();
  show_->add_flag("--json", json_, "print the API's JSON");

  cancel_ = app.add_subcommand("cancel", "cancel tasks (queued ones end now, running ones stop)");
  add_client_flags(cancel_);
  cancel_->add_option("ids", ids_, "task ids")->required();

  logs_ = app.add_subcommand("logs", "a task's output");
  add_client_flags(logs_);
  logs_->add_option("id", id_, "task id")->required();
  logs_->add_flag("--follow,-f", follow_, "keep printing as the output grows, until the task ends");
  logs_->add_option("--run", attempt_, "the run to show: 1 = the first, 2 = the first retry, ...");

  import_ = app.add_subcommand("import", "submit every task of a CSV queue file");
  add_client_flags(import_);
  import_->add_option("file", file_, "the CSV file")->required();
}

bool TaskCli::Run(const ClientOptions& client, int* code) {
  if (*submit_) {
    SubmitOptions o = submit_options_;
    if (submit_->count("--gpus")) o.gpus = gpus_;
    if (submit_->count("--util")) o.util_pct = util_;
    if (submit_->count("--priority")) o.priority = priority_;
    if (submit_->count("--retries")) o.retries = retries_;
    for (const std::string& a : after_) o.after += (o.after.empty() ? "" : ",") + a;
    if (submit_->count("--notify")) o.notify = notify_.empty() ? "end" : notify_;
    *code = SubmitTask(client, o);
  } else if (*queue_) {
    *code = ShowQueue(client, queue_all_, queue_user_, json_);
  } else if (*show_) {
    *code = ShowTask(client, id_, json_);
  } else if (*cancel_) {
    *code = CancelTasks(client, ids_);
  } else if (*logs_) {
    *code = ShowLogs(client, id_, follow_,
                     logs_->count("--run") ? std::optional<int>(attempt_) : std::nullopt);
  } else if (*import_) {
    *code = ImportCsv(client, file_);
  } else {
    return false;
  }
  return true;
}

}  // namespace gpuq::cli
