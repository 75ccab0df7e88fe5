// Page: /admin/account: the user's SSH credential (remote user and private key; shown back
// only as the public key's fingerprint), API tokens (create, list, revoke), password,
// language, and e-mail notifications (address and default, saved as the API saves them).
// Everything here is the logged-in user's own.
#include <charconv>

#include "master/secrets/password.h"
#include "master/secrets/token.h"
#include "master/store/audit_log.h"
#include "master/store/credential_store.h"
#include "master/store/notify_store.h"
#include "master/store/token_store.h"
#include "web/account_rules.h"
#include "web/notify_actions.h"
#include "web/panel.h"
#include "web/panel_notify_form.h"

namespace gpuq {
namespace {

struct AccountForm {
  std::string remote_user;                    // as typed (the key is never echoed)
  std::map<std::string, std::string> errors;  // by field
  std::string new_token;                      // shown once, right after creation
  // The notification form as typed, when it was refused.
  std::optional<std::string> email, notify_default;
};

void Error(Html& h, const AccountForm& f, const char* field) { FieldError(h, f.errors, field); }

// E-mail notifications: the user's address and what new tasks do by default.
void NotificationsCard(WebContext* ctx, Html& h, const PanelRequest& pr, const AccountForm& f) {
  const Translator& t = pr.t;
  Result<std::string> stored = GetUserEmail(ctx->db, pr.user.id);
  const std::string email = f.email ? *f.email : stored.ok() ? *stored : "";
  const std::string notify = f.notify_default ? *f.notify_default : pr.user.notify_default;
  h.Raw("<section class=\"card\" id=\"notifications\"><h2>")
      .Text(t("account.notifications"))
      .Raw(
          "</h2><form method=\"post\" action=\"/admin/account\" class=\"form\" "
          "id=\"notify-form\">");
  CsrfField(h, pr);
  h.Hidden("action", "notifications")
      .Raw("<div class=\"cols\"><label")
      .Raw(f.errors.count("email") ? " class=\"invalid\"" : "")
      .Raw(">")
      .Text(t("account.email"))
      .Raw("<input name=\"email\" type=\"email\" maxlength=\"254\" value=\"")
      .Text(email)
      .Raw("\" placeholder=\"name@example.org\">");
  Error(h, f, "email");
  h.Raw("<small class=\"muted\">")
      .Text(t("account.email_help"))
      .Raw("</small></label><label")
      .Raw(f.errors.count("notify_default") ? " class=\"invalid\"" : "")
      .Raw(">")
      .Text(t("account.notify_default"))
      .Raw("<select name=\"notify_default\">");
  for (const char* v : {"end", "failure", "off"}) {
    h.Raw("<option value=\"")
        .Raw(v)
        .Raw("\"")
        .Raw(notify == v ? " selected" : "")
        .Raw(">")
        .Text(t(std::string("notify.") + v))
        .Raw("</option>");
  }
  h.Raw("</select>");
  Error(h, f, "notify_default");
  h.Raw("<small class=\"muted\">")
      .Text(t("account.notify_default_help"))
      .Raw("</small></label></div><button type=\"submit\" class=\"primary\">")
      .Text(t("form.save"))
      .Raw("</button></form></section>");
}

void AccountPage(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                 PanelRequest& pr, const AccountForm& f, int status = 200) {
  const Translator& t = pr.t;
  Result<std::optional<CredentialRow>> cred = CredentialStore(ctx->db, ctx->clock).Get(pr.user.id);
  Result<std::vector<ApiTokenRow>> tokens = TokenStore(ctx->db, ctx->clock).List(pr.user.id);
  if (!cred.ok()) return ReplyPanelError(res, 500, cred.status().message());
  if (!tokens.ok()) return ReplyPanelError(res, 500, tokens.status().message());
  Html h;
  h.Raw("<h1>")
      .Text(t("nav.account"))
      .Raw(" · ")
      .Text(pr.user.username)
      .Raw("</h1><div class=\"two\">");

  // SSH credential.
  h.Raw("<section class=\"card\"><h2>").Text(t("account.credential")).Raw("</h2>");
  if (cred->has_value()) {
    h.Raw("<p>")
        .Text(t("account.remote_user"))
        .Raw(": <b id=\"cred-user\">")
        .Text((*cred)->remote_user)
        .Raw("</b><br>")
        .Text(t("account.fingerprint"))
        .Raw(": <code id=\"cred-fingerprint\">")
        .Text((*cred)->public_key_sha256)
        .Raw("</code></p>");
  } else {
    h.Raw("<p class=\"muted\" id=\"cred-none\">").Text(t("account.no_credential")).Raw("</p>");
  }
  h.Raw("<form method=\"post\" action=\"/admin/account\" class=\"form\" id=\"credential-form\">");
  CsrfField(h, pr);
  h.Hidden("action", "credential")
      .Raw("<label>")
      .Text(t("account.remote_user"))
      .Raw("<input name=\"remote_user\" required value=\"")
      .Text(f.remote_user.empty() && cred->has_value() ? (*cred)->remote_user : f.remote_user)
      .Raw("\">");
  Error(h, f, "remote_user");
  h.Raw("</label><label>")
      .Text(t("account.private_key"))
      .Raw(
          "<textarea name=\"private_key\" rows=\"5\" class=\"mono\" required autocomplete=\"off\" "
          "placeholder=\"-----BEGIN OPENSSH PRIVATE KEY-----\"></textarea>");
  Error(h, f, "private_key");
  h.Raw("</label><button type=\"submit\" class=\"primary\">")
      .Text(t("form.save"))
      .Raw("</button></form></section>");

  // Password and language.
  h.Raw("<section class=\"card\"><h2>")
      .Text(t("account.password"))
      .Raw(
          "</h2>"
          "<form method=\"post\" action=\"/admin/account\" class=\"form\" id=\"password-form\">");
  CsrfField(h, pr);
  h.Hidden("action", "password")
      .Raw("<label>")
      .Text(t("account.current_password"))
      .Raw(
          "<input type=\"password\" name=\"current_password\" autocomplete=\"current-password\" "
          "required>");
  Error(h, f, "current_password");
  h.Raw("</label><label>")
      .Text(t("account.new_password"))
      .Raw(
          "<input type=\"password\" name=\"new_password\" autocomplete=\"new-password\" required>");
  Error(h, f, "new_password");
  h.Raw("</label><button type=\"submit\">")
      .Text(t("account.change_password"))
      .Raw(
          "</button></form>"
          "<h2>")
      .Text(t("account.language"))
      .Raw("</h2><form method=\"post\" action=\"/admin/account\" class=\"inline-form\">");
  CsrfField(h, pr);
  h.Hidden("action", "lang").Raw("<select name=\"lang\">");
  for (const char* l : {"", "en", "zh"}) {
    h.Raw("<option value=\"")
        .Raw(l)
        .Raw("\"")
        .Raw(pr.user.lang == l ? " selected" : "")
        .Raw(">")
        .Text(t(std::string("lang.") + (*l ? l : "browser")))
        .Raw("</option>");
  }
  h.Raw("</select><button type=\"submit\">")
      .Text(t("form.save"))
      .Raw("</button></form></section></div>");

  NotificationsCard(ctx, h, pr, f);

  // API tokens.
  h.Raw("<section class=\"card\"><h2>").Text(t("account.tokens")).Raw("</h2>");
  if (!f.new_token.empty()) {
    h.Raw("<p class=\"flash ok\">")
        .Text(t("account.token_once"))
        .Raw("<br><code id=\"new-token\">")
        .Text(f.new_token)
        .Raw("</code></p>");
  }
  h.Raw("<table class=\"list\" id=\"tokens\"><thead><tr><th>#</th><th>")
      .Text(t("account.token_name"))
      .Raw("</th><th>")
      .Text(t("task.created"))
      .Raw("</th><th>")
      .Text(t("account.last_used"))
      .Raw("</th><th></th></tr></thead><tbody>");
  for (const ApiTokenRow& token : *tokens) {
    h.Raw("<tr")
        .Raw(token.revoked_at ? " class=\"revoked\"" : "")
        .Raw("><td>")
        .Num(token.id.value)
        .Raw("</td>")
        .Elem("td", token.name)
        .Elem("td", ShowTime(token.created_at))
        .Elem("td", ShowTime(token.last_used_at.value_or(0)))
        .Raw("<td>");
    if (token.revoked_at) {
      h.Text(t("account.revoked"));
    } else {
      h.Raw("<form method=\"post\" action=\"/admin/account\" class=\"inline\">");
      CsrfField(h, pr);
      h.Hidden("action", "token_revoke")
          .Hidden("token_id", std::to_string(token.id.value))
          .Raw("<button type=\"submit\" class=\"danger small\">")
          .Text(t("account.revoke"))
          .Raw("</button></form>");
    }
    h.Raw("</td></tr>");
  }
  h.Raw("</tbody></table><form method=\"post\" action=\"/admin/account\" class=\"inline-form\">");
  CsrfField(h, pr);
  h.Hidden("action", "token_create")
      .Raw("<input name=\"token_name\" placeholder=\"")
      .Text(t("account.token_name"))
      .Raw("\" maxlength=\"200\"><button type=\"submit\">")
      .Text(t("account.create_token"))
      .Raw("</button>");
  Error(h, f, "token_name");
  h.Raw("</form></section>");
  ReplyPage(res, pr, req, t("nav.account"), "account", h.Take(), status);
}

void AccountAction(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                   PanelRequest& pr) {
  const std::string action = FormValue(req, "action");
  AccountForm f;
  AuditLog audit(ctx->db, ctx->clock);
  const std::string target = "user " + pr.user.username;
  if (action == "credential") {
    f.remote_user = FormValue(req, "remote_user");
    const std::string key = FormValue(req, "private_key");
    if (Status s = ValidateAccountName(f.remote_user, "remote_user"); !s.ok())
      f.errors["remote_user"] = s.message();
    Result<std::string> fingerprint = Status::InvalidArgument("is required", "private_key");
    if (key.size() > 16384) {
      f.errors["private_key"] = "must be at most 16384 bytes";
    } else if (!key.empty()) {
      fingerprint = ctx->actions->FingerprintPrivateKey(key);
      if (!fingerprint.ok()) f.errors["private_key"] = fingerprint.status().message();
    } else {
      f.errors["private_key"] = "is required";
    }
    if (!f.errors.empty()) return AccountPage(ctx, req, res, pr, f, 400);
    Status s = CredentialStore(ctx->db, ctx->clock)
                   .Put(pr.user.id, f.remote_user, ctx->secrets->Seal(key), *fingerprint);
    if (!s.ok()) return RedirectTo(res, "/admin/account", {}, s.message());
    audit.Record(pr.user.id, "credential.put", target, f.remote_user + " " + *fingerprint);
    ctx->actions->CredentialChanged(pr.user.id);
    return RedirectTo(res, "/admin/account", "msg.credential_saved");
  }
  if (action == "password") {
    const std::string current = FormValue(req, "current_password");
    const std::string next = FormValue(req, "new_password");
    if (!VerifyPassword(pr.user.password_hash, current)) f.errors["current_password"] = "is wrong";
    if (next.size() < kMinPasswordBytes || next.size() > kMaxPasswordBytes) {
      f.errors["new_password"] = "must be 8 to 1024 characters";
    }
    if (!f.errors.empty()) return AccountPage(ctx, req, res, pr, f, 400);
    Result<std::string> hash = HashPassword(next);
    if (!hash.ok()) return RedirectTo(res, "/admin/account", {}, hash.status().message());
    if (Status s = UserStore(ctx->db, ctx->clock).SetPasswordHash(pr.user.id, *hash); !s.ok()) {
      return RedirectTo(res, "/admin/account", {}, s.message());
    }
    audit.Record(pr.user.id, "user.password", target, "");
    // Every session of the user ends, this one too: log in with the new password.
    (void)WebSessionStore(ctx->db, ctx->clock).DeleteForUser(pr.user.id);
    return RedirectTo(res, "/admin/login", "msg.password_changed");
  }
  if (action == "lang") {
    const std::string lang = FormValue(req, "lang");
    Status s =
        UserStore(ctx->db, ctx->clock).SetPreferences(pr.user.id, lang, pr.user.notify_default);
    if (!s.ok()) return RedirectTo(res, "/admin/account", {}, s.message());
    return RedirectTo(res, "/admin/account", "msg.saved");
  }
  if (action == "notifications") {
    f.email = FormValue(req, "email");
    f.notify_default = FormValue(req, "notify_default");
    // The same code as PUT /api/v1/me/notifications, so both check the same way.
    Result<UserRow> saved =
        SaveMyNotifications(ctx, pr.user, MyNotificationsBody(*f.email, *f.notify_default));
    if (saved.ok()) return RedirectTo(res, "/admin/account", "msg.saved");
    if (saved.status().code() != ErrorCode::kInvalidArgument) {
      return RedirectTo(res, "/admin/account", {}, saved.status().message());
    }
    f.errors[saved.status().field()] = saved.status().message();
    return AccountPage(ctx, req, res, pr, f, 400);
  }
  if (action == "token_create") {
    std::string name = FormValue(req, "token_name");
    if (name.size() > 200) {
      f.errors["token_name"] = "must be at most 200 bytes";
      return AccountPage(ctx, req, res, pr, f, 400);
    }
    if (name.empty()) name = "panel";
    f.new_token = NewApiToken();
    Result<ApiTokenId> id =
        TokenStore(ctx->db, ctx->clock).Insert(pr.user.id, Sha256Hex(f.new_token), name);
    if (!id.ok()) return RedirectTo(res, "/admin/account", {}, id.status().message());
    audit.Record(pr.user.id, "token.create", "token " + std::to_string(id->value), name);
    return AccountPage(ctx, req, res, pr, f, 201);
  }
  if (action == "token_revoke") {
    std::string text = FormValue(req, "token_id");
    int64_t id = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || id <= 0)
      return RedirectTo(res, "/admin/account", {}, "token_id: not a token id");
    if (Status s = TokenStore(ctx->db, ctx->clock).Revoke(ApiTokenId(id), pr.user.id); !s.ok()) {
      return RedirectTo(res, "/admin/account", {}, s.message());
    }
    audit.Record(pr.user.id, "token.revoke", "token " + std::to_string(id), "");
    return RedirectTo(res, "/admin/account", "msg.token_revoked");
  }
  ReplyPanelError(res, 400, "action: unknown");
}

}  // namespace

void RegisterPanelAccountRoutes(httplib::Server& server, WebContext* ctx) {
  server.Get("/admin/account",
             PanelPage(ctx, Role::kAnyUser, [ctx](const auto& req, auto& res, PanelRequest& pr) {
               AccountPage(ctx, req, res, pr, AccountForm{});
             }));
  server.Post("/admin/account", PanelForm(ctx, Role::kAnyUser, AccountAction));
}

}  // namespace gpuq
