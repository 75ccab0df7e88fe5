// Page: /admin/settings/notifications (admin): the SMTP server and message settings (each
// field showing whether its value comes from the master's start or from here; the password
// write-only), a test e-mail, the webhook and e-mail targets (add, enable/disable, delete,
// "Send test"), and recent failed deliveries with "Retry". Every change goes through the
// same code as the JSON API (web/notify_actions.h); "Send test" runs synchronously and its
// result is shown after the redirect.
#include <charconv>

#include "master/notify/notifier.h"
#include "master/notify/notify_message.h"
#include "master/notify/notify_settings.h"
#include "master/store/notify_store.h"
#include "web/notify_actions.h"
#include "web/panel.h"
#include "web/panel_notify_form.h"

namespace gpuq {
namespace {

using nlohmann::json;

constexpr char kPage[] = "/admin/settings/notifications";
constexpr int kFailedRows = 50;
constexpr const char* kFormats[] = {"generic", "slack", "dingtalk", "feishu"};

// What a re-shown page keeps of a refused form.
struct NotifyPageForm {
  std::optional<FormText> settings;  // as typed (never the password)
  std::map<std::string, std::string> settings_errors;
  TargetForm target;
};

// "from the master's start" / "set here", after a field's label.
void SourceTag(Html& h, const Translator& t, const std::string& source) {
  if (source.empty()) return;
  h.Raw(" <span class=\"tag\" data-source=\"")
      .Text(source)
      .Raw("\">")
      .Text(t("notify.source_" + source))
      .Raw("</span>");
}

void SettingsCard(Html& h, const PanelRequest& pr, const json& shown, const FormText& text,
                  const std::map<std::string, std::string>& errors) {
  const Translator& t = pr.t;
  h.Raw("<section class=\"card\" id=\"smtp\"><h2>").Text(t("notify.smtp")).Raw("</h2>");
  if (auto err = shown.find("error"); err != shown.end() && err->is_string()) {
    h.Raw("<p class=\"flash error\" id=\"settings-error\">")
        .Text(err->get<std::string>())
        .Raw("</p>");
  }
  const bool enabled = shown.contains("smtp") && shown["smtp"].value("enabled", false);
  h.Raw("<p class=\"muted\" id=\"smtp-state\">")
      .Text(t(enabled ? "notify.smtp_on" : "notify.smtp_off"))
      .Raw("</p>");
  if (auto it = errors.find(""); it != errors.end()) {
    h.Raw("<p class=\"flash error\">").Text(it->second).Raw("</p>");
  }
  h.Raw("<form method=\"post\" action=\"").Raw(kPage).Raw("\" class=\"form\" id=\"smtp-form\">");
  CsrfField(h, pr);
  h.Hidden("action", "settings");
  auto label = [&](const std::string& field, const char* label_key) {
    h.Raw("<label")
        .Raw(errors.count(field) ? " class=\"invalid\"" : "")
        .Raw(">")
        .Text(t(label_key));
    SourceTag(h, t, NotifySettingSource(shown, field));
  };
  auto input = [&](const std::string& field, const char* label_key, const char* help_key,
                   const char* extra = "") {
    label(field, label_key);
    h.Raw("<input name=\"")
        .Text(field)
        .Raw("\" value=\"")
        .Text(text.count(field) ? text.at(field) : "")
        .Raw("\"")
        .Raw(extra)
        .Raw(">");
    FieldError(h, errors, field);
    if (help_key) h.Raw("<small class=\"muted\">").Text(t(help_key)).Raw("</small>");
    h.Raw("</label>");
  };
  h.Raw("<div class=\"cols\">");
  input("smtp.host", "notify.smtp_host", "notify.smtp_host_help");
  input("smtp.port", "notify.smtp_port", "notify.smtp_port_help", " inputmode=\"numeric\"");
  h.Raw("</div><div class=\"cols\">");
  label("smtp.security", "notify.smtp_security");
  h.Raw("<select name=\"smtp.security\">");
  const std::string security = text.count("smtp.security") ? text.at("smtp.security") : "none";
  for (const char* s : {"none", "starttls", "tls"}) {
    h.Raw("<option value=\"")
        .Raw(s)
        .Raw("\"")
        .Raw(security == s ? " selected" : "")
        .Raw(">")
        .Text(t(std::string("notify.security_") + s))
        .Raw("</option>");
  }
  h.Raw("</select>");
  FieldError(h, errors, "smtp.security");
  h.Raw("</label>");
  input("smtp.from", "notify.smtp_from", nullptr, " type=\"email\"");
  h.Raw("</div><div class=\"cols\">");
  input("smtp.user", "notify.smtp_user", "notify.smtp_user_help", " autocomplete=\"off\"");
  // The password is write-only: the page says whether one is set, never what it is.
  const bool password_set = shown.contains("smtp") && shown["smtp"].value("password_set", false);
  label(kSmtpPasswordField, "notify.smtp_password");
  h.Raw(" <span class=\"tag\" id=\"smtp-password-state\">")
      .Text(t(password_set ? "notify.password_set" : "notify.password_not_set"))
      .Raw(
          "</span><input type=\"password\" name=\"smtp.password\" value=\"\" "
          "autocomplete=\"new-password\">");
  FieldError(h, errors, kSmtpPasswordField);
  h.Raw("<small class=\"muted\">").Text(t("notify.smtp_password_help")).Raw("</small></label>");
  h.Raw("</div>");
  if (password_set && NotifySettingSource(shown, kSmtpPasswordField) == "settings") {
    h.Raw("<label class=\"check\"><input type=\"checkbox\" name=\"smtp.password_clear\">")
        .Text(t("notify.password_clear"))
        .Raw("</label>");
  }
  h.Raw("<div class=\"cols\">");
  input("public_url", "notify.public_url", "notify.public_url_help");
  input("gpu_idle_minutes", "notify.gpu_idle", "notify.gpu_idle_help", " inputmode=\"decimal\"");
  h.Raw("</div><p class=\"muted\">")
      .Text(t("notify.empty_is_startup"))
      .Raw("</p><button type=\"submit\" class=\"primary\">")
      .Text(t("form.save"))
      .Raw("</button></form></section>");
}

void TestMailCard(Html& h, const PanelRequest& pr, const std::string& own_email) {
  const Translator& t = pr.t;
  h.Raw("<section class=\"card\" id=\"test-mail\"><h2>")
      .Text(t("notify.test_mail"))
      .Raw("</h2><form method=\"post\" action=\"")
      .Raw(kPage)
      .Raw("\" class=\"inline-form\" id=\"test-mail-form\">");
  CsrfField(h, pr);
  h.Hidden("action", "test_mail")
      .Raw("<input name=\"to\" type=\"email\" required placeholder=\"name@example.org\" value=\"")
      .Text(own_email)
      .Raw("\"><button type=\"submit\">")
      .Text(t("notify.send_test"))
      .Raw("</button></form><small class=\"muted\">")
      .Text(t("notify.test_mail_help"))
      .Raw("</small></section>");
}

void TargetsCard(Html& h, const PanelRequest& pr, const std::vector<NotifyTargetRow>& targets,
                 const TargetForm& f) {
  const Translator& t = pr.t;
  h.Raw("<section class=\"card\" id=\"targets-card\"><h2>").Text(t("notify.targets")).Raw("</h2>");
  if (targets.empty()) {
    h.Raw("<p class=\"muted\" id=\"targets-none\">").Text(t("notify.no_targets")).Raw("</p>");
  } else {
    h.Raw("<table class=\"list\" id=\"targets\"><thead><tr><th>#</th><th>")
        .Text(t("notify.target_name"))
        .Raw("</th><th>")
        .Text(t("notify.kind"))
        .Raw("</th><th>")
        .Text(t("notify.address"))
        .Raw("</th><th>")
        .Text(t("notify.events"))
        .Raw("</th><th>")
        .Text(t("user.state"))
        .Raw("</th><th></th></tr></thead><tbody>");
  }
  for (const NotifyTargetRow& target : targets) {
    const std::string id = std::to_string(target.id);
    h.Raw("<tr data-target=\"")
        .Raw(id)
        .Raw("\"")
        .Raw(target.enabled ? "" : " class=\"revoked\"")
        .Raw("><td>")
        .Raw(id)
        .Raw("</td>")
        .Elem("td", target.name)
        .Raw("<td>")
        .Text(t("notify.kind_" + target.kind));
    if (target.kind == "webhook") {
      h.Raw(" <span class=\"muted\">").Text(t("notify.format_" + target.format)).Raw("</span>");
    }
    h.Raw("</td>").Elem("td class=\"mono\"", target.address).Raw("<td>");
    for (size_t i = 0; i < target.events.size(); ++i) {
      h.Raw(i ? ", " : "").Text(t("event." + target.events[i]));
    }
    h.Raw("</td><td>")
        .Text(t(target.enabled ? "notify.enabled" : "notify.disabled"))
        .Raw("</td><td class=\"actions\">");
    auto button = [&](const char* action, const char* label_key, const char* cls,
                      const char* confirm_key) {
      h.Raw("<form method=\"post\" action=\"").Raw(kPage).Raw("\" class=\"inline\">");
      CsrfField(h, pr);
      h.Hidden("action", action)
          .Hidden("target_id", id)
          .Raw("<button type=\"submit\" class=\"small")
          .Raw(cls)
          .Raw("\"");
      if (confirm_key) h.Raw(" data-confirm=\"").Text(t(confirm_key)).Raw("\"");
      h.Raw(">").Text(t(label_key)).Raw("</button></form>");
    };
    button("target_test", "notify.send_test", "", nullptr);
    button(target.enabled ? "target_disable" : "target_enable",
           target.enabled ? "notify.disable" : "notify.enable", "", nullptr);
    button("target_delete", "notify.delete", " danger", "notify.delete_confirm");
    h.Raw("</td></tr>");
  }
  if (!targets.empty()) h.Raw("</tbody></table>");

  // Add a target.
  h.Raw("<h2>")
      .Text(t("notify.add_target"))
      .Raw("</h2><form method=\"post\" action=\"")
      .Raw(kPage)
      .Raw("\" class=\"form\" id=\"target-form\">");
  CsrfField(h, pr);
  if (auto it = f.errors.find(""); it != f.errors.end()) {
    h.Raw("<p class=\"flash error\">").Text(it->second).Raw("</p>");
  }
  auto select = [&](const char* name, const char* label_key, const std::string& value,
                    std::initializer_list<std::pair<const char*, std::string>> options) {
    h.Raw("<label")
        .Raw(f.errors.count(name) ? " class=\"invalid\"" : "")
        .Raw(">")
        .Text(t(label_key))
        .Raw("<select name=\"")
        .Raw(name)
        .Raw("\">");
    for (const auto& [v, text] : options) {
      h.Raw("<option value=\"")
          .Raw(v)
          .Raw("\"")
          .Raw(value == v ? " selected" : "")
          .Raw(">")
          .Text(text)
          .Raw("</option>");
    }
    h.Raw("</select>");
    FieldError(h, f.errors, name);
    h.Raw("</label>");
  };
  h.Hidden("action", "target_add")
      .Raw("<div class=\"cols\"><label")
      .Raw(f.errors.count("name") ? " class=\"invalid\"" : "")
      .Raw(">")
      .Text(t("notify.target_name"))
      .Raw("<input name=\"name\" maxlength=\"100\" value=\"")
      .Text(f.name)
      .Raw("\">");
  FieldError(h, f.errors, "name");
  h.Raw("</label>");
  select("kind", "notify.kind", f.kind,
         {{"webhook", std::string(t("notify.kind_webhook"))},
          {"email", std::string(t("notify.kind_email"))}});
  h.Raw("</div><div class=\"cols\"><label")
      .Raw(f.errors.count("address") ? " class=\"invalid\"" : "")
      .Raw(">")
      .Text(t("notify.address"))
      .Raw("<input name=\"address\" required value=\"")
      .Text(f.address)
      .Raw("\" placeholder=\"https://hooks.example.org/... | name@example.org\">");
  FieldError(h, f.errors, "address");
  h.Raw("</label>");
  select("format", "notify.format", f.format,
         {{kFormats[0], std::string(t("notify.format_generic"))},
          {kFormats[1], std::string(t("notify.format_slack"))},
          {kFormats[2], std::string(t("notify.format_dingtalk"))},
          {kFormats[3], std::string(t("notify.format_feishu"))}});
  h.Raw("</div><fieldset class=\"checks")
      .Raw(f.errors.count("events") ? " invalid" : "")
      .Raw("\"><legend>")
      .Text(t("notify.events"))
      .Raw("</legend>");
  for (const char* event : kNotifyEvents) {
    const bool on = std::find(f.events.begin(), f.events.end(), event) != f.events.end();
    h.Raw("<label><input type=\"checkbox\" name=\"events\" value=\"")
        .Raw(event)
        .Raw("\"")
        .Raw(on ? " checked" : "")
        .Raw(">")
        .Text(t(std::string("event.") + event))
        .Raw("</label>");
  }
  FieldError(h, f.errors, "events");
  h.Raw("</fieldset><button type=\"submit\" class=\"primary\">")
      .Text(t("notify.add_target"))
      .Raw("</button></form></section>");
}

void FailedCard(Html& h, const PanelRequest& pr, const std::vector<NotificationRow>& failed) {
  const Translator& t = pr.t;
  h.Raw("<section class=\"card\" id=\"failed-card\"><h2>").Text(t("notify.failed")).Raw("</h2>");
  if (failed.empty()) {
    h.Raw("<p class=\"muted\" id=\"failed-none\">")
        .Text(t("notify.no_failed"))
        .Raw("</p></section>");
    return;
  }
  h.Raw("<table class=\"list\" id=\"failed\"><thead><tr><th>#</th><th>")
      .Text(t("audit.when"))
      .Raw("</th><th>")
      .Text(t("notify.event"))
      .Raw("</th><th>")
      .Text(t("notify.recipient"))
      .Raw("</th><th>")
      .Text(t("notify.attempts"))
      .Raw("</th><th>")
      .Text(t("notify.last_error"))
      .Raw("</th><th></th></tr></thead><tbody>");
  for (const NotificationRow& m : failed) {
    const std::string id = std::to_string(m.id);
    h.Raw("<tr data-notification=\"")
        .Raw(id)
        .Raw("\"><td>")
        .Raw(id)
        .Raw("</td>")
        .Elem("td", ShowTime(m.created_at))
        .Raw("<td>")
        .Text(t("event." + m.event))
        .Raw("<br><span class=\"muted\">")
        .Text(m.subject)
        .Raw("</span></td><td><span class=\"muted\">")
        .Text(t("notify.kind_" + m.channel))
        .Raw("</span> <span class=\"mono\">")
        .Text(m.recipient)
        .Raw("</span></td><td class=\"num\">")
        .Num(m.attempts)
        .Raw("</td>")
        .Elem("td class=\"reason\"", m.last_error)
        .Raw("<td><form method=\"post\" action=\"")
        .Raw(kPage)
        .Raw("\" class=\"inline\">");
    CsrfField(h, pr);
    h.Hidden("action", "retry")
        .Hidden("notification_id", id)
        .Raw("<button type=\"submit\" class=\"small\">")
        .Text(t("notify.retry"))
        .Raw("</button></form></td></tr>");
  }
  h.Raw("</tbody></table>");
  if (static_cast<int>(failed.size()) == kFailedRows) {
    h.Raw("<small class=\"muted\">").Text(t("notify.failed_newest")).Raw("</small>");
  }
  h.Raw("</section>");
}

void NotifyPage(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                PanelRequest& pr, const NotifyPageForm& f, int status = 200) {
  const Translator& t = pr.t;
  const json shown =
      NotifySettingsJson(ctx->db, ctx->clock, ctx->secrets, ctx->notifier->startup());
  Result<std::vector<NotifyTargetRow>> targets = NotifyTargetStore(ctx->db, ctx->clock).List();
  Result<std::vector<NotificationRow>> failed =
      NotifyOutbox(ctx->db, ctx->clock).List("failed", kFailedRows);
  Result<std::string> own_email = GetUserEmail(ctx->db, pr.user.id);
  if (!targets.ok()) return ReplyPanelError(res, 500, targets.status().message());
  if (!failed.ok()) return ReplyPanelError(res, 500, failed.status().message());
  Html h;
  h.Raw("<div class=\"bar-title\"><h1>")
      .Text(t("notify.title"))
      .Raw("</h1><a href=\"/admin/settings\">")
      .Text(t("nav.settings"))
      .Raw("</a></div>");
  SettingsCard(h, pr, shown, f.settings ? *f.settings : NotifySettingsFormText(shown),
               f.settings_errors);
  TestMailCard(h, pr, own_email.ok() ? *own_email : "");
  TargetsCard(h, pr, *targets, f.target);
  FailedCard(h, pr, *failed);
  ReplyPage(res, pr, req, t("notify.title"), "settings", h.Take(), status);
}

// The id in form field `name`, or 0.
int64_t FormId(const httplib::Request& req, const char* name) {
  std::string text = FormValue(req, name);
  int64_t id = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  return ec == std::errc() && ptr == text.data() + text.size() && id > 0 ? id : 0;
}

// "field: message" for the flash after a redirect (the field tells which input was wrong).
std::string ErrorText(const Status& s) {
  return s.field().empty() ? s.message() : s.field() + ": " + s.message();
}

void SaveSettings(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                  PanelRequest& pr) {
  NotifyPageForm f;
  FormText typed;
  for (const char* field : kNotifySettingsFields) typed[field] = FormValue(req, field);
  const json current =
      NotifySettingsJson(ctx->db, ctx->clock, ctx->secrets, ctx->notifier->startup());
  const json body =
      NotifySettingsBody(typed, NotifySettingsFormText(current), FormValue(req, kSmtpPasswordField),
                         FormChecked(req, "smtp.password_clear"));
  if (body.empty()) return RedirectTo(res, kPage, "msg.saved");
  // Each field alone through the API's own check, so every wrong field is named at once.
  for (const auto& [field, one] : SplitNotifySettingsBody(body)) {
    if (Status s = CheckNotifySettings(one); !s.ok()) {
      f.settings_errors[s.field().empty() ? field : s.field()] = s.message();
    }
  }
  if (f.settings_errors.empty()) {
    Status s = SaveNotifySettings(ctx, pr.user.id, body);
    if (s.ok()) return RedirectTo(res, kPage, "msg.saved");
    f.settings_errors[s.code() == ErrorCode::kInvalidArgument ? s.field() : ""] = s.message();
  }
  f.settings = typed;
  NotifyPage(ctx, req, res, pr, f, 400);
}

void AddTarget(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
               PanelRequest& pr) {
  NotifyPageForm f;
  f.target.name = FormValue(req, "name");
  f.target.kind = FormValue(req, "kind");
  f.target.address = FormValue(req, "address");
  f.target.format = FormValue(req, "format");
  f.target.events.clear();
  for (size_t i = 0; i < req.get_param_value_count("events"); ++i) {
    f.target.events.push_back(req.get_param_value("events", i));
  }
  Result<NotifyTargetRow> row = CreateNotifyTarget(ctx, pr.user.id, TargetBody(f.target));
  if (row.ok()) return RedirectTo(res, kPage, "msg.target_added");
  const Status& s = row.status();
  if (s.code() != ErrorCode::kInvalidArgument) return RedirectTo(res, kPage, {}, s.message());
  f.target.errors[s.field()] = s.message();
  NotifyPage(ctx, req, res, pr, f, 400);
}

void NotifyAction(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                  PanelRequest& pr) {
  const std::string action = FormValue(req, "action");
  if (action == "settings") return SaveSettings(ctx, req, res, pr);
  if (action == "target_add") return AddTarget(ctx, req, res, pr);
  if (action == "test_mail") {
    std::string to = FormValue(req, "to");
    while (!to.empty() && std::isspace(static_cast<unsigned char>(to.back()))) to.pop_back();
    while (!to.empty() && std::isspace(static_cast<unsigned char>(to.front()))) to.erase(0, 1);
    Status s = SendTestMailTo(ctx, to);
    if (!s.ok()) return RedirectTo(res, kPage, {}, ErrorText(s));
    return RedirectTo(res, kPage, "msg.test_sent");
  }
  if (action == "retry") {
    const int64_t id = FormId(req, "notification_id");
    if (id == 0) return RedirectTo(res, kPage, {}, "notification_id: not a notification id");
    Result<NotificationRow> row = RetryNotification(ctx, pr.user.id, id);
    if (!row.ok()) return RedirectTo(res, kPage, {}, row.status().message());
    return RedirectTo(res, kPage, "msg.retry_queued");
  }
  const int64_t id = FormId(req, "target_id");
  if (action.rfind("target_", 0) == 0 && id == 0) {
    return RedirectTo(res, kPage, {}, "target_id: not a target id");
  }
  if (action == "target_test") {
    Status s = SendNotifyTargetTest(ctx, id);
    if (!s.ok()) return RedirectTo(res, kPage, {}, ErrorText(s));
    return RedirectTo(res, kPage, "msg.test_sent");
  }
  if (action == "target_enable" || action == "target_disable") {
    Result<NotifyTargetRow> row =
        UpdateNotifyTarget(ctx, pr.user.id, id, {{"enabled", action == "target_enable"}});
    if (!row.ok()) return RedirectTo(res, kPage, {}, row.status().message());
    return RedirectTo(res, kPage, "msg.saved");
  }
  if (action == "target_delete") {
    if (Status s = DeleteNotifyTarget(ctx, pr.user.id, id); !s.ok()) {
      return RedirectTo(res, kPage, {}, s.message());
    }
    return RedirectTo(res, kPage, "msg.deleted");
  }
  ReplyPanelError(res, 400, "action: unknown");
}

}  // namespace

void RegisterPanelNotifyRoutes(httplib::Server& server, WebContext* ctx) {
  // Like the API's, these need the master's notifier (its startup settings, "send test").
  if (ctx->notifier == nullptr) return;
  server.Get(kPage,
             PanelPage(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, PanelRequest& pr) {
               const NotifyPageForm blank;  // (a temporary here crashes GCC 12)
               NotifyPage(ctx, req, res, pr, blank);
             }));
  server.Post(kPage, PanelForm(ctx, Role::kAdmin, NotifyAction));
}

}  // namespace gpuq
