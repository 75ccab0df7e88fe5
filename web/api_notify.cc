// Routes (admin unless noted): /api/v1/settings/notifications (GET, PUT, POST .../test),
// /api/v1/notify/targets[/{id}[/test]], /api/v1/notifications[?status=][/{id}/retry], and
// for every user /api/v1/me/notifications (own e-mail address and default `notify`).
#include <charconv>

#include "common/json_fields.h"
#include "master/notify/notifier.h"
#include "master/notify/notify_message.h"
#include "master/store/audit_log.h"
#include "master/store/notify_store.h"
#include "web/api_routes.h"
#include "web/http_util.h"

namespace gpuq {
namespace {

using nlohmann::json;

json OptionalTime(const std::optional<UnixMs>& t) {
  return t ? json(FormatRfc3339(*t)) : json(nullptr);
}

json TargetJson(const NotifyTargetRow& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"kind", t.kind},
          {"address", t.address},
          {"format", t.format},
          {"events", t.events},
          {"enabled", t.enabled},
          {"created_at", FormatRfc3339(t.created_at)},
          {"updated_at", FormatRfc3339(t.updated_at)}};
}

json NotificationJson(const NotificationRow& m) {
  return {{"id", m.id},
          {"event", m.event},
          {"channel", m.channel},
          {"target_id", m.target_id ? json(*m.target_id) : json(nullptr)},
          {"recipient", m.recipient},
          {"format", m.format},
          {"subject", m.subject},
          {"body", m.body},
          {"status", m.status},
          {"attempts", m.attempts},
          {"next_attempt_at",
           m.status == "pending" ? json(FormatRfc3339(m.next_attempt_at)) : json(nullptr)},
          {"last_error", m.last_error},
          {"created_at", FormatRfc3339(m.created_at)},
          {"sent_at", OptionalTime(m.sent_at)}};
}

// Applies the fields of `body` over `t` and checks the whole target. Errors name the field.
Status ReadTarget(const json& body, NotifyTargetRow* t) {
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

// Sends a test and answers 200 {"ok": true} or the failure in the API's error shape, with
// the server's own words (503 when it cannot be reached).
void ReplyTest(httplib::Response& res, const Status& sent) {
  if (!sent.ok()) return ReplyError(res, sent.WithPrefix("test not delivered"));
  ReplyJson(res, 200, {{"ok", true}});
}

void RegisterSettingsRoutes(httplib::Server& server, WebContext* ctx) {
  server.Get("/api/v1/settings/notifications",
             Authed(ctx, Role::kAdmin, [ctx](const auto&, auto& res, const UserRow&) {
               ReplyJson(
                   res, 200,
                   NotifySettingsJson(ctx->db, ctx->clock, ctx->secrets, ctx->notifier->startup()));
             }));
  server.Put("/api/v1/settings/notifications",
             Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, const UserRow& user) {
               Result<json> body = JsonFields::ParseObject(req.body);
               if (!body.ok()) return ReplyError(res, body.status());
               Status s = UpdateNotifySettings(ctx->db, ctx->clock, ctx->secrets, *body);
               if (!s.ok()) return ReplyError(res, s);
               json shown = *body;
               if (shown.contains("smtp") && shown["smtp"].is_object() &&
                   shown["smtp"].contains("password")) {
                 shown["smtp"]["password"] = "(changed)";
               }
               AuditLog(ctx->db, ctx->clock)
                   .Record(user.id, "settings.notifications", "notifications", shown.dump());
               ReplyJson(
                   res, 200,
                   NotifySettingsJson(ctx->db, ctx->clock, ctx->secrets, ctx->notifier->startup()));
             }));
  server.Post("/api/v1/settings/notifications/test",
              Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, const UserRow&) {
                Result<json> body = JsonFields::ParseObject(req.body);
                if (!body.ok()) return ReplyError(res, body.status());
                JsonFields f(*body);
                if (Status s = f.RejectUnknown({"to"}); !s.ok()) return ReplyError(res, s);
                Result<std::string> to = f.RequiredString("to", 254);
                if (!to.ok()) return ReplyError(res, to.status());
                if (Status s = ValidateEmailAddress(*to, "to"); !s.ok()) return ReplyError(res, s);
                ReplyTest(res, ctx->notifier->SendTestMail(*to));
              }));
}

void RegisterTargetRoutes(httplib::Server& server, WebContext* ctx) {
  server.Get("/api/v1/notify/targets",
             Authed(ctx, Role::kAdmin, [ctx](const auto&, auto& res, const UserRow&) {
               Result<std::vector<NotifyTargetRow>> list =
                   NotifyTargetStore(ctx->db, ctx->clock).List();
               if (!list.ok()) return ReplyError(res, list.status());
               json out = json::array();
               for (const NotifyTargetRow& t : *list) out.push_back(TargetJson(t));
               ReplyJson(res, 200, out);
             }));
  server.Post("/api/v1/notify/targets",
              Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, const UserRow& user) {
                Result<json> body = JsonFields::ParseObject(req.body);
                if (!body.ok()) return ReplyError(res, body.status());
                NotifyTargetRow t;
                t.kind = "webhook";
                if (Status s = ReadTarget(*body, &t); !s.ok()) return ReplyError(res, s);
                NotifyTargetStore targets(ctx->db, ctx->clock);
                Result<int64_t> id = targets.Create(t);
                if (!id.ok()) return ReplyError(res, id.status());
                AuditLog(ctx->db, ctx->clock)
                    .Record(user.id, "notify.target.create", "notify target " + std::to_string(*id),
                            t.kind);
                Result<NotifyTargetRow> row = targets.Get(*id);
                if (!row.ok()) return ReplyError(res, row.status());
                ReplyJson(res, 201, TargetJson(*row));
              }));
  server.Get(R"(/api/v1/notify/targets/(\d+))",
             Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, const UserRow&) {
               Result<int64_t> id = PathId(req);
               if (!id.ok()) return ReplyError(res, id.status());
               Result<NotifyTargetRow> row = NotifyTargetStore(ctx->db, ctx->clock).Get(*id);
               if (!row.ok()) return ReplyError(res, row.status());
               ReplyJson(res, 200, TargetJson(*row));
             }));
  server.Patch(R"(/api/v1/notify/targets/(\d+))",
               Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, const UserRow& user) {
                 Result<int64_t> id = PathId(req);
                 if (!id.ok()) return ReplyError(res, id.status());
                 Result<json> body = JsonFields::ParseObject(req.body);
                 if (!body.ok()) return ReplyError(res, body.status());
                 NotifyTargetStore targets(ctx->db, ctx->clock);
                 Result<NotifyTargetRow> row = targets.Get(*id);
                 if (!row.ok()) return ReplyError(res, row.status());
                 if (Status s = ReadTarget(*body, &*row); !s.ok()) return ReplyError(res, s);
                 if (Status s = targets.Update(*row); !s.ok()) return ReplyError(res, s);
                 AuditLog(ctx->db, ctx->clock)
                     .Record(user.id, "notify.target.update",
                             "notify target " + std::to_string(*id), "");
                 row = targets.Get(*id);
                 if (!row.ok()) return ReplyError(res, row.status());
                 ReplyJson(res, 200, TargetJson(*row));
               }));
  server.Delete(R"(/api/v1/notify/targets/(\d+))",
                Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, const UserRow& user) {
                  Result<int64_t> id = PathId(req);
                  if (!id.ok()) return ReplyError(res, id.status());
                  if (Status s = NotifyTargetStore(ctx->db, ctx->clock).Delete(*id); !s.ok()) {
                    return ReplyError(res, s);
                  }
                  AuditLog(ctx->db, ctx->clock)
                      .Record(user.id, "notify.target.delete",
                              "notify target " + std::to_string(*id), "");
                  res.status = 204;
                }));
  server.Post(R"(/api/v1/notify/targets/(\d+)/test)",
              Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, const UserRow&) {
                Result<int64_t> id = PathId(req);
                if (!id.ok()) return ReplyError(res, id.status());
                ReplyTest(res, ctx->notifier->SendTest(*id));
              }));
}

void RegisterOutboxRoutes(httplib::Server& server, WebContext* ctx) {
  server.Get(
      "/api/v1/notifications",
      Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, const UserRow&) {
        std::string status = req.has_param("status") ? req.get_param_value("status") : "";
        if (!status.empty() && status != "pending" && status != "sent" && status != "failed") {
          return ReplyError(res, Status::InvalidArgument(
                                     "must be \"pending\", \"sent\" or \"failed\"", "status"));
        }
        int64_t limit = 100;
        if (req.has_param("limit")) {
          std::string s = req.get_param_value("limit");
          auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), limit);
          if (ec != std::errc() || ptr != s.data() + s.size() || limit < 1 || limit > 1000) {
            return ReplyError(
                res, Status::InvalidArgument("must be a whole number from 1 to 1000", "limit"));
          }
        }
        Result<std::vector<NotificationRow>> list =
            NotifyOutbox(ctx->db, ctx->clock).List(status, static_cast<int>(limit));
        if (!list.ok()) return ReplyError(res, list.status());
        json out = json::array();
        for (const NotificationRow& m : *list) out.push_back(NotificationJson(m));
        ReplyJson(res, 200, out);
      }));
  server.Post(R"(/api/v1/notifications/(\d+)/retry)",
              Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, const UserRow&) {
                Result<int64_t> id = PathId(req);
                if (!id.ok()) return ReplyError(res, id.status());
                NotifyOutbox outbox(ctx->db, ctx->clock);
                if (Status s = outbox.Retry(*id); !s.ok()) return ReplyError(res, s);
                if (ctx->notifier != nullptr) ctx->notifier->Wake();
                Result<NotificationRow> row = outbox.Get(*id);
                if (!row.ok()) return ReplyError(res, row.status());
                ReplyJson(res, 200, NotificationJson(*row));
              }));
}

json MyNotificationsJson(WebContext* ctx, const UserRow& user) {
  Result<std::string> email = GetUserEmail(ctx->db, user.id);
  return {{"email", email.ok() ? *email : ""}, {"notify_default", user.notify_default}};
}

void RegisterMeRoutes(httplib::Server& server, WebContext* ctx) {
  server.Get("/api/v1/me/notifications",
             Authed(ctx, Role::kAnyUser, [ctx](const auto&, auto& res, const UserRow& user) {
               ReplyJson(res, 200, MyNotificationsJson(ctx, user));
             }));
  server.Put("/api/v1/me/notifications",
             Authed(ctx, Role::kAnyUser, [ctx](const auto& req, auto& res, const UserRow& user) {
               Result<json> body = JsonFields::ParseObject(req.body);
               if (!body.ok()) return ReplyError(res, body.status());
               JsonFields f(*body);
               if (Status s = f.RejectUnknown({"email", "notify_default"}); !s.ok()) {
                 return ReplyError(res, s);
               }
               Result<std::optional<std::string>> email = f.String("email", 254);
               if (!email.ok()) return ReplyError(res, email.status());
               if (*email && !(*email)->empty()) {
                 if (Status s = ValidateEmailAddress(**email, "email"); !s.ok()) {
                   return ReplyError(res, s);
                 }
               }
               Result<std::optional<std::string>> notify = f.String("notify_default", 16);
               if (!notify.ok()) return ReplyError(res, notify.status());
               if (*notify && **notify != "end" && **notify != "failure" && **notify != "off") {
                 return ReplyError(
                     res, Status::InvalidArgument("must be \"end\", \"failure\" or \"off\"",
                                                  "notify_default"));
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
               if (!s.ok()) return ReplyError(res, s);
               ReplyJson(res, 200, MyNotificationsJson(ctx, updated));
             }));
}

}  // namespace

void RegisterNotifyRoutes(httplib::Server& server, WebContext* ctx) {
  // Settings and "send test" need the master's notifier; a server built without one (a test
  // of other routes) answers them 404.
  if (ctx->notifier != nullptr) {
    RegisterSettingsRoutes(server, ctx);
    RegisterTargetRoutes(server, ctx);
  }
  RegisterOutboxRoutes(server, ctx);
  RegisterMeRoutes(server, ctx);
}

}  // namespace gpuq
