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
  // depends only on the task's class, size and share flag and on whether the reservation
  // applies to it or held it back, so each one is built once.
  // Tasks of a class, size, utilisation need, share flag (reasons mention it) and
  // reservation state form a group: one scan finds the closest nodes for all the memory
  // needs in it (`needs`, `closest`), and each need's reason is built once (`texts_at`); the
  // one for tasks held back by the reservation too.
  using GroupKey = std::tuple<const void*, int, int, bool, bool>;
  struct GroupHash {
    size_t operator()(const GroupKey& g) const {
      auto [failures, gpus, util, share, reserved] = g;
      return std::hash<const void*>()(failures) ^ (static_cast<size_t>(gpus) << 20) ^
             (static_cast<size_t>(util) << 8) ^ (share ? 2 : 0) ^ (reserved ? 1 : 0);
    }
  };
  struct Group {
    std::vector<int64_t> needs;    // ascending, distinct once sorted
    std::vector<Closest> closest;  // per need, found for the first task explained
    std::vector<size_t> texts_at;  // per need, a position in `texts`
    size_t held_back_at = SIZE_MAX;
  };
  constexpr size_t kNone = SIZE_MAX;
  std::unordered_map<GroupKey, Group, GroupHash> groups;
  std::vector<Group*> group_of(unplaced.size());
  for (size_t i = 0; i < unplaced.size(); ++i) {
    const Unplaced& u = unplaced[i];
    const TaskRequest& t = *u.task.task;
    Group& g = groups[{u.failures, t.gpus, t.util_pct, t.share, u.task.reservation != nullptr}];
    if (!u.held_back) g.needs.push_back(t.mem_mib);
    group_of[i] = &g;
  }
  for (auto& [key, g] : groups) {
    std::sort(g.needs.begin(), g.needs.end());
    g.needs.erase(std::unique(g.needs.begin(), g.needs.end()), g.needs.end());
    g.texts_at.assign(g.needs.size(), kNone);
  }
  for (size_t i = 0; i < unplaced.size(); ++i) {
    const Unplaced& u = unplaced[i];
    Group& g = *group_of[i];
    size_t* at = &g.held_back_at;
    size_t k = 0;
    if (!u.held_back) {
      k = static_cast<size_t>(
          std::lower_bound(g.needs.begin(), g.needs.end(), u.task.task->mem_mib) - g.needs.begin());
      at = &g.texts_at[k];
    }
    if (*at == kNone) {
      if (u.held_back) {
        texts.push_back(HeldBackReason(*u.task.reservation));
      } else {
        if (g.closest.empty()) g.closest = FindClosest(u.task, u.failures, g.needs);
        texts.push_back(Explain(u.task, g.closest[k]));
      }
      *at = texts.size() - 1;
    }
    if (u.note.empty()) {
      text_of[u.pos] = *at;
    } else {
      texts.push_back(texts[*at] + u.note);
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
