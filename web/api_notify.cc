// Routes (admin unless noted): /api/v1/settings/notifications (GET, PUT, POST .../test),
// /api/v1/notify/targets[/{id}[/test]], /api/v1/notifications[?status=][/{id}/retry], and
// for every user /api/v1/me/notifications (own e-mail address and default `notify`).
#include <charconv>

#include "common/json_fields.h"
#include "master/notify/notifier.h"
#include "master/store/notify_store.h"
#include "web/api_routes.h"
#include "web/http_util.h"
#include "web/notify_actions.h"

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

// Answers a test's result: 200 {"ok": true} or the failure in the API's error shape, with
// the server's own words (503 when it cannot be reached).
void ReplyTest(httplib::Response& res, const Status& sent) {
  if (!sent.ok()) return ReplyError(res, sent);
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
               if (Status s = SaveNotifySettings(ctx, user.id, *body); !s.ok()) {
                 return ReplyError(res, s);
               }
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
                ReplyTest(res, SendTestMailTo(ctx, *to));
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
                Result<NotifyTargetRow> row = CreateNotifyTarget(ctx, user.id, *body);
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
                 Result<NotifyTargetRow> row = UpdateNotifyTarget(ctx, user.id, *id, *body);
                 if (!row.ok()) return ReplyError(res, row.status());
                 ReplyJson(res, 200, TargetJson(*row));
               }));
  server.Delete(R"(/api/v1/notify/targets/(\d+))",
                Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, const UserRow& user) {
                  Result<int64_t> id = PathId(req);
                  if (!id.ok()) return ReplyError(res, id.status());
                  if (Status s = DeleteNotifyTarget(ctx, user.id, *id); !s.ok()) {
                    return ReplyError(res, s);
                  }
                  res.status = 204;
                }));
  server.Post(R"(/api/v1/notify/targets/(\d+)/test)",
              Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, const UserRow&) {
                Result<int64_t> id = PathId(req);
                if (!id.ok()) return ReplyError(res, id.status());
                ReplyTest(res, SendNotifyTargetTest(ctx, *id));
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
              Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, const UserRow& user) {
                Result<int64_t> id = PathId(req);
                if (!id.ok()) return ReplyError(res, id.status());
                Result<NotificationRow> row = RetryNotification(ctx, user.id, *id);
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
               Result<UserRow> updated = SaveMyNotifications(ctx, user, *body);
               if (!updated.ok()) return ReplyError(res, updated.status());
               ReplyJson(res, 200, MyNotificationsJson(ctx, *updated));
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
