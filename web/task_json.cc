#include "web/task_json.h"

#include "web/json_values.h"

namespace gpuq {

nlohmann::json RunJson(const RunRow& run) {
  return {
      {"id", run.id.value},
      {"task_id", run.task_id.value},
      {"attempt", run.attempt},
      {"node", run.node_name},
      {"gpu_indices", run.gpu_indices},
      {"pid", OrNull(run.pid)},
      {"status", TaskStatusName(run.status)},
      {"exit_code", OrNull(run.exit_code)},
      {"created_at", FormatRfc3339(run.created_at)},
      {"started_at", TimeOrNull(run.started_at)},
      {"ended_at", TimeOrNull(run.ended_at)},
      {"end_reason", OrNull(run.end_reason)},
  };
}

nlohmann::json TaskJson(const TaskRow& task, std::span<const RunRow> runs) {
  const TaskSpec& s = task.spec;
  nlohmann::json after = nlohmann::json::array();
  for (TaskId id : s.after) after.push_back(id.value);
  nlohmann::json run_list = nlohmann::json::array();
  for (const RunRow& run : runs) run_list.push_back(RunJson(run));
  return {
      {"id", task.id.value},
      {"name", s.name},
      {"user", task.username},
      {"command", s.command},
      {"workdir", OrNull(s.workdir)},
      {"gpus", s.gpus},
      {"mem_mib", s.mem_mib},
      {"util_pct", s.util_pct},
      {"exclusive", s.exclusive},
      {"node", OrNull(s.node)},
      {"share", s.share},
      {"gpu_model", OrNull(s.gpu_model)},
      {"env", s.env.empty() ? nlohmann::json::object() : nlohmann::json(s.env)},
      {"priority", s.priority},
      {"time_limit_s", OrNull(s.time_limit_s)},
      {"retries", s.retries},
      {"retries_left", task.retries_left},
      {"after", after},
      {"notify", s.notify.value_or("off")},
      {"gpu_ids", s.gpu_ids},
      {"prefer_gpus", s.prefer_gpus},
      {"on_time_limit", s.on_time_limit},
      {"conda", OrNull(s.conda)},
      {"venv", OrNull(s.venv)},
      {"status", TaskStatusName(task.status)},
      {"created_at", FormatRfc3339(task.created_at)},
      {"updated_at", FormatRfc3339(task.updated_at)},
      {"ended_at", TimeOrNull(task.ended_at)},
      {"cancel_requested_at", TimeOrNull(task.cancel_requested_at)},
      {"runs", run_list},
  };
}

}  // namespace gpuq
