#include "master/app/sched_source.h"

#include <spdlog/spdlog.h>

#include "master/store/node_store.h"
#include "master/store/user_store.h"

namespace gpuq {

namespace {
// Fair share looks at GPU-hours of the last week.
constexpr UnixMs kUsageWindowMs = 7LL * 24 * 3600 * 1000;
// Summing a week of runs scans the runs table; a few seconds old, the sums order users the
// same, so a busy master (a pass per event) computes them this often at most.
constexpr UnixMs kUsageMaxAgeMs = 5000;
}  // namespace

Status SchedSource::ReadUsage(UnixMs now, std::map<std::string, double>* gpu_hours) {
  return db_->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare(
        "SELECT u.username, SUM((LENGTH(r.gpu_indices) - LENGTH(REPLACE(r.gpu_indices, ',', '')) "
        "  + (r.gpu_indices != '')) * (MIN(COALESCE(r.ended_at, ?), ?) - r.started_at)) "
        "FROM runs r JOIN tasks t ON t.id = r.task_id JOIN users u ON u.id = t.user_id "
        "WHERE r.started_at IS NOT NULL AND (r.ended_at IS NULL OR r.ended_at > ?) "
        "GROUP BY u.username");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindAll(now, now, now - kUsageWindowMs));
    while (true) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      (*gpu_hours)[stmt->ColumnText(0)] = static_cast<double>(stmt->ColumnInt64(1)) / 3.6e6;
    }
    return Status::Ok();
  });
}

void SchedSource::AdjustOptions(PolicyOptions* options) {
  options->max_running_total = current_.max_running;
  options->max_running_per_user = current_.max_running_per_user;
  options->max_running_per_node = current_.max_running_per_node;
}

Status SchedSource::Read(ClusterSnapshot* snapshot, std::vector<TaskRequest>* queue,
                         std::map<TaskId, std::string>* waiting) {
  SettingsStore settings(db_, clock_);
  std::string bad_key;
  Result<SchedSettings> settings_now = ReadSchedSettings(settings, flags_, &bad_key);
  if (!settings_now.ok()) return settings_now.status();
  current_ = *settings_now;
  if (bad_key != bad_setting_logged_) {  // once per bad key, not once per cycle
    if (!bad_key.empty())
      spdlog::warn("setting {}: the stored value is not valid; ignored", bad_key);
    bad_setting_logged_ = bad_key;
  }
  UnixMs now = clock_->NowUnixMs();
  snapshot->now = now;
  Result<std::vector<NodeRow>> nodes = NodeStore(db_, clock_).List();
  if (!nodes.ok()) return nodes.status();
  Result<std::vector<LiveRun>> live = ledger_.Live();
  if (!live.ok()) return live.status();
  if (usage_read_at_ == 0 || now - usage_read_at_ >= kUsageMaxAgeMs || now < usage_read_at_) {
    usage_.clear();
    GPUQ_RETURN_IF_ERROR(ReadUsage(now, &usage_));
    usage_read_at_ = now;
  }
  snapshot->user_gpu_hours = usage_;
  Result<std::vector<UserRow>> users = UserStore(db_, clock_).List();
  if (!users.ok()) return users.status();
  std::map<UserId, std::string> user_names;
  for (const UserRow& u : *users) user_names[u.id] = u.username;

  std::map<NodeId, NodeLiveState> states = cluster_->All();
  for (const NodeRow& row : *nodes) {
    NodeView node;
    node.id = row.id;
    node.name = row.name;
    node.schedulable = row.schedulable;
    auto state = states.find(row.id);
    node.available = state != states.end() && state->second.available;
    node.unavailable_reason = state == states.end() ? "not probed yet" : state->second.last_error;
    if (state != states.end()) {
      for (const GpuStatus& gpu : state->second.gpus) {
        GpuView view;
        view.index = gpu.index;
        view.uuid = gpu.uuid;
        view.model = gpu.model;
        view.error = gpu.error;
        view.mem_total_mib = gpu.mem_total_mib;
        // Samples from before gpuq last released this GPU show the previous run's use, not
        // what is in the way now; with nothing newer yet, the latest sample is the best
        // knowledge (the master asks for a fresh one as soon as a run ends).
        UnixMs released = executor_->LastReleased(row.id, gpu.index);
        std::vector<GpuPoint> recent = cluster_->Recent(row.id, gpu.index);
        for (size_t i = 0; i < recent.size(); ++i) {
          const GpuPoint& p = recent[i];
          if (p.t < released && i + 1 != recent.size()) continue;
          if (p.mem_used_mib >= 0) view.recent_mem_used_mib.push_back(p.mem_used_mib);
          if (p.util_pct >= 0) view.recent_util_pct.push_back(p.util_pct);
        }
        for (const LiveRun& run : *live) {
          if (run.node != row.id) continue;
          bool holds = false;
          for (int i : run.gpu_indices) holds = holds || i == gpu.index;
          if (!holds) continue;
          GpuAllocation a;
          a.run = run.run;
          a.task = run.task;
          a.share = run.share;
          a.mem_mib = run.mem_mib;
          a.started_at = run.created_at;
          if (run.time_limit_s && run.started_at) {
            a.expected_end = *run.started_at + *run.time_limit_s * 1000;
          }
          view.allocations.push_back(a);
        }
        // Processes on a GPU that gpuq runs hold are taken as theirs.
        int64_t observed = 0;
        for (const GpuProcess& p : gpu.processes) {
          if (view.allocations.empty()) {
            view.foreign_processes.push_back(p);
          } else {
            observed += p.mem_mib.value_or(0);
          }
        }
        if (!view.allocations.empty() && !gpu.processes.empty()) {
          for (GpuAllocation& a : view.allocations) {
            a.process_seen = true;
            a.observed_mem_mib = observed / static_cast<int64_t>(view.allocations.size());
          }
        }
        node.gpus.push_back(std::move(view));
      }
    }
    for (const LiveRun& run : *live) node.running_runs += run.node == row.id ? 1 : 0;
    snapshot->nodes.push_back(std::move(node));
  }
  for (const LiveRun& run : *live) {
    ++snapshot->running_total;
    ++snapshot->running_per_user[user_names[run.owner]];
  }
  Result<std::vector<TaskRequest>> runnable =
      ledger_.Runnable(waiting, current_.default_time_limit_s);
  if (!runnable.ok()) return runnable.status();
  *queue = std::move(*runnable);
  return Status::Ok();
}

}  // namespace gpuq
