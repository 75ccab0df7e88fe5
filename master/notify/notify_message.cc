#include "master/notify/notify_message.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/gpu_indices.h"
#include "common/units.h"

namespace gpuq {
namespace {

std::string TaskLabel(const NotifyFacts& f) {
  std::string label = "task " + std::to_string(f.task_id);
  if (!f.task_name.empty()) label += " (" + f.task_name + ")";
  return label;
}

std::string GpuList(const std::vector<int>& gpus) {
  return gpus.empty() ? "none (CPU only)" : FormatGpuIndices(gpus);
}

// The task's outcome in words, for summaries.
std::string Outcome(const NotifyFacts& f) {
  if (f.status == "succeeded") return "succeeded";
  if (f.status == "cancelled") return "was cancelled";
  if (f.status == "timed_out") return "reached its time limit";
  if (f.status == "lost") return "was lost (its node lost track of it)";
  std::string s = "failed";
  if (f.exit_code) s += " with exit code " + std::to_string(*f.exit_code);
  return s;
}

// Key: value lines shared by e-mails and chat messages.
std::string Details(const NotifyFacts& f) {
  std::string out;
  auto line = [&](const std::string& key, const std::string& value) {
    if (!value.empty()) out += key + ": " + value + "\n";
  };
  if (f.task_id != 0) {
    line("Task", TaskLabel(f));
    line("User", f.user);
    line("Command", f.command);
    if (f.run_id != 0) {
      line("Run", std::to_string(f.run_id) + " (attempt " + std::to_string(f.attempt) + ")");
    }
    line("Status", f.status);
    if (f.exit_code) line("Exit code", std::to_string(*f.exit_code));
    line("Reason", f.end_reason);
    if (f.duration_ms) line("Duration", FormatRunDuration(*f.duration_ms));
  }
  line("Node", f.node);
  if (f.task_id != 0 || !f.gpus.empty()) line("GPUs", GpuList(f.gpus));
  line("Error", f.node_error);
  line("Time", FormatRfc3339(f.at));
  line("Link", f.link);
  return out;
}

}  // namespace

bool IsNotifyEvent(std::string_view name) {
  for (const char* e : kNotifyEvents) {
    if (name == e) return true;
  }
  return false;
}

std::optional<WebhookFormat> ParseWebhookFormat(std::string_view name) {
  if (name == "generic") return WebhookFormat::kGeneric;
  if (name == "slack") return WebhookFormat::kSlack;
  if (name == "dingtalk") return WebhookFormat::kDingTalk;
  if (name == "feishu" || name == "lark") return WebhookFormat::kFeishu;
  return std::nullopt;
}

const char* WebhookFormatName(WebhookFormat format) {
  switch (format) {
    case WebhookFormat::kGeneric:
      return "generic";
    case WebhookFormat::kSlack:
      return "slack";
    case WebhookFormat::kDingTalk:
      return "dingtalk";
    case WebhookFormat::kFeishu:
      return "feishu";
  }
  return "generic";
}

std::string FormatRunDuration(int64_t ms) {
  if (ms < 0) ms = 0;
  if (ms < 1000) return std::to_string(ms) + " ms";
  return FormatDuration(ms / 1000);
}

std::string LastLines(std::string_view text, int n) {
  if (n <= 0 || text.empty()) return "";
  size_t end = text.size();
  if (text[end - 1] == '\n') --end;
  size_t start = end;
  int lines = 0;
  while (start > 0) {
    if (text[start - 1] == '\n' && ++lines == n) break;
    --start;
  }
  return std::string(text.substr(start, end - start));
}

std::string Summary(const NotifyFacts& f) {
  std::string who = TaskLabel(f) + (f.user.empty() ? "" : " by " + f.user);
  std::string where = f.node.empty() ? "" : " on " + f.node;
  if (!f.gpus.empty()) where += " (GPU " + FormatGpuIndices(f.gpus) + ")";
  if (f.event == "run_started") return who + " started" + where;
  if (f.event == "run_ended") {
    std::string s = who + " " + Outcome(f) + where;
    if (f.retrying) s += "; it will be retried";
    return s;
  }
  if (f.event == "task_failed") {
    return who + " " + Outcome(f) + where + " and has no retries left";
  }
  if (f.event == "node_down") return "node " + f.node + " is unavailable: " + f.node_error;
  if (f.event == "node_up") return "node " + f.node + " is available again";
  if (f.event == "gpu_idle") {
    char minutes[32];
    std::snprintf(minutes, sizeof(minutes), "%g", f.idle_minutes);
    return "GPU " + FormatGpuIndices(f.gpus) + " on " + f.node + " held by " + TaskLabel(f) +
           (f.user.empty() ? "" : " of " + f.user) + " has been idle for " + minutes + " minutes";
  }
  if (f.event == "test") return "test notification from gpuq";
  return f.event;
}

EmailMessage RenderEmail(const NotifyFacts& f) {
  EmailMessage m;
  m.subject = "[gpuq] " + Summary(f);
  m.body = Summary(f) + ".\n\n" + Details(f);
  if (!f.log_tail.empty()) {
    m.body += "\nLast lines of output:\n" + f.log_tail;
    if (m.body.back() != '\n') m.body += '\n';
  }
  if (f.event == "test") m.body += "\nIf you can read this, gpuq can reach you.\n";
  return m;
}

std::string RenderWebhook(const NotifyFacts& f, WebhookFormat format) {
  using nlohmann::json;
  std::string text = Summary(f) + "\n" + Details(f);
  if (!f.log_tail.empty()) text += "Last lines of output:\n" + f.log_tail;
  json body;
  switch (format) {
    case WebhookFormat::kSlack:
      body = {{"text", "*" + Summary(f) + "*\n" + Details(f) +
                           (f.log_tail.empty() ? "" : "```\n" + f.log_tail + "\n```")}};
      break;
    case WebhookFormat::kDingTalk:
      body = {{"msgtype", "text"}, {"text", {{"content", "[gpuq] " + text}}}};
      break;
    case WebhookFormat::kFeishu:
      body = {{"msg_type", "text"}, {"content", {{"text", "[gpuq] " + text}}}};
      break;
    case WebhookFormat::kGeneric: {
      body = {{"event", f.event}, {"summary", Summary(f)}, {"at", FormatRfc3339(f.at)}};
      if (f.task_id != 0) {
        body["task"] = {
            {"id", f.task_id}, {"name", f.task_name}, {"user", f.user}, {"command", f.command}};
      }
      if (f.run_id != 0) {
        body["run"] = {{"id", f.run_id},
                       {"attempt", f.attempt},
                       {"status", f.status},
                       {"exit_code", f.exit_code ? json(*f.exit_code) : json(nullptr)},
                       {"duration_ms", f.duration_ms ? json(*f.duration_ms) : json(nullptr)},
                       {"end_reason", f.end_reason},
                       {"retrying", f.retrying}};
      }
      if (!f.node.empty()) body["node"] = f.node;
      if (f.task_id != 0 || !f.gpus.empty()) body["gpus"] = f.gpus;
      if (!f.node_error.empty()) body["error"] = f.node_error;
      if (f.event == "gpu_idle") body["idle_minutes"] = f.idle_minutes;
      if (!f.log_tail.empty()) body["log_tail"] = f.log_tail;
      if (!f.link.empty()) body["link"] = f.link;
      break;
    }
  }
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace gpuq
