#ifndef GPUQ_MASTER_SCHED_SCHEDULER_H_
#define GPUQ_MASTER_SCHED_SCHEDULER_H_

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/latency_histogram.h"
#include "common/policy.h"
#include "common/snapshot.h"
#include "common/status.h"
#include "common/waiting_reasons.h"

namespace gpuq {

// Where the scheduler reads the world: the master builds the cluster snapshot from the live
// node states and the store, and the queue of tasks that may start now.
class SchedulerSource {
 public:
  virtual ~SchedulerSource() = default;
  // Fills the snapshot and the runnable queue; tasks that cannot be considered at all
  // (unmet dependency, no credential) go to `waiting` with their reason.
  virtual Status Read(ClusterSnapshot* snapshot, std::vector<TaskRequest>* queue,
                      std::map<TaskId, std::string>* waiting) = 0;
  // Settings that may change while the master runs (caps): applied over the scheduler's
  // options at each cycle. The default keeps them as they are.
  virtual void AdjustOptions(PolicyOptions* /*options*/) {}
};

// Where placements go: the launcher reserves the GPUs (one transaction) before it returns,
// so the next cycle sees them taken.
class PlacementSink {
 public:
  virtual ~PlacementSink() = default;
  virtual void Launch(const Placement& placement, const std::string& node_name) = 0;
};

// The scheduling loop (DESIGN.md "The loop"): wakes on every event (Wake()) and on a slow
// tick, takes one snapshot, asks the pure policy, and hands placements to the sink. Keeps the
// latest waiting reason of every queued task for the API. Thread-safe.
class Scheduler {
 public:
  Scheduler(SchedulerSource* source, PlacementSink* sink, PolicyOptions options,
            std::chrono::milliseconds tick = std::chrono::milliseconds(1000));
  ~Scheduler();

  void Start();
  void Stop();
  void Wake();
  // Where each pass's duration (snapshot + policy, launches excluded) is recorded; may be
  // null. Set before Start().
  void SetPassHistogram(LatencyHistogram* histogram) { pass_histogram_ = histogram; }
  // One cycle on the caller's thread (tests, and Start's loop).
  void RunOnce();

  std::string WaitingReason(TaskId task) const;
  // The snapshot of the last cycle, for never-fits warnings on submit.
  ClusterSnapshot LastSnapshot() const;

 private:
  void Loop();

  SchedulerSource* source_;
  PlacementSink* sink_;
  PolicyOptions options_;
  std::chrono::milliseconds tick_;
  LatencyHistogram* pass_histogram_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool woken_ = false;
  bool stop_ = false;
  // Tasks the source held back (unmet dependency, no credential), and the policy's reasons.
  std::map<TaskId, std::string> waiting_;
  WaitingReasons decided_;
  ClusterSnapshot last_snapshot_;
  std::thread thread_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_SCHED_SCHEDULER_H_
