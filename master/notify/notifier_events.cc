// Notifier: what each event becomes (recipients and rendered messages), and the watches that
// record node and idle-GPU events.
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/gpu_indices.h"
#include "master/notify/notifier.h"

namespace gpuq {
namespace {

bool IsFailure(const std::string& status) {
  return status == "failed" || status == "timed_out" || status == "lost";
}

NotifyFacts RunFacts(const RunNotifyRow& r, const std::string& event, UnixMs at,
                     const NotifySettings& settings) {
  NotifyFacts f;
  f.event = event;
  f.at = at;
  f.task_id = r.task.value;
  f.task_name = r.task_name;
  f.user = r.username;
  f.command = r.command;
  f.run_id = r.run.value;
  f.attempt = r.attempt;
  f.node = r.node_name;
  Result<std::vector<int>> gpus = ParseGpuIndices(r.gpu_indices);
  if (gpus.ok()) f.gpus = *gpus;
  if (event == "run_started") {
    f.status = "running";
  } else {
    f.status = r.run_status;
    f.exit_code = r.exit_code;
    f.end_reason = r.end_reason;
    if (r.started_at && r.ended_at) f.duration_ms = *r.ended_at - *r.started_at;
  }
  if (!settings.public_url.empty()) {
    f.link = settings.public_url + "/admin/tasks/" + std::to_string(r.task.value);
  }
  return f;
}

NotificationRow Message(const std::string& event, const NotifyTargetRow* target,
                        const std::string& recipient, const NotifyFacts& f) {
  NotificationRow m;
  m.event = event;
  m.recipient = recipient;
  if (target) m.target_id = target->id;
  if (target && target->kind == "webhook") {
    m.channel = "webhook";
    m.format = target->format;
    m.body = RenderWebhook(f, ParseWebhookFormat(target->format).value_or(WebhookFormat::kGeneric));
  } else {
    m.channel = "email";
    EmailMessage e = RenderEmail(f);
    m.subject = e.subject;
    m.body = e.body;
  }
  return m;
}

}  // namespace

Result<std::vector<NotificationRow>> Notifier::MessagesFor(const NotifyEventRow& event,
                                                           const NotifySettings& settings) {
  nlohmann::json facts = nlohmann::json::parse(event.facts_json, nullptr, false);
  if (!facts.is_object()) return Status::Corruption("event facts are not a JSON object");
  Result<std::vector<NotifyTargetRow>> targets = NotifyTargetStore(db_, clock_).List();
  if (!targets.ok()) return targets.status();

  std::vector<NotificationRow> out;
  auto to_targets = [&](const std::string& name, const NotifyFacts& f) {
    for (const NotifyTargetRow& t : *targets) {
      if (!t.enabled || std::find(t.events.begin(), t.events.end(), name) == t.events.end()) {
        continue;
      }
      out.push_back(Message(name, &t, t.address, f));
    }
  };

  if (event.kind == "run_started" || event.kind == "run_ended" || event.kind == "gpu_idle") {
    Result<RunNotifyRow> run = LoadRunForNotify(db_, RunId(facts.value("run", int64_t{0})));
    if (!run.ok()) return run.status();
    NotifyFacts f = RunFacts(*run, event.kind, event.created_at, settings);
    if (event.kind == "run_started") {
      to_targets("run_started", f);
    } else if (event.kind == "gpu_idle") {
      f.gpus = facts.value("gpus", std::vector<int>{});
      f.idle_minutes = facts.value("idle_minutes", 0.0);
      f.status = "running";
      f.exit_code.reset();
      f.duration_ms.reset();
      f.end_reason.clear();
      to_targets("gpu_idle", f);
    } else {
      bool final = facts.value("final", true);
      bool failure = IsFailure(run->run_status);
      f.retrying = !final && run->run_status == "failed";
      f.log_tail = LogTail(run->run);
      to_targets("run_ended", f);
      if (final && failure) {
        NotifyFacts failed = f;
        failed.event = "task_failed";
        to_targets("task_failed", failed);
      }
      // The owner's own e-mail follows the task's `notify` (end | failure | off).
      bool wanted = run->task_notify == "end" || (run->task_notify == "failure" && failure);
      if (final && wanted && !run->email.empty()) {
        if (settings.smtp.enabled()) {
          out.push_back(Message(failure ? "task_failed" : "run_ended", nullptr, run->email, f));
        } else {
          spdlog::info("task {}: no e-mail to {}: SMTP is not configured", run->task.value,
                       run->email);
        }
      }
    }
  } else if (event.kind == "node_down" || event.kind == "node_up") {
    NotifyFacts f;
    f.event = event.kind;
    f.at = event.created_at;
    f.node = facts.value("name", std::string());
    f.node_error = facts.value("error", std::string());
    if (!settings.public_url.empty()) {
      f.link = settings.public_url + "/admin/nodes/" + std::to_string(facts.value("node", 0));
    }
    to_targets(event.kind, f);
  } else {
    return Status::Corruption("unknown event kind " + event.kind);
  }
  return out;
}

void Notifier::WatchNodes() {
  std::map<NodeId, NodeLiveState> nodes = cluster_->All();
  for (auto it = node_available_.begin(); it != node_available_.end();) {
    if (nodes.count(it->first) == 0) {
      down_notified_.erase(it->first);
      it = node_available_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [id, live] : nodes) {
    auto [it, first] = node_available_.emplace(id, live.available);
    // The first look only learns the state: a master that starts while a node is down has
    // seen no change to report.
    if (first || it->second == live.available) continue;
    it->second = live.available;
    std::string kind;
    if (!live.available) {
      kind = "node_down";
      down_notified_.insert(id);
    } else if (down_notified_.erase(id) > 0) {
      kind = "node_up";
    } else {
      continue;
    }
    nlohmann::json facts = {{"node", id.value}, {"name", NodeName(id)}};
    if (!live.available) facts["error"] = live.last_error;
    if (Status s = outbox_.RecordEvent(kind, facts.dump()); !s.ok()) {
      spdlog::error("notifications: cannot record {} of node {}: {}", kind, id.value, s.ToString());
    }
  }
}

void Notifier::WatchIdleGpus() {
  Result<NotifySettings> settings = Settings();
  if (!settings.ok() || settings->gpu_idle_minutes <= 0) {
    idle_since_.clear();
    return;
  }
  Result<std::vector<RunNotifyRow>> runs = RunningRunsForNotify(db_);
  if (!runs.ok()) {
    spdlog::warn("notifications: cannot read running runs: {}", runs.status().ToString());
    return;
  }
  UnixMs now = clock_->NowUnixMs();
  auto threshold_ms = static_cast<UnixMs>(settings->gpu_idle_minutes * 60'000.0);
  std::map<NodeId, NodeLiveState> nodes = cluster_->All();
  std::map<std::pair<int64_t, int>, UnixMs> still_idle;
  std::set<int64_t> running;
  for (const RunNotifyRow& r : *runs) {
    running.insert(r.run.value);
    if (idle_notified_.count(r.run.value) || !r.node_id) continue;
    auto node = nodes.find(*r.node_id);
    if (node == nodes.end() || !node->second.available) continue;
    Result<std::vector<int>> gpus = ParseGpuIndices(r.gpu_indices);
    if (!gpus.ok()) continue;
    std::vector<int> idle;
    for (int index : *gpus) {
      auto gpu = std::find_if(node->second.gpus.begin(), node->second.gpus.end(),
                              [&](const GpuStatus& g) { return g.index == index; });
      if (gpu == node->second.gpus.end() || !gpu->util_pct ||
          *gpu->util_pct > options_.idle_util_pct) {
        continue;
      }
      auto key = std::make_pair(r.run.value, index);
      auto known = idle_since_.find(key);
      UnixMs since = known == idle_since_.end() ? now : known->second;
      still_idle[key] = since;
      if (now - since >= threshold_ms) idle.push_back(index);
    }
    if (idle.empty()) continue;
    idle_notified_.insert(r.run.value);
    Result<bool> seen = HasRunEvent(db_, "gpu_idle", r.run);
    if (seen.ok() && *seen) continue;  // reported before a restart
    nlohmann::json facts = {
        {"run", r.run.value}, {"gpus", idle}, {"idle_minutes", settings->gpu_idle_minutes}};
    if (Status s = outbox_.RecordEvent("gpu_idle", facts.dump()); !s.ok()) {
      spdlog::error("notifications: cannot record gpu_idle of run {}: {}", r.run.value,
                    s.ToString());
    }
  }
  idle_since_ = std::move(still_idle);
  for (auto it = idle_notified_.begin(); it != idle_notified_.end();) {
    it = running.count(*it) ? std::next(it) : idle_notified_.erase(it);
  }
}

}  // namespace gpuq
