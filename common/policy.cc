#include "common/policy.h"

#include <algorithm>
#include <climits>
#include <compare>
#include <tuple>
#include <utility>

#include "common/policy_filters.h"
#include "common/policy_never_fits.h"
#include "common/policy_order.h"
#include "common/policy_reservation.h"

namespace gpuq {
namespace {

using policy_internal::GpuState;
using policy_internal::NodeState;
using policy_internal::TaskContext;

// GPU reasons listed in a waiting reason before "N more".
constexpr size_t kMaxListedGpuReasons = 3;

// Tasks that differ only in size (gpus, mem_mib, util_pct) and in who/when are in one class:
// within a class a bigger task fits only where a smaller one does. `sharing` rather than
// the share flag: a share task without a memory need cannot share, one with a need can.
struct ClassKey {
  bool exclusive = false;
  bool sharing = false;
  std::string node;
  std::string gpu_model;
  std::vector<int> gpu_ids;
  bool may_use_reserved = false;
  auto operator<=>(const ClassKey&) const = default;
};

ClassKey MakeClassKey(const TaskContext& task) {
  const TaskRequest& t = *task.task;
  return ClassKey{t.exclusive, task.sharing, t.node, t.gpu_model, t.gpu_ids, task.may_use_reserved};
}

// A task that found no place in this pass. Capacity only shrinks within a pass, so every
// later task of its class that is at least as big fails too, without a search.
struct Failure {
  int gpus = 0;
  int64_t mem_mib = 0;
  int util_pct = 0;
  // The node its reason is about, found at `version` (see Pass::version_) for this task or
  // a bigger one of its class; refreshed after placements.
  const NodeState* closest = nullptr;
  size_t considered = 0;  // nodes matching the node constraint
  uint64_t version = 0;
  bool held_back = false;  // this task would have fit but for the reservation

  bool AtMost(const TaskRequest& t) const {
    return gpus <= t.gpus && mem_mib <= t.mem_mib && util_pct <= t.util_pct;
  }
};

std::string Plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + (n == 1 ? one : many);
}

// True when GpuPasses(gpu, task, ..., nullptr) is surely false, judged from two fields: the
// scans over every GPU call it for the few GPUs that might pass.
inline bool SurelyFails(const GpuState& gpu, const TaskContext& task) {
  return !gpu.healthy || (gpu.holders > 0 && (!task.sharing || !gpu.all_holders_share));
}

std::string DescribeReservation(const Reservation& r) {
  return "node " + r.node_name + " gpus " + policy_internal::JoinInts(r.gpu_indices);
}

// One scheduling pass over an immutable snapshot.
class Pass {
 public:
  Pass(const ClusterSnapshot& snapshot, const PolicyOptions& options)
      : snapshot_(snapshot),
        options_(options),
        nodes_(policy_internal::MakeNodeStates(snapshot, options)),
        never_fits_(snapshot),
        running_total_(snapshot.running_total),
        running_per_user_(snapshot.running_per_user) {}

  Decision Run(std::span<const TaskRequest> queue);

 private:
  struct Fit {
    NodeState* node = nullptr;
    std::vector<size_t> gpus;  // positions in node->gpus
  };

  // Which GPUs pass a task's model and gpu_ids constraints: flags per GPU of each node
  // (nodes_ order) and their count per node. Judged once per pass for each distinct pair,
  // since matching model names is the costliest part of judging a GPU.
  struct Eligibility {
    std::vector<std::vector<char>> gpu;
    std::vector<int> count;
  };
  // nullptr when the task has neither constraint (every GPU is eligible).
  const Eligibility* EligibilityOf(const TaskRequest& task);
  // (level, passing GPUs) of a node for a task; higher is closer to fitting. Levels: 0
  // fails a node filter, 1 no eligible GPU, 2 too few eligible GPUs, 3 enough eligible
  // GPUs. A node that cannot be closer than `beat` may answer {-1, -1} without judging its
  // GPUs (FindClosest keeps the first of equals, so only "closer" matters).
  // `e` is EligibilityOf(*task.task), looked up once by the caller.
  std::pair<int, int> Closeness(const NodeState& node, const TaskContext& task,
                                const Eligibility* e, std::pair<int, int> beat = {-1, -1});
  std::optional<std::string> CapReason(const TaskRequest& task) const;
  // The best fit, or with `any` the first node found that fits (no GPUs chosen).
  // `signature` (optional) names the task's class and needs (see passing_): counts of
  // passing GPUs are then reused from earlier tasks of the same signature for the nodes
  // that got no placement since.
  std::optional<Fit> FindFit(const TaskContext& task, bool any = false,
                             const void* signature = nullptr);
  std::vector<size_t> ChooseGpus(const NodeState& node, const TaskContext& task);
  // Sets failure.closest, considered and version for `task`.
  void FindClosest(const TaskContext& task, Failure& failure);
  // The task is blocked by the reservation only: it would fit without it.
  bool FitsIgnoringReservation(const TaskContext& task);
  std::string Explain(const TaskContext& task, const Failure& failure);
  std::string ExplainNode(const NodeState& node, const TaskContext& task);
  std::string HeldBackReason(const Reservation& r) const;
  void Apply(const TaskContext& task, const Fit& fit, Decision& decision);

  const ClusterSnapshot& snapshot_;
  const PolicyOptions& options_;
  std::vector<NodeState> nodes_;
  policy_internal::NeverFitsIndex never_fits_;
  int running_total_;
  std::map<std::string, int> running_per_user_;
  std::optional<Reservation> reservation_;
  std::map<ClassKey, std::vector<Failure>> failures_;  // per class, none bigger than another
  // Reasons of failed tasks by (class, gpus, mem_mib, util_pct), valid while version_ (bumped
  // by every placement and by the reservation) is unchanged.
  struct CachedReason {
    uint64_t version = 0;
    std::string why;
  };
  std::map<std::tuple<const void*, int, int64_t, int>, CachedReason> reasons_;
  std::map<std::pair<std::string, std::vector<int>>, Eligibility> eligibility_;
  // Passing GPUs per node for tasks of one signature (class, mem_mib, util_pct, whether the
  // reservation is judged: all that GpuPasses reads of a task), with the node's version when
  // counted. A node's GPUs change only when it gets a placement (node_version_).
  struct PassingCounts {
    std::vector<uint64_t> version;  // 0 = not counted
    std::vector<int> passing;
  };
  std::map<std::tuple<const void*, int64_t, int, bool>, PassingCounts> passing_;
  std::vector<uint64_t> node_version_ = std::vector<uint64_t>(nodes_.size(), 1);
  uint64_t version_ = 0;
};

const Pass::Eligibility* Pass::EligibilityOf(const TaskRequest& t) {
  if (t.gpu_model.empty() && t.gpu_ids.empty()) return nullptr;
  auto [it, added] = eligibility_.try_emplace({t.gpu_model, t.gpu_ids});
  Eligibility& e = it->second;
  if (added) {
    for (const NodeState& node : nodes_) {
      std::vector<char>& flags = e.gpu.emplace_back(node.gpus.size(), 0);
      int count = 0;
      for (size_t i = 0; i < node.gpus.size(); ++i) {
        flags[i] = policy_internal::GpuEligible(node.gpus[i], t);
        count += flags[i];
      }
      e.count.push_back(count);
    }
  }
  return &e;
}

std::pair<int, int> Pass::Closeness(const NodeState& node, const TaskContext& task,
                                    const Eligibility* e, std::pair<int, int> beat) {
  const TaskRequest& t = *task.task;
  if (!policy_internal::NodePasses(node, options_, nullptr) || t.gpus <= 0) return {0, 0};
  const size_t n = static_cast<size_t>(&node - nodes_.data());
  const int eligible = e ? e->count[n] : static_cast<int>(node.gpus.size());
  const int level = eligible == 0 ? 1 : eligible < t.gpus ? 2 : 3;
  // A GPU that passes for a task that does not share is healthy and held by no run, so
  // unheld_healthy bounds `passing` (and settles it when it is 0).
  const int most = task.sharing ? eligible : std::min(eligible, node.unheld_healthy);
  if (most == 0) return {level, 0};
  if (std::pair<int, int>{level, most} <= beat) return {-1, -1};
  int passing = 0;
  for (size_t i = 0; i < node.gpus.size(); ++i) {
    if ((!e || e->gpu[n][i]) && !SurelyFails(node.gpus[i], task) &&
        policy_internal::GpuPasses(node.gpus[i], task, options_, nullptr)) {
      ++passing;
    }
  }
  return {level, passing};
}

std::optional<std::string> Pass::CapReason(const TaskRequest& task) const {
  if (options_.max_running_total > 0 && running_total_ >= options_.max_running_total) {
    return "at max_running_total (" + std::to_string(running_total_) + " running)";
  }
  if (options_.max_running_per_user > 0) {
    auto it = running_per_user_.find(task.user);
    int running = it == running_per_user_.end() ? 0 : it->second;
    if (running >= options_.max_running_per_user) {
      return "user " + task.user + " is at max_running_per_user (" + std::to_string(running) +
             " running)";
    }
  }
  return std::nullopt;
}

std::optional<Pass::Fit> Pass::FindFit(const TaskContext& task, bool any, const void* signature) {
  const TaskRequest& t = *task.task;
  NodeState* best = nullptr;
  if (t.gpus == 0) {
    for (NodeState& node : nodes_) {
      if (!policy_internal::NodeMatches(*node.view, t)) continue;
      if (!policy_internal::NodePasses(node, options_, nullptr)) continue;
      if (best == nullptr || node.running < best->running) best = &node;
    }
    if (best == nullptr) return std::nullopt;
    return Fit{best, {}};
  }
  int best_left = INT_MAX;
  const Eligibility* e = EligibilityOf(t);
  PassingCounts* counts = nullptr;
  if (signature != nullptr) {
    counts = &passing_[{signature, t.mem_mib, t.util_pct, task.reservation != nullptr}];
    if (counts->version.empty()) {
      counts->version.assign(nodes_.size(), 0);
      counts->passing.assign(nodes_.size(), 0);
    }
  }
  for (size_t n = 0; n < nodes_.size(); ++n) {
    NodeState& node = nodes_[n];
    if (node.gpus.size() < static_cast<size_t>(t.gpus)) continue;
    if (!task.sharing && node.unheld_healthy < t.gpus) continue;
    if (e && e->count[n] < t.gpus) continue;
    if (!policy_internal::NodeMatches(*node.view, t)) continue;
    if (!policy_internal::NodePasses(node, options_, nullptr)) continue;
    int passing = 0;
    if (counts != nullptr && counts->version[n] == node_version_[n]) {
      passing = counts->passing[n];
    } else {
      for (size_t i = 0; i < node.gpus.size(); ++i) {
        if ((!e || e->gpu[n][i]) && !SurelyFails(node.gpus[i], task) &&
            policy_internal::GpuPasses(node.gpus[i], task, options_, nullptr)) {
          ++passing;
        }
      }
      if (counts != nullptr) {
        counts->version[n] = node_version_[n];
        counts->passing[n] = passing;
      }
    }
    if (passing >= t.gpus && passing - t.gpus < best_left) {
      best = &node;
      best_left = passing - t.gpus;
      if (best_left == 0 || any) break;  // nothing fits tighter; later nodes only lose ties
    }
  }
  if (best == nullptr) return std::nullopt;
  if (any) return Fit{best, {}};
  return Fit{best, ChooseGpus(*best, task)};
}

std::vector<size_t> Pass::ChooseGpus(const NodeState& node, const TaskContext& task) {
  const TaskRequest& t = *task.task;
  struct Candidate {
    size_t prefer_rank;
    int not_shared;        // sharing tasks: 0 when the GPU already holds sharing runs
    int64_t free_gib_neg;  // non-exclusive tasks: more free memory first
    int index;
    size_t pos;
    auto operator<=>(const Candidate&) const = default;
  };
  std::vector<Candidate> candidates;
  for (size_t i = 0; i < node.gpus.size(); ++i) {
    const GpuState& gpu = node.gpus[i];
    if (!policy_internal::GpuEligible(gpu, t) ||
        !policy_internal::GpuPasses(gpu, task, options_, nullptr)) {
      continue;
    }
    Candidate c{policy_internal::PreferRank(t, gpu.index), 0, 0, gpu.index, i};
    if (task.sharing) c.not_shared = gpu.holders > 0 ? 0 : 1;
    if (!t.exclusive)
      c.free_gib_neg = -((gpu.total_mib - gpu.max_used_mib - gpu.promised_mib) / 1024);
    candidates.push_back(c);
  }
  std::sort(candidates.begin(), candidates.end());
  std::vector<size_t> chosen;
  for (int i = 0; i < t.gpus; ++i) chosen.push_back(candidates[static_cast<size_t>(i)].pos);
  return chosen;
}

std::string Pass::ExplainNode(const NodeState& node, const TaskContext& task) {
  const TaskRequest& t = *task.task;
  const NodeView& v = *node.view;
  auto [level, passing] = Closeness(node, task, EligibilityOf(t));
  std::string why;
  if (level == 0) {
    policy_internal::NodePasses(node, options_, &why);
    return why;
  }
  if (level == 1) return policy_internal::NoEligibleGpuReason(v, t);
  if (level == 2) {
    int eligible = 0;
    for (const GpuState& gpu : node.gpus) eligible += policy_internal::GpuEligible(gpu, t);
    why = "node " + v.name + ": only " + Plural(static_cast<size_t>(eligible), " GPU", " GPUs");
    if (!t.gpu_model.empty()) why += " of model '" + t.gpu_model + "'";
    if (!t.gpu_ids.empty()) why += " among gpu_ids " + policy_internal::JoinInts(t.gpu_ids);
    return why;
  }
  why = "node " + v.name + ": " + std::to_string(passing) + " of " + std::to_string(t.gpus) +
        " GPUs free (";
  size_t listed = 0;
  size_t failing = 0;
  for (const GpuState& gpu : node.gpus) {
    if (!policy_internal::GpuEligible(gpu, t)) continue;
    // Past the listed ones only the count matters: do not build their text.
    std::string gpu_why;
    bool list = listed < kMaxListedGpuReasons;
    if (policy_internal::GpuPasses(gpu, task, options_, list ? &gpu_why : nullptr)) continue;
    ++failing;
    if (list) {
      if (listed > 0) why += "; ";
      why += gpu_why;
      ++listed;
    }
  }
  if (failing > listed) why += "; " + std::to_string(failing - listed) + " more";
  return why + ")";
}

void Pass::FindClosest(const TaskContext& task, Failure& failure) {
  // The closest node: highest (level, passing), first in node order on ties.
  std::pair<int, int> best{-1, -1};
  failure.closest = nullptr;
  failure.considered = 0;
  failure.version = version_;
  const Eligibility* e = EligibilityOf(*task.task);
  for (const NodeState& node : nodes_) {
    if (!policy_internal::NodeMatches(*node.view, *task.task)) continue;
    ++failure.considered;
    std::pair<int, int> c = Closeness(node, task, e, best);
    if (c > best) {
      best = c;
      failure.closest = &node;
    }
  }
}

bool Pass::FitsIgnoringReservation(const TaskContext& task) {
  if (task.reservation == nullptr || task.may_use_reserved) return false;
  TaskContext ignoring = task;
  ignoring.reservation = nullptr;
  return FindFit(ignoring, /*any=*/true).has_value();
}

std::string Pass::HeldBackReason(const Reservation& r) const {
  std::string why = "held back by the reservation for task " + std::to_string(r.task.value) + " (" +
                    DescribeReservation(r) + ")";
  if (r.start_at) {
    return why + " from " + FormatRfc3339(*r.start_at) +
           ": only tasks that end by then may use those GPUs";
  }
  return why + ", whose start is unknown because a run on them has no time limit";
}

std::string Pass::Explain(const TaskContext& task, const Failure& failure) {
  if (failure.held_back) return HeldBackReason(*task.reservation);
  if (failure.closest == nullptr) return "no node to run on";
  std::string why = ExplainNode(*failure.closest, task);
  if (failure.considered > 1) {
    why +=
        "; " + Plural(failure.considered - 1, " more node does not fit", " more nodes do not fit");
  }
  return why;
}

void Pass::Apply(const TaskContext& task, const Fit& fit, Decision& decision) {
  const TaskRequest& t = *task.task;
  Placement p;
  p.task = t.id;
  p.node = fit.node->view->id;
  for (size_t pos : fit.gpus) {
    GpuState& gpu = fit.node->gpus[pos];
    policy_internal::AddHolder(*fit.node, gpu, task, snapshot_.now);
    p.gpu_indices.push_back(gpu.index);
  }
  std::sort(p.gpu_indices.begin(), p.gpu_indices.end());
  ++fit.node->running;
  ++node_version_[static_cast<size_t>(fit.node - nodes_.data())];
  ++running_total_;
  ++running_per_user_[t.user];
  ++version_;
  decision.placements.push_back(std::move(p));
}

Decision Pass::Run(std::span<const TaskRequest> queue) {
  Decision decision;
  // Reasons are gathered in queue order and put into the map in id order at the end: each
  // insertion then lands at the end of the tree without a search.
  std::vector<std::pair<TaskId, std::string>> waiting;
  waiting.reserve(queue.size());
  for (size_t i : OrderQueue(snapshot_, queue)) {
    const TaskRequest& t = queue[i];
    if (std::optional<std::string> never = never_fits_.Reason(t)) {
      waiting.emplace_back(t.id, "can never run: " + *never);
      continue;
    }
    if (std::optional<std::string> cap = CapReason(t)) {
      waiting.emplace_back(t.id, std::move(*cap));
      continue;
    }
    const Reservation* reservation = reservation_ ? &*reservation_ : nullptr;
    TaskContext task = policy_internal::MakeTaskContext(t, reservation, snapshot_.now);
    std::vector<Failure>& failures = failures_[MakeClassKey(task)];
    auto smaller = std::find_if(failures.begin(), failures.end(),
                                [&](const Failure& f) { return f.AtMost(t); });
    if (smaller != failures.end()) {
      // Same class, size and pass state as an earlier task: same reason.
      CachedReason& cached = reasons_[{&failures, t.gpus, t.mem_mib, t.util_pct}];
      if (cached.version != version_ || cached.why.empty()) {
        // Look for the closest node again after placements, or when the one found for the
        // smaller task cannot hold this one.
        if (smaller->version != version_ ||
            (smaller->closest != nullptr &&
             Closeness(*smaller->closest, task, EligibilityOf(t)).first < 3)) {
          FindClosest(task, *smaller);
        }
        Failure f = *smaller;
        // A task that fit but for the reservation may be too big to fit without it.
        if (f.held_back) f.held_back = FitsIgnoringReservation(task);
        cached = {version_, Explain(task, f)};
      }
      waiting.emplace_back(t.id, cached.why);
      continue;
    }
    if (std::optional<Fit> fit = FindFit(task, /*any=*/false, &failures)) {
      Apply(task, *fit, decision);
      continue;
    }
    Failure failure{t.gpus, t.mem_mib, t.util_pct};
    FindClosest(task, failure);
    failure.held_back = FitsIgnoringReservation(task);
    std::string why = Explain(task, failure);
    std::erase_if(failures, [&](const Failure& f) {
      return failure.gpus <= f.gpus && failure.mem_mib <= f.mem_mib &&
             failure.util_pct <= f.util_pct;
    });
    failures.push_back(failure);
    if (!reservation_ && t.gpus > 0) {
      reservation_ = policy_internal::PlanReservation(nodes_, task, options_, snapshot_.now);
      if (reservation_) {
        ++version_;
        why += "; reserved " + DescribeReservation(*reservation_);
        if (reservation_->start_at) {
          why += ", expected to start by " + FormatRfc3339(*reservation_->start_at);
        } else {
          why += ", start unknown (a run on them has no time limit)";
        }
      }
    }
    waiting.emplace_back(t.id, std::move(why));
  }
  std::sort(waiting.begin(), waiting.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [id, why] : waiting) {
    decision.waiting_reasons.emplace_hint(decision.waiting_reasons.end(), id, std::move(why));
  }
  decision.reservation = std::move(reservation_);
  return decision;
}

}  // namespace

Decision Schedule(const ClusterSnapshot& snapshot, std::span<const TaskRequest> queue,
                  const PolicyOptions& options) {
  Pass pass(snapshot, options);
  return pass.Run(queue);
}

}  // namespace gpuq
