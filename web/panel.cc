#include "web/panel.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>

#include "common/embedded_file.h"
#include "master/secrets/token.h"
#include "web/session.h"

namespace gpuq {

extern const EmbeddedFile kPanelAssets[];
extern const int kPanelAssetsCount;

namespace {

constexpr char kFlashCookie[] = "gpuq_flash";

// Catalogue keys a redirect may name in ?msg=; anything else is not shown.
bool IsFlashKey(std::string_view key) { return key.rfind("msg.", 0) == 0; }

struct NavItem {
  const char* id;
  const char* href;
  const char* label_key;
  bool admin_only;
};
constexpr NavItem kNav[] = {
    {"dashboard", "/admin", "nav.dashboard", false},
    {"nodes", "/admin/nodes", "nav.nodes", false},
    {"tasks", "/admin/tasks", "nav.tasks", false},
    {"account", "/admin/account", "nav.account", false},
    {"users", "/admin/users", "nav.users", true},
    {"settings", "/admin/settings", "nav.settings", true},
    {"audit", "/admin/audit", "nav.audit", true},
};

httplib::Server::Handler Wrap(WebContext* ctx, Role role, bool form, PanelHandler handler) {
  return [ctx, role, form, handler = std::move(handler)](const httplib::Request& req,
                                                         httplib::Response& res) {
    try {
      Result<std::pair<WebSessionRow, UserRow>> found = SessionFromRequest(ctx, req);
      if (!found.ok()) {
        if (form) return ReplyPanelError(res, 401, "Log in first: your session has ended.");
        return RedirectTo(res, "/admin/login?next=" + UrlEncode(req.target));
      }
      const Translator t(PickLanguage(found->second.lang, req.get_header_value("Accept-Language")));
      PanelRequest pr{std::move(found->second), std::move(found->first), t};
      if (form && !CsrfTokenMatches(pr.session.csrf_token, FormValue(req, "csrf_token"))) {
        return ReplyPanelError(
            res, 403, "The form's CSRF token is missing or wrong: reload the page and try again.");
      }
      if (role == Role::kAdmin && !pr.admin()) {
        return ReplyPanelError(res, 403, "Only an admin may open this page.");
      }
      handler(req, res, pr);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", req.method, req.path, e.what());
      ReplyPanelError(res, 500, "Internal error.");
    }
  };
}

}  // namespace

Result<std::pair<WebSessionRow, UserRow>> SessionFromRequest(WebContext* ctx,
                                                             const httplib::Request& req) {
  std::optional<std::string> cookie = CookieValue(req.get_header_value("Cookie"), kSessionCookie);
  if (!cookie || cookie->empty()) return Status::Unauthenticated("no session");
  Result<std::pair<WebSessionRow, UserRow>> found =
      WebSessionStore(ctx->db, ctx->clock).FindLive(Sha256Hex(*cookie));
  if (!found.ok() && found.status().code() == ErrorCode::kNotFound) {
    return Status::Unauthenticated("the session has ended; log in again");
  }
  return found;
}

httplib::Server::Handler PanelPage(WebContext* ctx, Role role, PanelHandler handler) {
  return Wrap(ctx, role, false, std::move(handler));
}

httplib::Server::Handler PanelForm(WebContext* ctx, Role role, PanelHandler handler) {
  return Wrap(ctx, role, true, std::move(handler));
}

httplib::Server::Handler PanelPage(WebContext* ctx, Role role, PanelRoute route) {
  return PanelPage(ctx, role,
                   [ctx, route](const httplib::Request& req, httplib::Response& res,
                                PanelRequest& pr) { route(ctx, req, res, pr); });
}

httplib::Server::Handler PanelForm(WebContext* ctx, Role role, PanelRoute route) {
  return PanelForm(ctx, role,
                   [ctx, route](const httplib::Request& req, httplib::Response& res,
                                PanelRequest& pr) { route(ctx, req, res, pr); });
}

void DocumentHead(Html& h, const Translator& t, std::string_view title) {
  h.Raw("<!doctype html><html lang=\"")
      .Raw(t.lang() == "zh" ? "zh-CN" : "en")
      .Raw(
          "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
          "content=\"width=device-width, initial-scale=1\"><title>")
      .Text(title)
      .Raw(" · gpuq</title><link rel=\"stylesheet\" href=\"/admin/static/panel.css\">");
}

void ReplyPage(httplib::Response& res, const PanelRequest& pr, const httplib::Request& req,
               std::string_view title, std::string_view active, const std::string& body,
               int status) {
  const Translator& t = pr.t;
  Html h;
  DocumentHead(h, t, title);
  h.Raw(
      "<script src=\"/admin/static/panel.js\" defer></script></head><body>"
      "<header class=\"top\"><a class=\"brand\" href=\"/admin\">gpuq</a><nav>");
  for (const NavItem& item : kNav) {
    if (item.admin_only && !pr.admin()) continue;
    h.Raw("<a href=\"")
        .Raw(item.href)
        .Raw("\"")
        .Raw(active == item.id ? " class=\"active\"" : "")
        .Raw(">")
        .Text(t(item.label_key))
        .Raw("</a>");
  }
  h.Raw("</nav><div class=\"who\"><span id=\"who\">")
      .Text(pr.user.username)
      .Raw("</span> <span class=\"muted\">")
      .Text(t(std::string("role.") + UserRoleName(pr.user.role)))
      .Raw("</span><form method=\"post\" action=\"/admin/logout\" class=\"inline\">");
  CsrfField(h, pr);
  h.Raw("<button class=\"link\" type=\"submit\">")
      .Text(t("nav.logout"))
      .Raw("</button></form></div></header><main>");
  if (req.has_param("msg") && IsFlashKey(req.get_param_value("msg"))) {
    h.Raw("<p class=\"flash ok\">").Text(t(req.get_param_value("msg"))).Raw("</p>");
  }
  if (std::optional<std::string> err = CookieValue(req.get_header_value("Cookie"), kFlashCookie);
      err && !err->empty()) {
    h.Raw("<p class=\"flash error\" id=\"flash-error\">")
        .Text(httplib::detail::decode_url(*err, false))
        .Raw("</p>");
    res.set_header("Set-Cookie", std::string(kFlashCookie) + "=; Path=/admin; Max-Age=0");
  }
  h.Raw(body).Raw("</main></body></html>");
  res.status = status;
  res.set_content(h.Take(), "text/html; charset=utf-8");
}

void ReplyPanelError(httplib::Response& res, int status, std::string_view message) {
  Html h;
  h.Raw(
       "<!doctype html><html><head><meta charset=\"utf-8\"><title>gpuq</title>"
       "<link rel=\"stylesheet\" href=\"/admin/static/panel.css\"></head><body><main "
       "class=\"narrow\">"
       "<h1>")
      .Num(status)
      .Raw("</h1><p class=\"flash error\">")
      .Text(message)
      .Raw("</p><p><a href=\"/admin\">gpuq</a></p></main></body></html>");
  res.status = status;
  res.set_content(h.Take(), "text/html; charset=utf-8");
}

void RedirectTo(httplib::Response& res, std::string location, std::string_view msg,
                std::string_view err) {
  if (!msg.empty()) {
    location += (location.find('?') == std::string::npos ? "?msg=" : "&msg=") + UrlEncode(msg);
  }
  // The error text travels in a short-lived cookie, not the URL, so that a link cannot make
  // the panel show text of someone else's choosing.
  if (!err.empty()) {
    res.set_header("Set-Cookie", std::string(kFlashCookie) + "=" + UrlEncode(err.substr(0, 1000)) +
                                     "; Path=/admin; Max-Age=60; HttpOnly; SameSite=Strict");
  }
  res.status = 303;
  res.set_header("Location", location);
}

void CsrfField(Html& h, const PanelRequest& pr) { h.Hidden("csrf_token", pr.session.csrf_token); }

std::string FormValue(const httplib::Request& req, const char* name) {
  return req.has_param(name) ? req.get_param_value(name) : "";
}

bool FormChecked(const httplib::Request& req, const char* name) {
  std::string v = FormValue(req, name);
  return v == "on" || v == "1" || v == "true" || v == "yes";
}

std::string ShowTime(UnixMs t) {
  if (t <= 0) return "—";
  std::string s = FormatRfc3339(t);  // 2026-11-22T01:43:28.123Z
  if (s.size() >= 19) s = s.substr(0, 10) + " " + s.substr(11, 8);
  return s;
}

std::string ShowAge(UnixMs t, UnixMs now) {
  if (t <= 0) return "—";
  int64_t s = std::max<int64_t>(0, (now - t) / 1000);
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m";
  if (s < 86400) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

void Bar(Html& h, double fraction, std::string_view label) {
  char width[16];
  const bool known = fraction >= 0 && std::isfinite(fraction);
  std::snprintf(width, sizeof(width), "%.1f", known ? std::min(1.0, fraction) * 100 : 0.0);
  const char* level = !known ? "unknown" : fraction > 0.9 ? "high" : fraction > 0.5 ? "mid" : "low";
  h.Raw(
       "<span class=\"bar\"><svg viewBox=\"0 0 100 8\" preserveAspectRatio=\"none\" "
       "aria-hidden=\"true\"><rect class=\"track\" width=\"100\" height=\"8\"/><rect class=\"fill ")
      .Raw(level)
      .Raw("\" width=\"")
      .Raw(width)
      .Raw("\" height=\"8\"/></svg><span class=\"bar-label\">")
      .Text(label)
      .Raw("</span></span>");
}

void StatusBadge(Html& h, std::string_view status, const Translator& t) {
  h.Raw("<span class=\"badge s-")
      .Text(status)
      .Raw("\">")
      .Text(t(std::string("status.") + std::string(status)))
      .Raw("</span>");
}

void RegisterPanelAssets(httplib::Server& server) {
  for (int i = 0; i < kPanelAssetsCount; ++i) {
    const EmbeddedFile& f = kPanelAssets[i];
    std::string type =
        f.name.ends_with(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8";
    server.Get("/admin/static/" + std::string(f.name),
               [&f, type](const httplib::Request&, httplib::Response& res) {
                 res.set_header("Cache-Control", "max-age=300");
                 res.set_content(std::string(f.contents), type);
               });
  }
}

void RegisterPanelRoutes(httplib::Server& server, WebContext* ctx) {
  RegisterPanelAssets(server);
  RegisterPanelAuthRoutes(server, ctx);
  RegisterPanelDashboardRoutes(server, ctx);
  RegisterPanelNodeRoutes(server, ctx);
  RegisterPanelTaskRoutes(server, ctx);
  RegisterPanelTaskDetailRoutes(server, ctx);
  RegisterPanelAccountRoutes(server, ctx);
  RegisterPanelAdminRoutes(server, ctx);
  RegisterPanelNotifyRoutes(server, ctx);
}

}  // namespace gpuq
