#include "tests/unit/policy/policy_builders.h"

#include <cctype>
#include <set>
#include <utility>

namespace gpuq::testing {

RunBuilder::RunBuilder(int64_t run, int64_t task) {
  a_.run = RunId(run);
  a_.task = TaskId(task);
  a_.started_at = kNow - kHourMs;
  a_.process_seen = true;
}
RunBuilder& RunBuilder::Mem(int64_t mem_mib) {
  a_.mem_mib = mem_mib;
  return *this;
}
RunBuilder& RunBuilder::Share(int64_t mem_mib) {
  a_.share = true;
  a_.mem_mib = mem_mib;
  return *this;
}
RunBuilder& RunBuilder::Unseen(int64_t started_ago_ms) {
  a_.process_seen = false;
  a_.observed_mem_mib = 0;
  a_.started_at = kNow - started_ago_ms;
  return *this;
}
RunBuilder& RunBuilder::Seen(int64_t observed_mib) {
  a_.process_seen = true;
  a_.observed_mem_mib = observed_mib;
  return *this;
}
RunBuilder& RunBuilder::EndsIn(int64_t ms) {
  a_.expected_end = kNow + ms;
  return *this;
}

NodeBuilder::NodeBuilder(std::string name) {
  int64_t id = 0;
  for (char c : name) {
    if (std::isdigit(static_cast<unsigned char>(c))) id = id * 10 + (c - '0');
  }
  node_.id = NodeId(id);
  node_.name = std::move(name);
  node_.available = true;
  node_.schedulable = true;
}
NodeBuilder& NodeBuilder::Id(int64_t id) {
  node_.id = NodeId(id);
  return *this;
}
NodeBuilder& NodeBuilder::Gpus(int n, std::string model, int64_t mem_total_mib) {
  for (int i = 0; i < n; ++i) {
    GpuView g;
    g.index = static_cast<int>(node_.gpus.size());
    g.uuid = "GPU-" + node_.name + "-" + std::to_string(g.index);
    g.model = model;
    g.mem_total_mib = mem_total_mib;
    g.recent_mem_used_mib = {0};
    g.recent_util_pct = {0};
    node_.gpus.push_back(std::move(g));
  }
  return *this;
}
GpuView& NodeBuilder::Gpu(int gpu) { return node_.gpus.at(static_cast<size_t>(gpu)); }
NodeBuilder& NodeBuilder::MemUsed(int gpu, std::vector<int64_t> samples_mib) {
  Gpu(gpu).recent_mem_used_mib = std::move(samples_mib);
  return *this;
}
NodeBuilder& NodeBuilder::Util(int gpu, std::vector<int> samples_pct) {
  Gpu(gpu).recent_util_pct = std::move(samples_pct);
  return *this;
}
NodeBuilder& NodeBuilder::Foreign(int gpu, int64_t mem_mib, int64_t pid) {
  GpuView& g = Gpu(gpu);
  for (int64_t& used : g.recent_mem_used_mib) used += mem_mib;
  GpuProcess p;
  p.pid = pid;
  p.gpu_uuid = g.uuid;
  p.mem_mib = mem_mib;
  p.name = "python";
  g.foreign_processes.push_back(p);
  return *this;
}
NodeBuilder& NodeBuilder::Held(int gpu, const GpuAllocation& run) {
  Gpu(gpu).allocations.push_back(run);
  return *this;
}
NodeBuilder& NodeBuilder::Failing(int gpu, std::string error) {
  Gpu(gpu).error = std::move(error);
  return *this;
}
NodeBuilder& NodeBuilder::UnknownMem(int gpu) {
  Gpu(gpu).mem_total_mib.reset();
  Gpu(gpu).recent_mem_used_mib.clear();
  return *this;
}
NodeBuilder& NodeBuilder::UnknownUtil(int gpu) {
  Gpu(gpu).recent_util_pct.clear();
  return *this;
}
NodeBuilder& NodeBuilder::Index(int gpu, int index) {
  Gpu(gpu).index = index;
  return *this;
}
NodeBuilder& NodeBuilder::Down(std::string reason) {
  node_.available = false;
  node_.unavailable_reason = std::move(reason);
  return *this;
}
NodeBuilder& NodeBuilder::Unschedulable() {
  node_.schedulable = false;
  return *this;
}
NodeBuilder& NodeBuilder::Running(int runs) {
  node_.running_runs = runs;
  return *this;
}

ClusterBuilder::ClusterBuilder() { s_.now = kNow; }
ClusterBuilder& ClusterBuilder::Node(NodeView node) {
  s_.nodes.push_back(std::move(node));
  return *this;
}
ClusterBuilder& ClusterBuilder::At(UnixMs now) {
  s_.now = now;
  return *this;
}
ClusterBuilder& ClusterBuilder::Usage(const std::string& user, double gpu_hours) {
  s_.user_gpu_hours[user] = gpu_hours;
  return *this;
}
ClusterBuilder& ClusterBuilder::Running(const std::string& user, int runs) {
  s_.running_per_user[user] += runs;
  s_.running_total += runs;
  return *this;
}

TaskBuilder::TaskBuilder(int64_t id) {
  t_.id = TaskId(id);
  t_.user = "alice";
  t_.gpus = 1;
  t_.submitted_at = kNow - kMinuteMs;
}
TaskBuilder& TaskBuilder::User(std::string user) {
  t_.user = std::move(user);
  return *this;
}
TaskBuilder& TaskBuilder::Gpus(int n) {
  t_.gpus = n;
  return *this;
}
TaskBuilder& TaskBuilder::Mem(int64_t mem_mib) {
  t_.mem_mib = mem_mib;
  return *this;
}
TaskBuilder& TaskBuilder::Util(int pct) {
  t_.util_pct = pct;
  return *this;
}
TaskBuilder& TaskBuilder::Exclusive() {
  t_.exclusive = true;
  return *this;
}
TaskBuilder& TaskBuilder::Share() {
  t_.share = true;
  return *this;
}
TaskBuilder& TaskBuilder::OnNode(std::string node) {
  t_.node = std::move(node);
  return *this;
}
TaskBuilder& TaskBuilder::Model(std::string model) {
  t_.gpu_model = std::move(model);
  return *this;
}
TaskBuilder& TaskBuilder::Priority(int p) {
  t_.priority = p;
  return *this;
}
TaskBuilder& TaskBuilder::Limit(int64_t seconds) {
  t_.time_limit_s = seconds;
  return *this;
}
TaskBuilder& TaskBuilder::Submitted(UnixMs at) {
  t_.submitted_at = at;
  return *this;
}
TaskBuilder& TaskBuilder::GpuIds(std::vector<int> ids) {
  t_.gpu_ids = std::move(ids);
  return *this;
}
TaskBuilder& TaskBuilder::Prefer(std::vector<int> ids) {
  t_.prefer_gpus = std::move(ids);
  return *this;
}

Decision Sched(const ClusterSnapshot& snapshot, const std::vector<TaskRequest>& tasks,
               const PolicyOptions& options) {
  return Schedule(snapshot, tasks, options);
}

std::string Outcome(const ClusterSnapshot& snapshot, const Decision& d, int64_t task) {
  for (const Placement& p : d.placements) {
    if (p.task != TaskId(task)) continue;
    std::string out = "?";
    for (const NodeView& n : snapshot.nodes) {
      if (n.id == p.node) out = n.name;
    }
    out += "[";
    for (size_t i = 0; i < p.gpu_indices.size(); ++i) {
      if (i > 0) out += ",";
      out += std::to_string(p.gpu_indices[i]);
    }
    return out + "]";
  }
  const std::string* why = d.waiting_reasons.Find(TaskId(task));
  if (why == nullptr) return "(neither placed nor waiting)";
  return "waiting: " + *why;
}

std::string Describe(const ClusterSnapshot& snapshot, const Decision& d) {
  std::set<int64_t> ids;
  for (const Placement& p : d.placements) ids.insert(p.task.value);
  for (const auto& [id, why] : d.waiting_reasons.ToMap()) ids.insert(id.value);
  std::string out;
  for (int64_t id : ids) out += std::to_string(id) + ": " + Outcome(snapshot, d, id) + "\n";
  if (d.reservation) {
    out += "reservation: task " + std::to_string(d.reservation->task.value) + " on " +
           d.reservation->node_name + " from " +
           (d.reservation->start_at ? std::to_string(*d.reservation->start_at) : "?") + "\n";
  }
  return out;
}

std::string StripReservationNotes(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? end : end - start);
    if (size_t at = line.find("; reserved node "); at != std::string::npos) line.erase(at);
    out += line;
    if (end == std::string::npos) break;
    out += "\n";
    start = end + 1;
  }
  return out;
}

}  // namespace gpuq::testing
