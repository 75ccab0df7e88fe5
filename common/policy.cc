// The scheduling policy's decisions (policy.h): one pass places tasks in queue order; the
// tasks it could not place are explained afterwards (policy_explain.cc).

#include "common/policy.h"

#include <algorithm>
#include <climits>
#include <utility>

#include "common/policy_order.h"
#include "common/policy_pass.h"
#include "common/policy_reservation.h"

namespace gpuq {
namespace policy_internal {

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
    rooms.room.assign(nodes_.size() * stride_, kNoRoom);
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
                    ? kNoRoom
                    : GpuMemRoom(node.gpus[i], task, options_);
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
      if (!NodeMatches(*node.view, t)) continue;
      if (!NodePasses(node, options_, nullptr)) continue;
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
    if (!NodeMatches(*node.view, t)) continue;
    if (!NodePasses(node, options_, nullptr)) continue;
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
    if (!GpuEligible(gpu, t) || !GpuPasses(gpu, task, options_, nullptr)) {
      continue;
    }
    Candidate c{PreferRank(t, gpu.index), 0, 0, gpu.index, i};
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
  if (NodeMatches(*node.view, t) && NodePasses(node, options_, nullptr)) {
    TaskContext ignoring = task;
    ignoring.reservation = nullptr;
    const Eligibility* e = EligibilityOf(t);
    int passing = 0;
    for (size_t i = 0; i < node.gpus.size(); ++i) {
      passing += (!e || e->gpu[reserved_node_][i]) && !SurelyFails(node.gpus[i], ignoring) &&
                 GpuPasses(node.gpus[i], ignoring, options_, nullptr);
    }
    fits = passing >= t.gpus;
  }
  cached->second = {node_version_[reserved_node_], fits};
  return fits;
}

void Pass::Apply(const TaskContext& task, const Fit& fit, Decision& decision) {
  const TaskRequest& t = *task.task;
  Placement p;
  p.task = t.id;
  p.node = fit.node->view->id;
  for (size_t pos : fit.gpus) {
    GpuState& gpu = fit.node->gpus[pos];
    AddHolder(*fit.node, gpu, task, snapshot_.now);
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
    TaskContext task = MakeTaskContext(t, reservation, snapshot_.now);
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
    Unplaced& u =
        unplaced.emplace_back(Unplaced{task, &failures, HeldBack(task, &failures), i, {}});
    if (!reservation_ && t.gpus > 0) {
      reservation_ = PlanReservation(nodes_, task, options_, snapshot_.now);
      if (reservation_) {
        reserved_node_ = static_cast<size_t>(
            std::find_if(nodes_.begin(), nodes_.end(),
                         [&](const NodeState& n) { return n.view->id == reservation_->node; }) -
            nodes_.begin());
        u.note = ReservationNote(*reservation_);
      }
    }
  }
  ExplainUnplaced(unplaced, texts, text_of);
  std::vector<std::pair<TaskId, size_t>> waiting;
  waiting.reserve(queue.size() - decision.placements.size());
  for (size_t pos = 0; pos < queue.size(); ++pos) {
    if (text_of[pos] != kPlaced) waiting.emplace_back(queue[pos].id, text_of[pos]);
  }
  decision.waiting_reasons = WaitingReasons(std::move(texts), std::move(waiting));
  decision.reservation = std::move(reservation_);
  return decision;
}

}  // namespace policy_internal

Decision Schedule(const ClusterSnapshot& snapshot, std::span<const TaskRequest> queue,
                  const PolicyOptions& options) {
  policy_internal::Pass pass(snapshot, options);
  return pass.Run(queue);
}

}  // namespace gpuq
