#ifndef GPUQ_TESTS_UNIT_POLICY_POLICY_BUILDERS_H_
#define GPUQ_TESTS_UNIT_POLICY_POLICY_BUILDERS_H_

// Small builders for policy tests (Kubernetes testing/wrappers.go style):
//   MakeCluster().Node(MakeNode("n1").Gpus(8).Foreign(3, 30 * kGiB, 4121)).Build()
//   MakeTask(1).Gpus(2).Mem(8 * kGiB).Limit(3600)

#include <cstdint>
#include <string>
#include <vector>

#include "common/policy.h"
#include "common/snapshot.h"

namespace gpuq::testing {

inline constexpr UnixMs kNow = 1'700'000'000'000;
inline constexpr int64_t kGiB = 1024;  // MiB
inline constexpr int64_t kMinuteMs = 60'000;
inline constexpr int64_t kHourMs = 3'600'000;
inline constexpr const char* kA100 = "NVIDIA A100-SXM4-80GB";

// A gpuq run holding a GPU. Default: started an hour ago, its process seen, no declared
// memory, not shared, no time limit.
class RunBuilder {
 public:
  RunBuilder(int64_t run, int64_t task);
  RunBuilder& Mem(int64_t mem_mib);
  RunBuilder& Share(int64_t mem_mib);            // share + declared memory
  RunBuilder& Unseen(int64_t started_ago_ms);    // started, no process yet
  RunBuilder& Seen(int64_t observed_mib);        // process seen, using this much
  RunBuilder& EndsIn(int64_t ms);                // expected_end = kNow + ms
  operator GpuAllocation() const { return a_; }  // NOLINT: builder
 private:
  GpuAllocation a_;
};
inline RunBuilder MakeRun(int64_t run, int64_t task) { return RunBuilder(run, task); }

class NodeBuilder {
 public:
  // The id is the number in the name ("n12" -> 12) unless Id() sets it.
  explicit NodeBuilder(std::string name);
  NodeBuilder& Id(int64_t id);
  // Appends n idle GPUs (one sample: 0 MiB used, 0 % utilisation).
  NodeBuilder& Gpus(int n, std::string model = kA100, int64_t mem_total_mib = 80 * kGiB);
  NodeBuilder& MemUsed(int gpu, std::vector<int64_t> samples_mib);
  NodeBuilder& Util(int gpu, std::vector<int> samples_pct);
  // A foreign process using mem_mib; every memory sample grows by mem_mib.
  NodeBuilder& Foreign(int gpu, int64_t mem_mib, int64_t pid);
  NodeBuilder& Held(int gpu, const GpuAllocation& run);
  NodeBuilder& Failing(int gpu, std::string error);
  NodeBuilder& UnknownMem(int gpu);
  NodeBuilder& UnknownUtil(int gpu);
  NodeBuilder& Index(int gpu, int index);
  NodeBuilder& Down(std::string reason = "");
  NodeBuilder& Unschedulable();
  NodeBuilder& Running(int runs);
  NodeView Build() const { return node_; }
  operator NodeView() const { return node_; }  // NOLINT: builder

 private:
  GpuView& Gpu(int gpu);
  NodeView node_;
};
inline NodeBuilder MakeNode(std::string name) { return NodeBuilder(std::move(name)); }

class ClusterBuilder {
 public:
  ClusterBuilder();
  ClusterBuilder& Node(NodeView node);
  ClusterBuilder& At(UnixMs now);
  ClusterBuilder& Usage(const std::string& user, double gpu_hours);
  ClusterBuilder& Running(const std::string& user, int runs);  // also adds to the total
  ClusterSnapshot Build() const { return s_; }
  operator ClusterSnapshot() const { return s_; }  // NOLINT: builder

 private:
  ClusterSnapshot s_;
};
inline ClusterBuilder MakeCluster() { return ClusterBuilder(); }

// Default: user alice, 1 GPU, no needs, priority 0, no time limit, submitted a minute ago.
class TaskBuilder {
 public:
  explicit TaskBuilder(int64_t id);
  TaskBuilder& User(std::string user);
  TaskBuilder& Gpus(int n);
  TaskBuilder& Mem(int64_t mem_mib);
  TaskBuilder& Util(int pct);
  TaskBuilder& Exclusive();
  TaskBuilder& Share();
  TaskBuilder& OnNode(std::string node);
  TaskBuilder& Model(std::string model);
  TaskBuilder& Priority(int p);
  TaskBuilder& Limit(int64_t seconds);
  TaskBuilder& Submitted(UnixMs at);
  TaskBuilder& GpuIds(std::vector<int> ids);
  TaskBuilder& Prefer(std::vector<int> ids);
  TaskRequest Build() const { return t_; }
  operator TaskRequest() const { return t_; }  // NOLINT: builder

 private:
  TaskRequest t_;
};
inline TaskBuilder MakeTask(int64_t id) { return TaskBuilder(id); }

// Runs the policy on `tasks`.
Decision Sched(const ClusterSnapshot& snapshot, const std::vector<TaskRequest>& tasks,
               const PolicyOptions& options = PolicyOptions());

// Where the task went: "n1[0,3]" ("n1[]" for CPU-only), or "waiting: <reason>".
std::string Outcome(const ClusterSnapshot& snapshot, const Decision& d, int64_t task);

// Every task's outcome, one per line, in task id order: for whole-decision comparisons.
std::string Describe(const ClusterSnapshot& snapshot, const Decision& d);

// Removes the "; reserved node ..." note that the reserved task's reason ends with, from
// every line: for tables about other rules (the reservation tests check the note).
std::string StripReservationNotes(const std::string& text);

}  // namespace gpuq::testing

#endif  // GPUQ_TESTS_UNIT_POLICY_POLICY_BUILDERS_H_
