// Waiting reasons (policy.h, WAITING REASON): written once every placement of the pass is
// made, each distinct one once.

#include <algorithm>
#include <climits>
#include <unordered_map>

#include "common/policy_pass.h"

namespace gpuq::policy_internal {
namespace {

// GPU reasons listed in a waiting reason before "N more".
constexpr size_t kMaxListedGpuReasons = 3;

std::string Plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + (n == 1 ? one : many);
}

std::string DescribeReservation(const Reservation& r) {
  return "node " + r.node_name + " gpus " + JoinInts(r.gpu_indices);
}

}  // namespace

std::string Pass::ReservationNote(const Reservation& r) {
  std::string note = "; reserved " + DescribeReservation(r);
  if (r.start_at) return note + ", expected to start by " + FormatRfc3339(*r.start_at);
  return note + ", start unknown (a run on them has no time limit)";
}

void Pass::ExplainUnplaced(const std::vector<Unplaced>& unplaced, std::vector<std::string>& texts,
                           std::vector<size_t>& text_of) {
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
  for (const Unplaced& u : unplaced) {
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
}

std::vector<Closest> Pass::FindClosest(const TaskContext& task, const void* signature,
                                       const std::vector<int64_t>& needs) {
  const TaskRequest& t = *task.task;
  if (briefs_.empty()) {
    briefs_.resize(nodes_.size() + 1);
    for (size_t n = nodes_.size(); n-- > 0;) {
      const NodeState& node = nodes_[n];
      Brief& b = briefs_[n];
      b.passes = NodePasses(node, options_, nullptr);
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
    } else if (!NodeMatches(*nodes_[n].view, t)) {
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

std::string Pass::Explain(const TaskContext& task, const Closest& closest) {
  if (closest.node == nullptr) return "no node to run on";
  std::string why = ExplainNode(*closest.node, task, closest.level, closest.passing);
  if (closest.considered > 1) {
    why.append("; ").append(
        Plural(closest.considered - 1, " more node does not fit", " more nodes do not fit"));
  }
  return why;
}

std::string Pass::ExplainNode(const NodeState& node, const TaskContext& task, int level,
                              int passing) {
  const TaskRequest& t = *task.task;
  const NodeView& v = *node.view;
  std::string why;
  if (level == 0) {
    NodePasses(node, options_, &why);
    return why;
  }
  if (level == 1) return NoEligibleGpuReason(v, t);
  const size_t n = static_cast<size_t>(&node - nodes_.data());
  const Eligibility* e = EligibilityOf(t);
  const int eligible = e ? e->count[n] : static_cast<int>(node.gpus.size());
  if (level == 2) {
    why = "node " + v.name + ": only " + Plural(static_cast<size_t>(eligible), " GPU", " GPUs");
    if (!t.gpu_model.empty()) why += " of model '" + t.gpu_model + "'";
    if (!t.gpu_ids.empty()) why += " among gpu_ids " + JoinInts(t.gpu_ids);
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
    if (GpuPasses(node.gpus[i], task, options_, &gpu_why)) continue;
    if (listed > 0) why += "; ";
    why += gpu_why;
    ++listed;
  }
  const size_t failing = static_cast<size_t>(eligible - passing);
  if (failing > listed) why.append("; ").append(std::to_string(failing - listed)).append(" more");
  why += ')';
  return why;
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

}  // namespace gpuq::policy_internal
