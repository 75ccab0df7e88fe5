#ifndef GPUQ_COMMON_TASK_SPEC_H_
#define GPUQ_COMMON_TASK_SPEC_H_

// What a user asks for when submitting a task: the writable fields of INTERFACE.md's Task
// JSON, read from a JSON body (POST and PATCH /api/v1/tasks) and checked with an error that
// names the field ("gpus: must be between 0 and 64"). Pure; never throws.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/snapshot.h"
#include "common/status.h"

namespace gpuq {

// Limits (INTERFACE.md leaves them to us; generous for a lab, small enough for a database).
inline constexpr size_t kMaxCommandBytes = 64 * 1024;
inline constexpr size_t kMaxTaskNameBytes = 200;
inline constexpr size_t kMaxWorkdirBytes = 4096;
inline constexpr size_t kMaxGpuModelBytes = 200;
inline constexpr int kMaxTaskGpus = 64;
inline constexpr int64_t kMaxTaskMemMib = 16 * 1024 * 1024;  // 16 TiB per GPU
inline constexpr size_t kMaxEnvEntries = 100;
inline constexpr size_t kMaxEnvNameBytes = 256;
inline constexpr size_t kMaxEnvValueBytes = 32 * 1024;
inline constexpr int kMaxTaskPriority = 1000;  // and -1000
inline constexpr int64_t kMaxTimeLimitS = 365 * 86400;
inline constexpr int kMaxTaskRetries = 100;
inline constexpr size_t kMaxAfter = 100;
inline constexpr int kMaxGpuIndex = 1023;         // gpu_ids, prefer_gpus
inline constexpr size_t kMaxEnvPathBytes = 4096;  // conda, venv

struct TaskSpec {
  std::string name;     // "" = none
  std::string command;  // run under bash -lc on the node, byte for byte
  std::string workdir;  // "" = the SSH account's home
  int gpus = 1;         // 0 = CPU-only
  int64_t mem_mib = 0;  // free memory needed on each GPU; 0 = no need
  int util_pct = 0;     // free utilisation needed on each GPU; 0 = no need
  bool exclusive = false;
  bool share = false;     // may share GPUs with other sharing tasks while mem_mib fits
  std::string node;       // node name; "" = any
  std::string gpu_model;  // case-insensitive substring of the GPU's model; "" = any
  std::map<std::string, std::string> env;
  int priority = 0;                     // higher runs first
  std::optional<int64_t> time_limit_s;  // nullopt = none
  int retries = 0;                      // re-queue a failed run up to this many times
  std::vector<TaskId> after;            // start only after these succeeded; no duplicates
  // "end", "failure" or "off"; nullopt = the owner's default (users.notify_default).
  std::optional<std::string> notify;
  bool hold = false;  // submit as held (not ready to run)
  // GPU pinning (nvidia-smi indices on whichever node it runs): gpu_ids = only these, the
  // task waits for them; prefer_gpus = these first when they fit, else any.
  std::vector<int> gpu_ids;
  std::vector<int> prefer_gpus;
  std::string on_time_limit = "kill";  // "kill" or "requeue" (run again later)
  std::string conda;                   // conda environment (name or path) to activate; "" = none
  std::string venv;                    // Python venv folder to activate; "" = none

  bool operator==(const TaskSpec&) const = default;
};

// A PATCH: only the fields given. For workdir, node and gpu_model "" (or JSON null) clears
// the constraint; for time_limit_s JSON null clears it (an empty inner optional).
struct TaskPatch {
  std::optional<std::string> name, command, workdir;
  std::optional<int> gpus;
  std::optional<int64_t> mem_mib;
  std::optional<int> util_pct;
  std::optional<bool> exclusive, share;
  std::optional<std::string> node, gpu_model;
  std::optional<std::map<std::string, std::string>> env;
  std::optional<int> priority;
  std::optional<std::optional<int64_t>> time_limit_s;
  std::optional<int> retries;
  std::optional<std::vector<TaskId>> after;
  std::optional<std::string> notify;
  std::optional<bool> hold;
  std::optional<std::vector<int>> gpu_ids, prefer_gpus;
  std::optional<std::string> on_time_limit, conda, venv;

  // Whether the patch changes anything of the spec other than `hold`.
  bool ChangesSpec() const;
};

// Reads a POST body: unknown fields are refused, `command` is required, absent fields take
// TaskSpec's defaults, and the result passes ValidateTaskSpec. "notify" also takes true
// (= "end") and false (= "off"). Duplicate ids in "after" are dropped (first kept).
// Errors: InvalidArgument naming the first bad field.
Result<TaskSpec> ParseTaskSpec(const nlohmann::json& body);

// Reads a PATCH body: like ParseTaskSpec, but every field is optional and only the per-field
// rules are checked here; rules between fields (share needs mem_mib) are checked by
// ValidateTaskSpec on the patched spec.
Result<TaskPatch> ParseTaskPatch(const nlohmann::json& body);

// Sets the fields the patch gives.
void ApplyTaskPatch(const TaskPatch& patch, TaskSpec* spec);

// Every rule of a spec, per field and between fields:
//   command: required, not only white space, <= 64 KiB, no NUL byte; anything else (quotes,
//     '$', backticks, newlines) is kept as it is;
//   name <= 200 bytes, workdir <= 4096 bytes, gpu_model <= 200 bytes: no control characters;
//   node: a node name (letters, digits, '.', '_', '-');
//   gpus 0..64; mem_mib 0..16777216; util_pct 0..100; priority -1000..1000;
//   time_limit_s 1..31536000 or none; retries 0..100; after: <= 100 positive ids;
//   env: <= 100 entries, names [A-Za-z_][A-Za-z0-9_]* (not CUDA_VISIBLE_DEVICES,
//     CUDA_DEVICE_ORDER or GPUQ_*: gpuq sets those), values <= 32 KiB without NUL;
//   notify: "end", "failure", "off" or none;
//   gpu_ids, prefer_gpus: <= 64 distinct indices 0..1023; gpu_ids names at least `gpus`
//     GPUs; on_time_limit: "kill" or "requeue"; conda, venv: <= 4096 bytes of one-line
//     text, not both;
//   share needs mem_mib > 0 and not exclusive; a CPU-only task (gpus 0) takes no mem_mib,
//     util_pct, exclusive, share, gpu_model, gpu_ids or prefer_gpus;
//   all text valid UTF-8.
// Errors: InvalidArgument naming the field (its JSON name).
Status ValidateTaskSpec(const TaskSpec& spec);

// The policy's view of a task.
TaskRequest ToTaskRequest(const TaskSpec& spec, TaskId id, const std::string& user,
                          UnixMs submitted_at);

}  // namespace gpuq

#endif  // GPUQ_COMMON_TASK_SPEC_H_
