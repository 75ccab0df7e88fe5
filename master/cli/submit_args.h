#ifndef GPUQ_MASTER_CLI_SUBMIT_ARGS_H_
#define GPUQ_MASTER_CLI_SUBMIT_ARGS_H_

// `gpuq submit`'s command line turned into a POST /api/v1/tasks body. Pure, so tests can pin
// how every flag reaches the master.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace gpuq::cli {

struct SubmitOptions {
  std::string name, workdir, node, gpu_model;
  std::optional<int> gpus, util_pct, priority, retries;
  std::string mem;               // "8000", "8G", "512M"; "" = not given
  std::string time_limit;        // "90", "30m", "2h", "1d"; "" = not given
  std::string after;             // "3" or "3,4"; may be given several times (joined with ',')
  std::vector<std::string> env;  // "K=V" each
  bool exclusive = false, share = false, hold = false;
  std::optional<std::string> notify;       // "end", "failure" or "off" (--notify alone = "end")
  std::vector<std::string> command_words;  // the words after `--`
  std::string command_file;                // --command-file: read the command from here
  std::string gpu_ids, prefer_gpus;        // "0,2"; "" = not given
  std::string on_time_limit;               // "kill" or "requeue"; "" = not given
  std::string conda, venv;                 // "" = not given
};

// The command text from the words after `--`: a single word is sent as it is (so a quoted
// script, newlines and all, passes byte for byte); several words are joined with spaces,
// each shell-quoted unless it is made only of characters no shell treats specially, so
// `gpuq submit -- echo "a b"` runs exactly `echo 'a b'`.
std::string JoinCommandWords(const std::vector<std::string>& words);

// The JSON body for POST /api/v1/tasks: the fields the options give and `command`.
// Sizes and durations are parsed here (--mem 8G -> mem_mib 8192, --time-limit 1h30m ->
// time_limit_s 5400). Errors: InvalidArgument whose field() names the flag ("--mem") for a
// value that cannot be read: a usage error. Ranges are the master's to check.
Result<nlohmann::json> BuildSubmitBody(const SubmitOptions& options, const std::string& command);

}  // namespace gpuq::cli

#endif  // GPUQ_MASTER_CLI_SUBMIT_ARGS_H_
