#ifndef GPUQ_MASTER_NOTIFY_NOTIFY_MESSAGE_H_
#define GPUQ_MASTER_NOTIFY_NOTIFY_MESSAGE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace gpuq {

// The event names targets subscribe to (and the `event` of a notification).
inline constexpr const char* kNotifyEvents[] = {"run_started", "run_ended", "task_failed",
                                                "node_down",   "node_up",   "gpu_idle"};
bool IsNotifyEvent(std::string_view name);

// Webhook payload shapes.
enum class WebhookFormat { kGeneric, kSlack, kDingTalk, kFeishu };
std::optional<WebhookFormat> ParseWebhookFormat(std::string_view name);  // generic, slack, ...
const char* WebhookFormatName(WebhookFormat format);

// Everything a message may say about one event. Fields an event does not have stay empty.
struct NotifyFacts {
  std::string event;  // one of kNotifyEvents, or "test"
  UnixMs at = 0;      // when it happened
  // Runs and tasks.
  int64_t task_id = 0;
  std::string task_name;
  std::string user;
  std::string command;
  int64_t run_id = 0;
  int attempt = 0;
  std::string status;  // the run's: running, succeeded, failed, cancelled, timed_out, lost
  std::optional<int> exit_code;
  std::string end_reason;
  std::optional<int64_t> duration_ms;  // started -> ended
  std::string log_tail;                // the last lines of output
  bool retrying = false;               // a failed run whose task goes back to the queue
  // Nodes and GPUs.
  std::string node;
  std::vector<int> gpus;
  std::string node_error;   // node_down: why
  double idle_minutes = 0;  // gpu_idle: for how long
  // Where the task (or node) page is; empty when no public URL is known.
  std::string link;
};

struct EmailMessage {
  std::string subject;
  std::string body;  // plain text, '\n' line ends
};

// "1h2m3s", "45s" (common/units.h), or "350 ms" under a second.
std::string FormatRunDuration(int64_t ms);
// The last `n` lines of `text` (a trailing newline does not count as a line). Invalid UTF-8
// is kept as is; the caller's transport deals with bytes.
std::string LastLines(std::string_view text, int n);
// One line saying what happened: "task 12 (train) by alice failed on gpu1, exit code 3".
std::string Summary(const NotifyFacts& facts);

// The e-mail for an event: subject "[gpuq] ..." and a body with task, user, node, GPUs, exit
// code, duration, the output's last lines and the link.
EmailMessage RenderEmail(const NotifyFacts& facts);
// The JSON body a webhook of `format` receives: Slack {"text"}, DingTalk
// {"msgtype":"markdown",...}, Feishu/Lark {"msg_type":"text",...}, generic: every fact.
std::string RenderWebhook(const NotifyFacts& facts, WebhookFormat format);

}  // namespace gpuq

#endif  // GPUQ_MASTER_NOTIFY_NOTIFY_MESSAGE_H_
