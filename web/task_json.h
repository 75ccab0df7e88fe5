#ifndef GPUQ_WEB_TASK_JSON_H_
#define GPUQ_WEB_TASK_JSON_H_

// INTERFACE.md's Task and Run JSON, built from store rows. Shared by the JSON API and the
// admin panel.

#include <nlohmann/json.hpp>
#include <span>

#include "master/store/run_store.h"
#include "master/store/task_store.h"

namespace gpuq {

// Run JSON: id, task_id, node, gpu_indices, pid, status, exit_code, started_at, ended_at,
// plus attempt, created_at and end_reason. Unset values are null; times RFC 3339 UTC.
nlohmann::json RunJson(const RunRow& run);

// Task JSON: id, name, user, command, workdir, gpus, mem_mib, util_pct, exclusive, node,
// share, gpu_model, env, priority, time_limit_s, retries, after, notify, status,
// created_at, runs (from `runs`, which must be the task's own), plus retries_left,
// updated_at, ended_at and cancel_requested_at. Unset constraints (workdir, node,
// gpu_model, time_limit_s) and times are null.
nlohmann::json TaskJson(const TaskRow& task, std::span<const RunRow> runs);

}  // namespace gpuq

#endif  // GPUQ_WEB_TASK_JSON_H_
