#ifndef GPUQ_MASTER_APP_SCHED_SOURCE_H_
#define GPUQ_MASTER_APP_SCHED_SOURCE_H_

#include "common/cluster_state.h"
#include "master/exec/executor.h"
#include "master/exec/run_ledger.h"
#include "master/sched/scheduler.h"
#include "master/store/database.h"
#include "master/store/sched_settings.h"

namespace gpuq {

// Builds the scheduler's snapshot: nodes from the store with their live state and recent
// samples, the GPUs gpuq runs hold (from the live runs), fair-share usage, and the runnable
// queue. GPU processes on a GPU that a run holds count as that run's; all others are foreign.
class SchedSource final : public SchedulerSource, public PlacementSink {
 public:
  // `flags`: caps and the default time limit from the master's flags; the settings table
  // overrides them (master/store/sched_settings.h).
  SchedSource(Database* db, Clock* clock, const ClusterState* cluster, Executor* executor,
              SchedSettings flags = {})
      : db_(db),
        clock_(clock),
        cluster_(cluster),
        executor_(executor),
        ledger_(db, clock),
        flags_(flags) {}

  Status Read(ClusterSnapshot* snapshot, std::vector<TaskRequest>* queue,
              std::map<TaskId, std::string>* waiting) override;
  void AdjustOptions(PolicyOptions* options) override;
  void Launch(const Placement& placement, const std::string& node_name) override {
    executor_->Launch(placement, node_name);
  }

 private:
  Status ReadUsage(UnixMs now, std::map<std::string, double>* gpu_hours);

  Database* db_;
  Clock* clock_;
  const ClusterState* cluster_;
  Executor* executor_;
  RunLedger ledger_;
  SchedSettings flags_;
  SchedSettings current_;  // read at the start of each Read (scheduler thread only)
  // GPU-hours per user and when they were summed (scheduler thread only).
  std::map<std::string, double> usage_;
  UnixMs usage_read_at_ = 0;
  std::string bad_setting_logged_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_APP_SCHED_SOURCE_H_
