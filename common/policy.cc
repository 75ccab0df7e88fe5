#include "common/policy.h"

#include <algorithm>
#include <array>
#include <climits>
#include <compare>
#include <tuple>
#include <unordered_map>
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
  bool may_use_reserved = false;
  policy_internal::ConstraintsKey constraints;
  friend bool operator==(const ClassKey&, const ClassKey&) = default;
};
struct ClassKeyHash {
  size_t operator()(const ClassKey& k) const {
    return k.constraints.Hash() * 8 + (k.exclusive ? 4 : 0) + (k.sharing ? 2 : 0) +
           (k.may_use_reserved ? 1 : 0);
  }
};

ClassKey MakeClassKey(const TaskContext& task) {
  const TaskRequest& t = *task.task;
  return ClassKey{t.exclusive, task.sharing, task.may_use_reserved,
                  policy_internal::ConstraintsKey::Of(t)};
}

// A task that found no place in this pass. Capacity only shrinks within a pass, so every
// later task of its class that is at least as big fails too, without a search.
struct Failure {
  int gpus = 0;
  int64_t mem_mib = 0;
  int util_pct = 0;

  bool AtMost(const TaskRequest& t) const {
    return gpus <= t.gpus && mem_mib <= t.mem_mib && util_pct <= t.util_pct;
  }
};

// What a waiting reason is about: the node closest to fitting the task.
struct Closest {
  const NodeState* node = nullptr;
  int level = -1;  // see Pass::FindClosest
  int passing = -1;
  size_t considered = 0;  // nodes matching the node constraint
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
  // GpuMemRoom of the eligible GPUs of every node for tasks of one signature (class,
  // util_pct, whether the reservation is judged: all that the GPU rules read of a task but
  // its memory need), taken at the node's version; a node's GPUs change only when it gets a
  // placement (node_version_). Tasks of one signature that differ in memory need (the
  // usual case) share them: a GPU passes when its room is at least the need.
  struct Rooms {
    std::vector<uint64_t> version;  // per node, 0 = not taken
    std::vector<int64_t> room;      // per node: stride_ entries, descending, kNoRoom after
  };
  // `signature` names the task's class (the address of its failures_ entry).
  Rooms& RoomsFor(const TaskContext& task, const void* signature);
  // The rooms of nodes_[n] (stride_ entries, descending) for the task's signature. `e` is
  // EligibilityOf(*task.task).
  const int64_t* RoomsOf(size_t n, const TaskContext& task, const Eligibility* e, Rooms& rooms);
  // GPUs of nodes_[n] that pass for the task (eligible, GPU rules).
  int Passing(size_t n, const TaskContext& task, const Eligibility* e, Rooms& rooms) {
    return PassingFor(RoomsOf(n, task, e, rooms), task.task->mem_mib);
  }
  int PassingFor(const int64_t* room, int64_t need) const {
    int passing = 0;
    while (passing < static_cast<int>(stride_) && room[passing] >= need) ++passing;
    return passing;
  }
  std::optional<std::string> CapReason(const TaskRequest& task) const;
  // The best fit.
  std::optional<Fit> FindFit(const TaskContext& task, const void* signature);
  std::vector<size_t> ChooseGpus(const NodeState& node, const TaskContext& task);
  // The node closest to fitting: highest (level, passing GPUs), first in node order on
  // ties. Levels: 0 fails a node filter, 1 no eligible GPU, 2 too few eligible GPUs, 3
  // enough eligible GPUs. Only once every placement is made (see Brief). One scan answers
  // for tasks of the signature and size of `task` that need each of `needs` (MiB,
  // ascending) of memory.
  std::vector<Closest> FindClosest(const TaskContext& task, const void* signature,
                                   const std::vector<int64_t>& needs);
  // The task is blocked by the reservation only: it would fit without it. `signature` as
  // for FindFit.
  bool HeldBack(const TaskContext& task, const void* signature);
  std::string Explain(const TaskContext& task, const Closest& closest);
  std::string ExplainNode(const NodeState& node, const TaskContext& task, int level,
                          int passing);
  std::string HeldBackReason(const Reservation& r) const;
  void Apply(const TaskContext& task, const Fit& fit, Decision& decision);

  const ClusterSnapshot& snapshot_;
  const PolicyOptions& options_;
  std::vector<NodeState> nodes_;
  policy_internal::NeverFitsIndex never_fits_;
  int running_total_;
  std::map<std::string, int> running_per_user_;
  std::optional<Reservation> reservation_;
  // Per class, none bigger than another. Most tasks have no node, model or gpu_ids
  // constraint: their eight classes are found without a map lookup.
  std::vector<Failure>& FailuresOf(const TaskContext& task);
  std::array<std::vector<Failure>, 8> unconstrained_failures_;
  std::unordered_map<ClassKey, std::vector<Failure>, ClassKeyHash> failures_;
  // Node left empty in the key.
  std::unordered_map<policy_internal::ConstraintsKey, Eligibility,
                     policy_internal::ConstraintsKeyHash>
      eligibility_;
  std::map<std::tuple<const void*, int, bool>, Rooms> rooms_;
  size_t stride_ = 0;  // the most GPUs of a node
  policy_internal::ModelMatcher model_matcher_;
  std::vector<uint64_t> node_version_ = std::vector<uint64_t>(nodes_.size(), 1);
  // What FindClosest reads of each node, side by side, taken when explaining starts: node
  // states no longer change then. `*_after` bound the passing GPUs of nodes_[n..].
  struct Brief {
    bool passes = false;  // NodePasses
    int gpus = 0;
    int unheld_healthy = 0;
    int open_to_sharers = 0;
    int unheld_after = 0;
    int open_after = 0;
  };
  std::vector<Brief> briefs_;
  size_t reserved_node_ = 0;  // position in nodes_ of reservation_->node
  // HeldBack by (class, gpus, mem_mib, util_pct): the reserved node's version and the answer.
  std::map<std::tuple<const void*, int, int64_t, int>, std::pair<uint64_t, bool>> held_back_;
};

std::vector<Failure>& Pass::FailuresOf(const TaskContext& task) {
  const TaskRequest& t = *task.task;
  if (t.node.empty() && t.gpu_model.empty() && t.gpu_ids.empty()) {
    return unconstrained_failures_[(t.exclusive ? 4 : 0) + (task.sharing ? 2 : 0) +
                                   (task.may_use_reserved ? 1 : 0)];
  }
  return failures_[MakeClassKey(task)];
}

const Pass::Eligibility* Pass::EligibilityOf(const TaskRequest& t) {
  if (t.gpu_model.empty() && t.gpu_ids.empty()) return nullptr;
  auto [it, added] = eligibility_.try_emplace({{}, t.gpu_model, t.gpu_ids});
  Eligibility& e = it->second;
  if (added) {
    for (const NodeState& node : nodes_) {
      std::vector<char>& flags = e.gpu.emplace_back(node.gpus.size(), 0);
      int count = 0;
      for (size_t i = 0; i < node.gpus.size(); ++i) {
        const GpuState& gpu = node.gpus[i];
        flags[i] = model_matcher_.Matches(gpu.view->model, t.gpu_model) &&
                   (t.gpu_ids.empty() ||
                    std::find(t.gpu_ids.begin(), t.gpu_ids.end(), gpu.index) != t.gpu_ids.end());
        count += flags[i];
      }
      e.count.push_back(count);
    }
  }
  return &e;
}

Pass::Rooms& Pass::RoomsFor(const TaskContext& task, const void* signature) {
  Rooms& rooms = rooms_[{signature, task.task->util_pct, task.reservation != nullptr}];
  if (rooms.version.empty()) {
    if (stride_ == 0) {
      for (const NodeState& node : nodes_) stride_ = std::max(stride_, node.gpus.size());
    }
    rooms.version.assign(nodes_.size(), 0);
    rooms.room.assign(nodes_.size() * stride_, policy_internal::kNoRoom);
  }
  return rooms;
}

const int64_t* Pass::RoomsOf(size_t n, const TaskContext& task, const Eligibility* e,
                            Rooms& rooms) {
  int64_t* room = &rooms.room[n * stride_];
  if (rooms.version[n] != node_version_[n]) {
    const NodeState& node = nodes_[n];
    for (size_t i = 0; i < node.gpus.size(); ++i) {
      room[i] = (e && !e->gpu[n][i]) || SurelyFails(node.gpus[i], task)
                    ? policy_internal::kNoRoom
                    : policy_internal::GpuMemRoom(node.gpus[i], task, options_);
    }
    std::sort(room, room + node.gpus.size(), std::greater<>());
    rooms.version[n] = node_version_[n];
  }
  return room;
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

std::optional<Pass::Fit> Pass::FindFit(const TaskContext& task, const void* signature) {
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
  Rooms& counts = RoomsFor(task, signature);
  for (size_t n = 0; n < nodes_.size(); ++n) {
    NodeState& node = nodes_[n];
    if (node.gpus.size() < static_cast<size_t>(t.gpus)) continue;
    if ((task.sharing ? node.open_to_sharers : node.unheld_healthy) < t.gpus) continue;
    if (e && e->count[n] < t.gpus) continue;
    if (!policy_internal::NodeMatches(*node.view, t)) continue;
    if (!policy_internal::NodePasses(node, options_, nullptr)) continue;
    int passing = Passing(n, task, e, counts);
    if (passing >= t.gpus && passing - t.gpus < best_left) {
      best = &node;
      best_left = passing - t.gpus;
      if (best_left == 0) break;  // nothing fits tighter; later nodes only lose ties
    }
  }
  if (best == nullptr) return std::nullopt;
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

std::string Pass::ExplainNode(const NodeState& node, const TaskContext& task, int level,
                              int passing) {
  const TaskRequest& t = *task.task;
  const NodeView& v = *node.view;
  std::string why;
  if (level == 0) {
    policy_internal::NodePasses(node, options_, &why);
    return why;
  }
  if (level == 1) return policy_internal::NoEligibleGpuReason(v, t);
  const size_t n = static_cast<size_t>(&node - nodes_.data());
  const Eligibility* e = EligibilityOf(t);
  const int eligible = e ? e->count[n] : static_cast<int>(node.gpus.size());
  if (level == 2) {
    why = "node " + v.name + ": only " + Plural(static_cast<size_t>(eligible), " GPU", " GPUs");
    if (!t.gpu_model.empty()) why += " of model '" + t.gpu_model + "'";
    if (!t.gpu_ids.empty()) why += " among gpu_ids " + policy_internal::JoinInts(t.gpu_ids);
    return why;
  }
  why.reserve(256);  // the usual reason, without growing
  why.append("node ").append(v.name).append(": ").append(std::to_string(passing));
  why.append(" of ").append(std::to_string(t.gpus)).append(" GPUs free (");
  // The first failing GPUs with their reasons, then only how many more fail.
  size_t listed = 0;
  std::string gpu_why;
  for (size_t i = 0; i < node.gpus.size() && listed < kMaxListedGpuReasons; ++i) {
    if (e && !e->gpu[n][i]) continue;
    if (policy_internal::GpuPasses(node.gpus[i], task, options_, &gpu_why)) continue;
    if (listed > 0) why += "; ";
    why += gpu_why;
    ++listed;
  }
  const size_t failing = static_cast<size_t>(eligible - passing);
  if (failing > listed) why.append("; ").append(std::to_string(failing - listed)).append(" more");
  why += ')';
  return why;
}

std::vector<Closest> Pass::FindClosest(const TaskContext& task, const void* signature,
                                       const std::vector<int64_t>& needs) {
  const TaskRequest& t = *task.task;
  if (briefs_.empty()) {
    briefs_.resize(nodes_.size() + 1);
    for (size_t n = nodes_.size(); n-- > 0;) {
      const NodeState& node = nodes_[n];
      Brief& b = briefs_[n];
      b.passes = policy_internal::NodePasses(node, options_, nullptr);
      b.gpus = static_cast<int>(node.gpus.size());
      b.unheld_healthy = node.unheld_healthy;
      b.open_to_sharers = node.open_to_sharers;
      b.unheld_after = std::max(briefs_[n + 1].unheld_after, node.unheld_healthy);
      b.open_after = std::max(briefs_[n + 1].open_after, node.open_to_sharers);
    }
  }
  std::vector<Closest> closest(needs.size());
  const Eligibility* e = EligibilityOf(t);
  Rooms& rooms = RoomsFor(task, signature);
  size_t considered = t.node.empty() ? nodes_.size() : 0;
  int least_passing = -1;  // over `closest`; -1 while one is not at level 3
  for (size_t n = 0; n < nodes_.size(); ++n) {
    const Brief& b = briefs_[n];
    if (t.node.empty()) {
      // No node from here on can pass more GPUs than the closest ones so far.
      if (least_passing >= (task.sharing ? b.open_after : b.unheld_after)) break;
    } else if (!policy_internal::NodeMatches(*nodes_[n].view, t)) {
      continue;
    } else {
      ++considered;
    }
    int level = 0;
    int most = 0;
    if (b.passes && t.gpus > 0) {
      const int eligible = e ? e->count[n] : b.gpus;
      level = eligible == 0 ? 1 : eligible < t.gpus ? 2 : 3;
      // A GPU that passes for a task that does not share is healthy and held by no run (for
      // a sharing task: by sharing runs at most), so that count bounds `passing` (and
      // settles it when it is 0).
      most = std::min(eligible, task.sharing ? b.open_to_sharers : b.unheld_healthy);
    }
    const int64_t* room = nullptr;
    least_passing = INT_MAX;
    for (size_t k = 0; k < needs.size(); ++k) {
      Closest& c = closest[k];
      if (std::pair{level, most} > std::pair{c.level, c.passing}) {
        int passing = 0;
        if (most > 0) {
          if (room == nullptr) room = RoomsOf(n, task, e, rooms);
          passing = PassingFor(room, needs[k]);
        }
        if (std::pair{level, passing} > std::pair{c.level, c.passing}) {
          c = {&nodes_[n], level, passing, 0};
        }
      }
      least_passing = std::min(least_passing, c.level == 3 ? c.passing : -1);
    }
  }
  for (Closest& c : closest) c.considered = considered;
  return closest;
}

bool Pass::HeldBack(const TaskContext& task, const void* signature) {
  if (task.reservation == nullptr || task.may_use_reserved) return false;
  // The reservation only takes GPUs of its own node: elsewhere the task fails without it too.
  const NodeState& node = nodes_[reserved_node_];
  const TaskRequest& t = *task.task;
  if ((task.sharing ? node.open_to_sharers : node.unheld_healthy) < t.gpus) return false;
  auto [cached, added] =
      held_back_.try_emplace({signature, t.gpus, t.mem_mib, t.util_pct}, 0, false);
  if (!added && cached->second.first == node_version_[reserved_node_]) {
    return cached->second.second;
  }
  bool fits = false;
  if (policy_internal::NodeMatches(*node.view, t) &&
      policy_internal::NodePasses(node, options_, nullptr)) {
    TaskContext ignoring = task;
    ignoring.reservation = nullptr;
    const Eligibility* e = EligibilityOf(t);
    int passing = 0;
    for (size_t i = 0; i < node.gpus.size(); ++i) {
      passing += (!e || e->gpu[reserved_node_][i]) && !SurelyFails(node.gpus[i], ignoring) &&
                 policy_internal::GpuPasses(node.gpus[i], ignoring, options_, nullptr);
    }
    fits = passing >= t.gpus;
  }
  cached->second = {node_version_[reserved_node_], fits};
  return fits;
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

std::string Pass::Explain(const TaskContext& task, const Closest& closest) {
  if (closest.node == nullptr) return "no node to run on";
  std::string why = ExplainNode(*closest.node, task, closest.level, closest.passing);
  if (closest.considered > 1) {
    why.append("; ").append(
        Plural(closest.considered - 1, " more node does not fit", " more nodes do not fit"));
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
  decision.placements.push_back(std::move(p));
}

Decision Pass::Run(std::span<const TaskRequest> queue) {
  Decision decision;
  // Every waiting task points at one of `texts` (identical tasks share their reason), by
  // position in the queue.
  constexpr size_t kPlaced = SIZE_MAX;
  std::vector<std::string> texts;
  std::vector<size_t> text_of(queue.size(), kPlaced);
  auto wait_with = [&](size_t pos, std::string why) {
    texts.push_back(std::move(why));
    text_of[pos] = texts.size() - 1;
  };
  // Tasks that found no place: explained once every placement is made (see below).
  struct Unplaced {
    TaskContext task;
    const std::vector<Failure>* failures;  // its class
    bool held_back;                        // it would have fit but for the reservation
    size_t pos;                            // in the queue
    std::string note;  // the reservation it holds, if any
  };
  std::vector<Unplaced> unplaced;
  for (size_t i : OrderQueue(snapshot_, queue)) {
    const TaskRequest& t = queue[i];
    if (std::optional<std::string> never = never_fits_.Reason(t)) {
      wait_with(i, "can never run: " + *never);
      continue;
    }
    if (std::optional<std::string> cap = CapReason(t)) {
      wait_with(i, std::move(*cap));
      continue;
    }
    const Reservation* reservation = reservation_ ? &*reservation_ : nullptr;
    TaskContext task = policy_internal::MakeTaskContext(t, reservation, snapshot_.now);
    std::vector<Failure>& failures = FailuresOf(task);
    bool smaller_failed = std::any_of(failures.begin(), failures.end(),
                                      [&](const Failure& f) { return f.AtMost(t); });
    if (!smaller_failed) {
      if (std::optional<Fit> fit = FindFit(task, &failures)) {
        Apply(task, *fit, decision);
        continue;
      }
      Failure failure{t.gpus, t.mem_mib, t.util_pct};
      std::erase_if(failures, [&](const Failure& f) {
        return failure.gpus <= f.gpus && failure.mem_mib <= f.mem_mib &&
               failure.util_pct <= f.util_pct;
      });
      failures.push_back(failure);
    }
    Unplaced& u = unplaced.emplace_back(
        Unplaced{task, &failures, HeldBack(task, &failures), i, {}});
    if (!reservation_ && t.gpus > 0) {
      reservation_ = policy_internal::PlanReservation(nodes_, task, options_, snapshot_.now);
      if (reservation_) {
        reserved_node_ = static_cast<size_t>(
            std::find_if(nodes_.begin(), nodes_.end(),
                         [&](const NodeState& n) { return n.view->id == reservation_->node; }) -
            nodes_.begin());
        u.note = "; reserved " + DescribeReservation(*reservation_);
        if (reservation_->start_at) {
          u.note += ", expected to start by " + FormatRfc3339(*reservation_->start_at);
        } else {
          u.note += ", start unknown (a run on them has no time limit)";
        }
      }
    }
  }
  // Reasons describe the pass's final state, every placement included: what a waiting task
  // meets now, and what the next pass will see. Capacity only shrinks within a pass, so a
  // task that did not fit when its turn came does not fit at the end either. A reason
  // depends only on the task's class, its size and whether the reservation applies to it
  // or held it back, so each one is built once.
  // The closest nodes are found in one scan for every task of a class, size, utilisation
  // need and reservation state, whatever memory each needs (`needs`, then `closest`).
  using Group = std::tuple<const void*, int, int, bool>;
  auto group_of = [](const Unplaced& u) {
    const TaskRequest& t = *u.task.task;
    return Group{u.failures, t.gpus, t.util_pct, u.task.reservation != nullptr};
  };
  struct GroupHash {
    size_t operator()(const Group& g) const {
      auto [failures, gpus, util, reserved] = g;
      return std::hash<const void*>()(failures) ^ (static_cast<size_t>(gpus) << 20) ^
             (static_cast<size_t>(util) << 8) ^ (reserved ? 1 : 0);
    }
  };
  std::unordered_map<Group, std::vector<int64_t>, GroupHash> needs;
  for (const Unplaced& u : unplaced) {
    if (!u.held_back) needs[group_of(u)].push_back(u.task.task->mem_mib);
  }
  for (auto& [group, of] : needs) {
    std::sort(of.begin(), of.end());
    of.erase(std::unique(of.begin(), of.end()), of.end());
  }
  std::unordered_map<Group, std::vector<Closest>, GroupHash> closest;
  using Shape = std::tuple<Group, int64_t, bool>;  // and memory need, held back
  struct ShapeHash {
    size_t operator()(const Shape& s) const {
      return GroupHash()(std::get<0>(s)) * 31 + std::hash<int64_t>()(std::get<1>(s)) * 2 +
             (std::get<2>(s) ? 1 : 0);
    }
  };
  std::unordered_map<Shape, size_t, ShapeHash> explained;
  for (Unplaced& u : unplaced) {
    const TaskRequest& t = *u.task.task;
    Group group = group_of(u);
    auto [it, added] = explained.try_emplace({group, t.mem_mib, u.held_back}, 0);
    if (added) {
      if (u.held_back) {
        texts.push_back(HeldBackReason(*u.task.reservation));
      } else {
        const std::vector<int64_t>& of = needs[group];
        auto [found, first] = closest.try_emplace(group);
        if (first) found->second = FindClosest(u.task, u.failures, of);
        auto k = std::lower_bound(of.begin(), of.end(), t.mem_mib) - of.begin();
        texts.push_back(Explain(u.task, found->second[static_cast<size_t>(k)]));
      }
      it->second = texts.size() - 1;
    }
    if (u.note.empty()) {
      text_of[u.pos] = it->second;
    } else {
      texts.push_back(texts[it->second] + u.note);
      text_of[u.pos] = texts.size() - 1;
    }
  }
  std::vector<std::pair<TaskId, size_t>> waiting;
  waiting.reserve(queue.size() - decision.placements.size());
  for (size_t pos = 0; pos < queue.size(); ++pos) {
    if (text_of[pos] != kPlaced) waiting.emplace_back(queue[pos].id, text_of[pos]);
  }
  decision.waiting_reasons = WaitingReasons(std::move(texts), std::move(waiting));
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
