// Pages: /admin/login (GET, POST), /admin/logout (POST).
#include "master/secrets/password.h"
#include "master/secrets/token.h"
#include "master/store/audit_log.h"
#include "web/panel.h"
#include "web/session.h"

namespace gpuq {
namespace {

// Only a path inside the panel: never another site ("//evil", "https://...").
std::string SafeNext(const std::string& next) {
  if (next.rfind("/admin", 0) != 0 || next.find("//") != std::string::npos ||
      next.find('\\') != std::string::npos || next.rfind("/admin/login", 0) == 0) {
    return "/admin";
  }
  return next;
}

void LoginPage(WebContext* ctx, const httplib::Request& req, httplib::Response& res, int status,
               std::string_view error, const std::string& username) {
  const Translator t(PickLanguage("", req.get_header_value("Accept-Language")));
  // A fresh double-submit token per form shown.
  std::string csrf = RandomUrlSafeToken(24);
  res.set_header("Set-Cookie", SetCookieValue(kLoginCsrfCookie, csrf, 3600, ctx->tls));
  Html h;
  DocumentHead(h, t, t("login.title"));
  h.Raw(
       "</head><body><main class=\"narrow\"><h1 class=\"brand-big\">gpuq</h1><form method=\"post\" "
       "action=\"/admin/login\" class=\"card form\">")
      .Hidden("csrf_token", csrf)
      .Hidden("next", SafeNext(FormValue(req, "next")));
  if (!error.empty()) h.Raw("<p class=\"flash error\" id=\"login-error\">").Text(error).Raw("</p>");
  h.Raw("<label>")
      .Text(t("login.username"))
      .Raw("<input name=\"username\" autocomplete=\"username\" required autofocus value=\"")
      .Text(username)
      .Raw("\"></label><label>")
      .Text(t("login.password"))
      .Raw(
          "<input name=\"password\" type=\"password\" autocomplete=\"current-password\" "
          "required></label><button type=\"submit\" class=\"primary\">")
      .Text(t("login.submit"))
      .Raw("</button></form></main></body></html>");
  res.status = status;
  res.set_content(h.Take(), "text/html; charset=utf-8");
}

void Login(WebContext* ctx, const httplib::Request& req, httplib::Response& res) {
  const Translator t(PickLanguage("", req.get_header_value("Accept-Language")));
  std::optional<std::string> cookie = CookieValue(req.get_header_value("Cookie"), kLoginCsrfCookie);
  if (!cookie || !CsrfTokenMatches(*cookie, FormValue(req, "csrf_token"))) {
    return ReplyPanelError(
        res, 403, "The form's CSRF token is missing or wrong: reload the page and try again.");
  }
  const std::string username = FormValue(req, "username");
  const std::string password = FormValue(req, "password");
  if (ctx->login_limiter->Blocked(username, req.remote_addr)) {
    return LoginPage(ctx, req, res, 429, t("login.limited"), username);
  }
  Result<UserRow> user = UserStore(ctx->db, ctx->clock).FindByName(username);
  if (!user.ok() || user->disabled || !VerifyPassword(user->password_hash, password)) {
    ctx->login_limiter->RecordFailure(username, req.remote_addr);
    return LoginPage(ctx, req, res, 401, t("login.wrong"), username);
  }
  ctx->login_limiter->RecordSuccess(username);
  WebSessionStore sessions(ctx->db, ctx->clock);
  (void)sessions.DeleteExpired();  // housekeeping; a failure here must not block a login
  NewSession session = MakeSession(user->id, ctx->clock->NowUnixMs(), SessionOptions{});
  if (Status s = sessions.Create(session.row); !s.ok()) {
    return ReplyPanelError(res, 500, "Cannot store the session: " + s.message());
  }
  AuditLog(ctx->db, ctx->clock)
      .Record(user->id, "session.login", "user " + user->username, req.remote_addr);
  res.set_header("Set-Cookie", SetCookieValue(kSessionCookie, session.cookie_value,
                                              SessionOptions{}.ttl_ms / 1000, ctx->tls));
  RedirectTo(res, SafeNext(FormValue(req, "next")));
}

}  // namespace

void RegisterPanelAuthRoutes(httplib::Server& server, WebContext* ctx) {
  server.Get("/admin/login", [ctx](const httplib::Request& req, httplib::Response& res) {
    if (SessionFromRequest(ctx, req).ok()) return RedirectTo(res, "/admin");
    LoginPage(ctx, req, res, 200, "", "");
  });
  server.Post("/admin/login", Guarded([ctx](const httplib::Request& req, httplib::Response& res) {
                Login(ctx, req, res);
              }));
  server.Post("/admin/logout",
              PanelForm(ctx, Role::kAnyUser, [ctx](const auto&, auto& res, PanelRequest& pr) {
                (void)WebSessionStore(ctx->db, ctx->clock).Delete(pr.session.id_sha256);
                res.set_header("Set-Cookie", SetCookieValue(kSessionCookie, "", 0, ctx->tls));
                RedirectTo(res, "/admin/login");
              }));
}

}  // namespace gpuq
