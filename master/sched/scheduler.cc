#include "master/sched/scheduler.h"

namespace gpuq {

Scheduler::Scheduler(SchedulerSource* source, PlacementSink* sink, PolicyOptions options,
                     std::chrono::milliseconds tick)
    : source_(source), sink_(sink), options_(options), tick_(tick) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
  std::lock_guard lock(mu_);
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Scheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  wake_.notify_all();
}

void Scheduler::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    woken_ = false;
    lock.unlock();
    auto start = std::chrono::steady_clock::now();
    RunOnce();
    auto took = std::chrono::steady_clock::now() - start;
    lock.lock();
    // Under a storm of wakes (thousands of submissions) passes would run back to back, each
    // reading the whole queue while the API waits for the database: after a pass that took
    // T, the next starts no sooner than T later. An idle master's pass takes about a
    // millisecond, so a lone event is still acted on at once.
    wake_.wait_for(lock, took, [&] { return stop_; });
    wake_.wait_for(lock, tick_, [&] { return stop_ || woken_; });
  }
}

void Scheduler::RunOnce() {
  auto pass_start = std::chrono::steady_clock::now();
  ClusterSnapshot snapshot;
  std::vector<TaskRequest> queue;
  std::map<TaskId, std::string> waiting;
  if (!source_->Read(&snapshot, &queue, &waiting).ok()) return;
  PolicyOptions options = options_;
  source_->AdjustOptions(&options);
  Decision decision = Schedule(snapshot, queue, options);
  if (pass_histogram_ != nullptr) {
    pass_histogram_->Observe(std::chrono::steady_clock::now() - pass_start);
  }
  std::map<NodeId, std::string> node_names;
  for (const NodeView& node : snapshot.nodes) node_names[node.id] = node.name;
  for (const Placement& placement : decision.placements) {
    sink_->Launch(placement, node_names[placement.node]);
  }
  std::lock_guard lock(mu_);
  waiting_ = std::move(waiting);
  decided_ = std::move(decision.waiting_reasons);
  last_snapshot_ = std::move(snapshot);
}

std::string Scheduler::WaitingReason(TaskId task) const {
  std::lock_guard lock(mu_);
  if (const std::string* why = decided_.Find(task)) return *why;
  auto it = waiting_.find(task);
  return it == waiting_.end() ? "" : it->second;
}

ClusterSnapshot Scheduler::LastSnapshot() const {
  std::lock_guard lock(mu_);
  return last_snapshot_;
}

}  // namespace gpuq
