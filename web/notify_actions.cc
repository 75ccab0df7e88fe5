#include "web/notify_actions.h"

#include <algorithm>

#include "common/json_fields.h"
#include "master/notify/notifier.h"
#include "master/notify/notify_message.h"
#include "master/notify/notify_settings.h"
#include "master/store/audit_log.h"

namespace gpuq {

using nlohmann::json;

Status SaveNotifySettings(WebContext* ctx, UserId by, const json& body) {
  json shown = body;
  if (shown.contains("smtp") && shown["smtp"].is_object() && shown["smtp"].contains("password")) {
    shown["smtp"]["password"] = "(changed)";
  }
  // UpdateNotifySettings checks everything before it writes; its transaction becomes a
  // savepoint of this one, so the settings and their audit entry commit together.
  return ctx->db->Tx([&](Connection&) -> Status {
    GPUQ_RETURN_IF_ERROR(UpdateNotifySettings(ctx->db, ctx->clock, ctx->secrets, body));
    return AuditLog(ctx->db, ctx->clock)
        .Record(by, "settings.notifications", "notifications", shown.dump());
  });
}

Status ReadNotifyTarget(const json& body, NotifyTargetRow* t) {
  JsonFields f(body);
  GPUQ_RETURN_IF_ERROR(f.RejectUnknown({"name", "kind", "address", "format", "events", "enabled"}));
  Result<std::optional<std::string>> name = f.String("name", 100);
  if (!name.ok()) return name.status();
  if (*name) t->name = **name;
  Result<std::optional<std::string>> kind = f.String("kind", 16);
  if (!kind.ok()) return kind.status();
  if (*kind) t->kind = **kind;
  if (t->kind != "webhook" && t->kind != "email") {
    return Status::InvalidArgument("must be \"webhook\" or \"email\"", "kind");
  }
  Result<std::optional<std::string>> address = f.String("address", 2048);
  if (!address.ok()) return address.status();
  if (*address) t->address = **address;
  if (t->address.empty()) return Status::InvalidArgument("is required", "address");
  GPUQ_RETURN_IF_ERROR(t->kind == "webhook" ? ValidateHttpUrl(t->address, "address")
                                            : ValidateEmailAddress(t->address, "address"));
  Result<std::optional<std::string>> format = f.String("format", 16);
  if (!format.ok()) return format.status();
  if (*format) {
    std::optional<WebhookFormat> parsed = ParseWebhookFormat(**format);
    if (!parsed) {
      return Status::InvalidArgument("must be \"generic\", \"slack\", \"dingtalk\" or \"feishu\"",
                                     "format");
    }
    t->format = WebhookFormatName(*parsed);
  }
  if (t->kind == "email") t->format = "generic";
  if (auto events = body.find("events"); events != body.end() && !events->is_null()) {
    if (!events->is_array())
      return Status::InvalidArgument("must be a list of event names", "events");
    std::vector<std::string> names;
    for (const json& e : *events) {
      if (!e.is_string() || !IsNotifyEvent(e.get<std::string>())) {
        return Status::InvalidArgument(
            "unknown event " + e.dump() +
                " (run_started, run_ended, task_failed, node_down, node_up, gpu_idle)",
            "events");
      }
      if (std::find(names.begin(), names.end(), e.get<std::string>()) == names.end()) {
        names.push_back(e.get<std::string>());
      }
    }
    t->events = std::move(names);
  }
  Result<std::optional<bool>> enabled = f.Bool("enabled");
  if (!enabled.ok()) return enabled.status();
  if (*enabled) t->enabled = **enabled;
  return Status::Ok();
}

Result<NotifyTargetRow> CreateNotifyTarget(WebContext* ctx, UserId by, const json& body) {
  NotifyTargetRow t;
  t.kind = "webhook";
  GPUQ_RETURN_IF_ERROR(ReadNotifyTarget(body, &t));
  NotifyTargetStore targets(ctx->db, ctx->clock);
  return ctx->db->Tx([&](Connection&) -> Result<NotifyTargetRow> {
    Result<int64_t> id = targets.Create(t);
    if (!id.ok()) return id.status();
    GPUQ_RETURN_IF_ERROR(
        AuditLog(ctx->db, ctx->clock)
            .Record(by, "notify.target.create", "notify target " + std::to_string(*id), t.kind));
    return targets.Get(*id);
  });
}

Result<NotifyTargetRow> UpdateNotifyTarget(WebContext* ctx, UserId by, int64_t id,
                                           const json& body) {
  NotifyTargetStore targets(ctx->db, ctx->clock);
  // The audit names the fields changed, not their values: a webhook URL is often a secret.
  std::string fields;
  for (auto it = body.begin(); it != body.end(); ++it)
    fields += (fields.empty() ? "" : ",") + it.key();
  return ctx->db->Tx([&](Connection&) -> Result<NotifyTargetRow> {
    Result<NotifyTargetRow> row = targets.Get(id);
    if (!row.ok()) return row.status();
    GPUQ_RETURN_IF_ERROR(ReadNotifyTarget(body, &*row));
    GPUQ_RETURN_IF_ERROR(targets.Update(*row));
    GPUQ_RETURN_IF_ERROR(
        AuditLog(ctx->db, ctx->clock)
            .Record(by, "notify.target.update", "notify target " + std::to_string(id), fields));
    return targets.Get(id);
  });
}

Status DeleteNotifyTarget(WebContext* ctx, UserId by, int64_t id) {
  return ctx->db->Tx([&](Connection&) -> Status {
    GPUQ_RETURN_IF_ERROR(NotifyTargetStore(ctx->db, ctx->clock).Delete(id));
    return AuditLog(ctx->db, ctx->clock)
        .Record(by, "notify.target.delete", "notify target " + std::to_string(id), "");
  });
}

Status SendNotifyTargetTest(WebContext* ctx, int64_t target_id) {
  Status sent = ctx->notifier->SendTest(target_id);
  // An unknown target is the caller's mistake (404), not a failed delivery.
  if (sent.code() == ErrorCode::kNotFound) return sent;
  return sent.ok() ? sent : sent.WithPrefix("test not delivered");
}

Status SendTestMailTo(WebContext* ctx, const std::string& to) {
  if (to.empty()) return Status::InvalidArgument("is required", "to");
  GPUQ_RETURN_IF_ERROR(ValidateEmailAddress(to, "to"));
  Status sent = ctx->notifier->SendTestMail(to);
  return sent.ok() ? sent : sent.WithPrefix("test not delivered");
}

Result<NotificationRow> RetryNotification(WebContext* ctx, UserId by, int64_t id) {
  NotifyOutbox outbox(ctx->db, ctx->clock);
  Status s = ctx->db->Tx([&](Connection&) -> Status {
    GPUQ_RETURN_IF_ERROR(outbox.Retry(id));
    return AuditLog(ctx->db, ctx->clock)
        .Record(by, "notify.retry", "notification " + std::to_string(id), "");
  });
  if (!s.ok()) return s;
  if (ctx->notifier != nullptr) ctx->notifier->Wake();
  return outbox.Get(id);
}

Result<UserRow> SaveMyNotifications(WebContext* ctx, const UserRow& user, const json& body) {
  JsonFields f(body);
  GPUQ_RETURN_IF_ERROR(f.RejectUnknown({"email", "notify_default"}));
  Result<std::optional<std::string>> email = f.String("email", 254);
  if (!email.ok()) return email.status();
  if (*email && !(*email)->empty()) GPUQ_RETURN_IF_ERROR(ValidateEmailAddress(**email, "email"));
  Result<std::optional<std::string>> notify = f.String("notify_default", 16);
  if (!notify.ok()) return notify.status();
  if (*notify && **notify != "end" && **notify != "failure" && **notify != "off") {
    return Status::InvalidArgument("must be \"end\", \"failure\" or \"off\"", "notify_default");
  }
  UserRow updated = user;
  Status s = ctx->db->Tx([&](Connection&) -> Status {
    if (*email) GPUQ_RETURN_IF_ERROR(SetUserEmail(ctx->db, user.id, **email));
    if (*notify) {
      updated.notify_default = **notify;
      GPUQ_RETURN_IF_ERROR(
          UserStore(ctx->db, ctx->clock).SetPreferences(user.id, user.lang, **notify));
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return updated;
}

}  // namespace gpuq
