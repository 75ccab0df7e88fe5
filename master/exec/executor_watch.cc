// The executor's watch thread: time limits, cancels (TERM, then KILL after the grace
// period), exits whose processes have not all gone yet, log pulling, and runs on nodes that
// stayed away too long.
#include <spdlog/spdlog.h>

#include <set>

#include "master/exec/executor.h"

namespace gpuq {

namespace {
constexpr std::chrono::milliseconds kWatchTick(250);
constexpr UnixMs kTermRepeatMs = 2000;  // TERM again until the run ends (a launch may lag)
}  // namespace

void Executor::WatchLoop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    WatchOnce();
    lock.lock();
    wake_.wait_for(lock, kWatchTick, [&] { return stop_; });
  }
}

void Executor::WatchOnce() {
  Result<std::vector<LiveRun>> live = ledger_.Live();
  if (!live.ok()) return;
  UnixMs now = clock_->NowUnixMs();
  std::set<RunId> live_ids;
  for (const LiveRun& run : *live) {
    live_ids.insert(run.run);
    ExecLink* link = LinkForRun(run);
    if (link == nullptr) continue;

    enum class Action { kNone, kTerm, kKill, kCheckGone, kPullLog, kLost };
    std::vector<Action> actions;
    {
      std::lock_guard lock(mu_);
      LinkEntry& entry = links_[{run.node.value, run.remote_user}];
      if (entry.down_since > 0) {
        if (now - entry.down_since > options_.lost_after.count()) actions.push_back(Action::kLost);
      } else {
        RunWatch& w = watches_[run.run];
        if (w.kill_reason.empty()) {
          if (run.cancel_requested_at) {
            w.kill_reason = "cancelled";
          } else if (run.time_limit_s && run.started_at &&
                     now >= *run.started_at + *run.time_limit_s * 1000) {
            w.kill_reason = run.requeue_on_time_limit ? "requeued" : "timed_out";
          }
          if (!w.kill_reason.empty()) {
            w.term_sent_at = w.last_term_at = now;
            actions.push_back(Action::kTerm);
          }
        } else if (!w.kill_sent && now - w.term_sent_at >= options_.kill_grace.count()) {
          w.kill_sent = true;
          actions.push_back(Action::kKill);
        } else if (now - w.last_term_at >= kTermRepeatMs) {
          w.last_term_at = now;
          actions.push_back(w.kill_sent ? Action::kKill : Action::kTerm);
        }
        if (w.exit_code && !w.finishing) actions.push_back(Action::kCheckGone);
        if (run.status == "running" && !w.log_in_flight && !w.finishing &&
            now - w.last_log_pull >= options_.log_pull_interval.count()) {
          w.log_in_flight = true;
          w.last_log_pull = now;
          actions.push_back(Action::kPullLog);
        }
      }
    }
    for (Action action : actions) {
      switch (action) {
        case Action::kTerm:
          Signal(link, run.run, "TERM");
          break;
        case Action::kKill:
          Signal(link, run.run, "KILL");
          break;
        case Action::kCheckGone:
          CheckGoneThenFinish(link, run.run);
          break;
        case Action::kPullLog:
          PullLog(link, run.run, [this, id = run.run] {
            std::lock_guard lock(mu_);
            auto it = watches_.find(id);
            if (it != watches_.end()) it->second.log_in_flight = false;
          });
          break;
        case Action::kLost:
          Finish(run.run, "lost", std::nullopt,
                 "node " + run.node_name + " unreachable for longer than " +
                     std::to_string(options_.lost_after.count() / 1000) + " s");
          break;
        case Action::kNone:
          break;
      }
    }
  }
  std::vector<LinkKey> due;
  {
    std::lock_guard lock(mu_);
    std::erase_if(watches_, [&](const auto& kv) {
      return !live_ids.count(kv.first) && now - kv.second.launched_at > 5000;
    });
    for (auto& [key, entry] : links_) {
      if (entry.down_since == 0 && entry.link && entry.link->connected() &&
          now - entry.last_reconcile >= options_.reconcile_interval.count()) {
        entry.last_reconcile = now;
        due.push_back(key);
      }
    }
  }
  for (const LinkKey& key : due) Reconcile(NodeId(key.first), key.second);
}

}  // namespace gpuq
