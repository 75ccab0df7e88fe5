#ifndef GPUQ_MASTER_STORE_NOTIFY_STORE_H_
#define GPUQ_MASTER_STORE_NOTIFY_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"

namespace gpuq {

class Connection;
class Database;

// An admin-configured recipient (migrations/0003_notifications.sql).
struct NotifyTargetRow {
  int64_t id = 0;
  std::string name;
  std::string kind;                 // "webhook" or "email"
  std::string address;              // URL or e-mail address
  std::string format = "generic";   // webhooks: generic, slack, dingtalk, feishu
  std::vector<std::string> events;  // run_started, run_ended, task_failed, node_down, ...
  bool enabled = true;
  UnixMs created_at = 0;
  UnixMs updated_at = 0;
};

// One message to one recipient, as queued in the outbox.
struct NotificationRow {
  int64_t id = 0;
  std::optional<int64_t> event_id;
  std::string event;    // run_started, run_ended, task_failed, node_down, node_up, gpu_idle, test
  std::string channel;  // "email" or "webhook"
  std::optional<int64_t> target_id;  // nullopt: a task owner's own e-mail
  std::string recipient;
  std::string format;
  std::string subject;
  std::string body;
  std::string status = "pending";  // pending, sent, failed
  int attempts = 0;
  UnixMs next_attempt_at = 0;
  std::string last_error;
  UnixMs created_at = 0;
  std::optional<UnixMs> sent_at;
};

// A recorded fact waiting to be turned into notifications.
struct NotifyEventRow {
  int64_t id = 0;
  std::string kind;  // run_started, run_ended, node_down, node_up, gpu_idle
  std::string facts_json;
  UnixMs created_at = 0;
};

// The notify_targets table. Validation of addresses and formats is the caller's; the schema
// refuses unknown kinds and formats (kInvalidArgument). Thread-safe (see Database).
class NotifyTargetStore {
 public:
  NotifyTargetStore(Database* db, Clock* clock) : db_(db), clock_(clock) {}
  Result<std::vector<NotifyTargetRow>> List();
  // kNotFound "notification target 3 not found".
  Result<NotifyTargetRow> Get(int64_t id);
  Result<int64_t> Create(const NotifyTargetRow& target);
  // Replaces every writable field of row `target.id`; kNotFound when it is gone.
  Status Update(const NotifyTargetRow& target);
  // Deletes the target; its pending messages become failed ("its target was deleted").
  Status Delete(int64_t id);

 private:
  Database* db_;
  Clock* clock_;
};

// The outbox: notify_events and notifications. Thread-safe (see Database).
class NotifyOutbox {
 public:
  NotifyOutbox(Database* db, Clock* clock) : db_(db), clock_(clock) {}

  // Records an event inside the caller's transaction, so the event exists if and only if the
  // state change it describes was committed. REQUIRES: inside a Database callback.
  static Status RecordEvent(Connection& conn, std::string_view kind, std::string_view facts_json,
                            UnixMs now);
  Status RecordEvent(std::string_view kind, std::string_view facts_json);

  // Events not yet dispatched, oldest first.
  Result<std::vector<NotifyEventRow>> Undispatched(int limit);
  // In one transaction: inserts `messages` (status pending, due now) and marks the event
  // dispatched. A second call for an already dispatched event inserts nothing and returns
  // false, so an event never becomes notifications twice.
  Result<bool> Dispatch(int64_t event_id, const std::vector<NotificationRow>& messages);
  // Inserts one message outside any event (a "send test"); returns its id.
  Result<int64_t> Insert(const NotificationRow& message);

  // Pending messages due at `now`, oldest first.
  Result<std::vector<NotificationRow>> Due(UnixMs now, int limit);
  // When the next pending message is due; nullopt when none is pending.
  Result<std::optional<UnixMs>> NextDue();
  // Marks the message sent (the server accepted it). Only a pending message changes.
  Status MarkSent(int64_t id);
  // Records a failed attempt: still pending and due at `next_attempt_at`, or, when
  // `give_up`, failed for good.
  Status MarkAttemptFailed(int64_t id, const std::string& error, UnixMs next_attempt_at,
                           bool give_up);
  // Moves a pending message's next attempt to `next_attempt_at` without counting an attempt
  // (its destination just failed for another message), noting why in last_error.
  Status Defer(int64_t id, const std::string& why, UnixMs next_attempt_at);
  // A failed message goes back to pending, due now, attempts reset. kNotFound when there is
  // no such message; kFailedPrecondition when it is not failed.
  Status Retry(int64_t id);

  Result<NotificationRow> Get(int64_t id);
  // Newest first; `status` empty: any.
  Result<std::vector<NotificationRow>> List(const std::string& status, int limit);
  // Deletes dispatched events and sent or failed messages older than `before`.
  Status Prune(UnixMs before);

 private:
  Database* db_;
  Clock* clock_;
};

// What a message about a run says, read in one query (runs, tasks, users).
struct RunNotifyRow {
  RunId run;
  int attempt = 1;
  std::optional<NodeId> node_id;
  std::string node_name;
  std::string gpu_indices;  // "0,1"
  std::string run_status;
  std::optional<int> exit_code;
  std::optional<UnixMs> started_at;
  std::optional<UnixMs> ended_at;
  std::string end_reason;
  TaskId task;
  std::string task_name;
  std::string command;
  std::string task_notify;  // end, failure, off
  std::string username;
  std::string email;  // the owner's; '' = none
};
// kNotFound when the run is gone.
Result<RunNotifyRow> LoadRunForNotify(Database* db, RunId run);
// The runs now running, for the idle-GPU watch.
Result<std::vector<RunNotifyRow>> RunningRunsForNotify(Database* db);
// Whether an event of `kind` about run `run` was recorded (so a restart does not repeat
// a gpu_idle warning).
Result<bool> HasRunEvent(Database* db, std::string_view kind, RunId run);

// A user's e-mail address for task notifications ('' = none).
Result<std::string> GetUserEmail(Database* db, UserId user);
Status SetUserEmail(Database* db, UserId user, std::string_view email);

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_NOTIFY_STORE_H_
