#include "common/policy_filters.h"

#include <algorithm>
#include <cstdio>
#include <span>
#include <string_view>
#include <utility>

namespace gpuq {
namespace policy_internal {

std::string MemText(int64_t mib) {
  if (mib < 1024 && mib > -1024) return std::to_string(mib) + " MiB";
  if (mib % 1024 == 0) return std::to_string(mib / 1024) + " GiB";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f GiB", static_cast<double>(mib) / 1024.0);
  return buf;
}

namespace {

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool ContainsNoCase(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    size_t j = 0;
    while (j < needle.size() && ToLower(haystack[i + j]) == ToLower(needle[j])) ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

// The last `max_samples` entries (all when 0).
template <typename T>
std::span<const T> Window(const std::vector<T>& samples, int max_samples) {
  std::span<const T> all(samples);
  if (max_samples > 0 && all.size() > static_cast<size_t>(max_samples)) {
    return all.subspan(all.size() - static_cast<size_t>(max_samples));
  }
  return all;
}

std::string GpuPrefix(const GpuState& gpu) {
  return gpu.index < 0 ? std::string("gpu ?: ") : "gpu " + std::to_string(gpu.index) + ": ";
}

std::string HeldReason(const GpuState& gpu, const TaskContext& task) {
  if (gpu.held_text_holders != gpu.holders) {
    std::string& text = gpu.held_text;
    text = GpuPrefix(gpu);
    if (gpu.first_this_pass) {
      text += "given to task " + std::to_string(gpu.first_task.value) + " in this pass";
    } else {
      text += "held by run " + std::to_string(gpu.first_run.value) + " of task " +
              std::to_string(gpu.first_task.value);
    }
    if (gpu.holders > 1) text += " and " + std::to_string(gpu.holders - 1) + " more";
    gpu.held_text_holders = gpu.holders;
  }
  std::string why = gpu.held_text;
  if (task.sharing && !gpu.all_holders_share) {
    why += ", not shared";
  } else if (!task.sharing && task.task->share && gpu.all_holders_share) {
    why += task.task->exclusive ? "; an exclusive task cannot share"
                                : "; a task without a memory need cannot share";
  }
  return why;
}

}  // namespace

TaskContext MakeTaskContext(const TaskRequest& task, const Reservation* reservation, UnixMs now) {
  TaskContext ctx;
  ctx.task = &task;
  ctx.sharing = task.share && !task.exclusive && task.mem_mib > 0;
  ctx.reservation = reservation;
  ctx.may_use_reserved = reservation != nullptr && reservation->start_at.has_value() &&
                         task.time_limit_s > 0 &&
                         now + task.time_limit_s * 1000 <= *reservation->start_at;
  return ctx;
}

GpuState MakeGpuState(const GpuView& gpu, UnixMs now, const PolicyOptions& options) {
  GpuState s;
  s.view = &gpu;
  s.index = gpu.index;
  auto mem = Window(gpu.recent_mem_used_mib, options.max_samples);
  auto util = Window(gpu.recent_util_pct, options.max_samples);
  s.mem_known = gpu.mem_total_mib.has_value() && !mem.empty();
  s.healthy = gpu.index >= 0 && gpu.error.empty() && s.mem_known;
  s.util_known = !util.empty();
  s.total_mib = gpu.mem_total_mib.value_or(0);
  if (!mem.empty()) s.max_used_mib = *std::max_element(mem.begin(), mem.end());
  if (!util.empty()) s.max_util_pct = *std::max_element(util.begin(), util.end());
  s.has_foreign_process = !gpu.foreign_processes.empty();
  int64_t observed = 0;
  for (const GpuAllocation& a : gpu.allocations) {
    observed += std::max<int64_t>(a.observed_mem_mib, 0);
    s.declared_mib += std::max<int64_t>(a.mem_mib, 0);
    if (!a.process_seen && now - a.started_at < options.promise_grace_ms) {
      s.promised_mib += std::max<int64_t>(a.mem_mib, 0);
    }
    if (s.holders == 0) {
      s.first_run = a.run;
      s.first_task = a.task;
    }
    ++s.holders;
    if (!a.share || a.mem_mib <= 0) s.all_holders_share = false;
    if (!a.expected_end) {
      s.free_at_known = false;
    } else {
      s.free_at = std::max(s.free_at, *a.expected_end);
    }
  }
  s.foreign_used_mib = std::max<int64_t>(s.max_used_mib - observed, 0);
  return s;
}

std::vector<NodeState> MakeNodeStates(const ClusterSnapshot& snapshot,
                                      const PolicyOptions& options) {
  std::vector<NodeState> nodes;
  nodes.reserve(snapshot.nodes.size());
  for (const NodeView& view : snapshot.nodes) {
    NodeState n;
    n.view = &view;
    n.running = view.running_runs;
    n.gpus.reserve(view.gpus.size());
    for (const GpuView& gpu : view.gpus) {
      n.gpus.push_back(MakeGpuState(gpu, snapshot.now, options));
      n.gpus.back().node = view.id;
      const GpuState& g = n.gpus.back();
      if (g.healthy && g.holders == 0) ++n.unheld_healthy;
      if (g.healthy && (g.holders == 0 || g.all_holders_share)) ++n.open_to_sharers;
    }
    nodes.push_back(std::move(n));
  }
  std::stable_sort(nodes.begin(), nodes.end(), [](const NodeState& a, const NodeState& b) {
    if (a.view->id != b.view->id) return a.view->id < b.view->id;
    return a.view->name < b.view->name;
  });
  return nodes;
}

void AddHolder(NodeState& node, GpuState& gpu, const TaskContext& task, UnixMs now) {
  const TaskRequest& t = *task.task;
  if (gpu.holders == 0 && gpu.healthy) --node.unheld_healthy;
  if (gpu.healthy && gpu.all_holders_share && !task.sharing) --node.open_to_sharers;
  if (gpu.holders == 0) {
    gpu.first_run = RunId();
    gpu.first_task = t.id;
    gpu.first_this_pass = true;
  }
  ++gpu.holders;
  if (!task.sharing) gpu.all_holders_share = false;
  int64_t mem = std::max<int64_t>(t.mem_mib, 0);
  gpu.declared_mib += mem;
  gpu.promised_mib += mem;  // started now, not seen yet
  if (t.time_limit_s <= 0) {
    gpu.free_at_known = false;
  } else {
    gpu.free_at = std::max(gpu.free_at, now + t.time_limit_s * 1000);
  }
}

bool GpuModelMatches(std::string_view model, std::string_view wanted) {
  return ContainsNoCase(model, wanted);
}

bool ModelMatcher::Matches(std::string_view model, std::string_view wanted) {
  if (wanted.empty()) return true;
  for (const Answer& a : answers_) {
    if (a.model == model && a.wanted == wanted) return a.matches;
  }
  bool matches = GpuModelMatches(model, wanted);
  constexpr size_t kMostRemembered = 64;  // beyond that a search costs more than matching
  if (answers_.size() < kMostRemembered) answers_.push_back({model, wanted, matches});
  return matches;
}

bool GpuEligibleSlow(const GpuState& gpu, const TaskRequest& task) {
  if (!GpuModelMatches(gpu.view->model, task.gpu_model)) return false;
  if (!task.gpu_ids.empty() &&
      std::find(task.gpu_ids.begin(), task.gpu_ids.end(), gpu.index) == task.gpu_ids.end()) {
    return false;
  }
  return true;
}

bool NodePassesSlow(const NodeState& node, const PolicyOptions& options, std::string* why) {
  const NodeView& v = *node.view;
  if (!v.available) {
    if (why) {
      *why = "node " + v.name + ": unavailable";
      if (!v.unavailable_reason.empty()) *why += " (" + v.unavailable_reason + ")";
    }
    return false;
  }
  if (!v.schedulable) {
    if (why) *why = "node " + v.name + ": not schedulable";
    return false;
  }
  if (options.max_running_per_node > 0 && node.running >= options.max_running_per_node) {
    if (why) {
      *why = "node " + v.name + ": at max_running_per_node (" + std::to_string(node.running) +
             " running)";
    }
    return false;
  }
  return true;
}

namespace {

// Healthy and its fields known (for what this task needs).
bool GpuHealthy(const GpuState& gpu, const TaskContext& task, std::string* why) {
  if (gpu.healthy && (gpu.util_known || task.task->util_pct <= 0)) return true;  // fast path
  if (gpu.index < 0) {
    if (why) *why = GpuPrefix(gpu) + "index unknown";
    return false;
  }
  if (!gpu.view->error.empty()) {
    if (why) *why = GpuPrefix(gpu) + "failing (" + gpu.view->error + ")";
    return false;
  }
  if (!gpu.mem_known) {
    if (why) *why = GpuPrefix(gpu) + "memory unknown";
    return false;
  }
  if (task.task->util_pct > 0 && !gpu.util_known) {
    if (why) *why = GpuPrefix(gpu) + "utilisation unknown";
    return false;
  }
  return true;
}

std::string PidList(const GpuView& gpu) {
  std::string out = gpu.foreign_processes.size() == 1 ? "pid " : "pids ";
  for (size_t i = 0; i < gpu.foreign_processes.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(gpu.foreign_processes[i].pid);
  }
  return out;
}

}  // namespace

int64_t GpuMemRoom(const GpuState& gpu, const TaskContext& task, const PolicyOptions& options) {
  const TaskRequest& t = *task.task;
  if (!GpuHealthy(gpu, task, nullptr)) return kNoRoom;
  // The rules in GpuPasses's order; only the two memory rules depend on the need.
  int64_t room = gpu.total_mib - gpu.max_used_mib - gpu.promised_mib;  // free memory
  if (gpu.holders > 0) {
    if (!task.sharing || !gpu.all_holders_share) return kNoRoom;
    room = std::min(room, gpu.total_mib - gpu.foreign_used_mib - gpu.declared_mib);
  }
  if (t.exclusive &&
      (gpu.has_foreign_process || gpu.max_used_mib > options.exclusive_max_mem_used_mib)) {
    return kNoRoom;
  }
  if (t.util_pct > 0 && 100 - gpu.max_util_pct < t.util_pct) return kNoRoom;
  const Reservation* r = task.reservation;
  if (r != nullptr && !task.may_use_reserved && r->node == gpu.node &&
      std::find(r->gpu_indices.begin(), r->gpu_indices.end(), gpu.index) != r->gpu_indices.end()) {
    return kNoRoom;
  }
  return room;
}

bool GpuPasses(const GpuState& gpu, const TaskContext& task, const PolicyOptions& options,
               std::string* why) {
  const TaskRequest& t = *task.task;
  // Every decision asks without `why`: one implementation of the rules decides.
  if (why == nullptr) return GpuMemRoom(gpu, task, options) >= t.mem_mib;
  // The same rules again, each with the reason people read.
  if (!GpuHealthy(gpu, task, why)) return false;
  if (gpu.holders > 0) {
    if (!task.sharing || !gpu.all_holders_share) {
      if (why) *why = HeldReason(gpu, task);
      return false;
    }
    if (gpu.foreign_used_mib + gpu.declared_mib + t.mem_mib > gpu.total_mib) {
      if (why) {
        *why = GpuPrefix(gpu) + MemText(t.mem_mib) + " does not fit beside shared runs (" +
               MemText(gpu.declared_mib) + " declared, " + MemText(gpu.foreign_used_mib) +
               " other use, " + MemText(gpu.total_mib) + " total)";
      }
      return false;
    }
  }
  if (t.exclusive) {
    if (gpu.has_foreign_process) {
      if (why)
        *why = GpuPrefix(gpu) + MemText(gpu.max_used_mib) + " in use by " + PidList(*gpu.view);
      return false;
    }
    if (gpu.max_used_mib > options.exclusive_max_mem_used_mib) {
      if (why) *why = GpuPrefix(gpu) + MemText(gpu.max_used_mib) + " in use, no process listed";
      return false;
    }
  }
  int64_t free_mib = gpu.total_mib - gpu.max_used_mib - gpu.promised_mib;
  if (free_mib < t.mem_mib) {
    if (why) {
      *why = GpuPrefix(gpu) + MemText(std::max<int64_t>(free_mib, 0)) + " free";
      if (gpu.promised_mib > 0) {
        *why += " (" + MemText(gpu.promised_mib) + " promised to starting runs)";
      }
      *why += ", needs " + MemText(t.mem_mib);
    }
    return false;
  }
  int free_util = 100 - gpu.max_util_pct;
  if (t.util_pct > 0 && free_util < t.util_pct) {
    if (why) {
      *why = GpuPrefix(gpu) + std::to_string(std::max(free_util, 0)) +
             "% utilisation free, needs " + std::to_string(t.util_pct) + "%";
    }
    return false;
  }
  const Reservation* r = task.reservation;
  if (r != nullptr && !task.may_use_reserved && r->node == gpu.node &&
      std::find(r->gpu_indices.begin(), r->gpu_indices.end(), gpu.index) != r->gpu_indices.end()) {
    if (why) {
      *why = GpuPrefix(gpu) + "reserved for task " + std::to_string(r->task.value);
      if (r->start_at) *why += " from " + FormatRfc3339(*r->start_at);
    }
    return false;
  }
  return true;
}

bool GpuPassesWithoutHolders(const GpuState& gpu, const TaskContext& task,
                             const PolicyOptions& options) {
  if (!GpuHealthy(gpu, task, nullptr)) return false;
  if (task.task->exclusive &&
      (gpu.has_foreign_process || gpu.foreign_used_mib > options.exclusive_max_mem_used_mib)) {
    return false;
  }
  return gpu.total_mib - gpu.foreign_used_mib >= task.task->mem_mib;
}

std::string NoEligibleGpuReason(const NodeView& node, const TaskRequest& task) {
  std::string why = "node " + node.name + ": no GPU";
  if (task.gpu_model.empty() && task.gpu_ids.empty()) return why + "s";
  if (!task.gpu_model.empty()) why += " of model '" + task.gpu_model + "'";
  if (!task.gpu_ids.empty()) why += " among gpu_ids " + JoinInts(task.gpu_ids);
  return why;
}

std::string JoinInts(const std::vector<int>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(values[i]);
  }
  return out;
}

}  // namespace policy_internal
}  // namespace gpuq
