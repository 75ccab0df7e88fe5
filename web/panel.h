#ifndef GPUQ_WEB_PANEL_H_
#define GPUQ_WEB_PANEL_H_

// The admin panel's common parts: who is asking (session, role, language), the page chrome,
// and the wrappers every page and form goes through. Pages are server-rendered HTML that
// work without JavaScript; web/assets/panel.js only adds live updates.

#include <httplib.h>

#include <functional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "master/store/user_store.h"
#include "master/store/web_session_store.h"
#include "web/html.h"
#include "web/http_util.h"
#include "web/i18n.h"
#include "web/web_context.h"

namespace gpuq {

// The logged-in user behind a panel request.
struct PanelRequest {
  UserRow user;
  WebSessionRow session;
  Translator t;
  bool admin() const { return user.role == UserRole::kAdmin; }
};

using PanelHandler =
    std::function<void(const httplib::Request&, httplib::Response&, PanelRequest&)>;

// A page (GET): without a live session it answers 303 to /admin/login; a normal user on an
// admin page gets 403. Exceptions become a 500 page.
httplib::Server::Handler PanelPage(WebContext* ctx, Role role, PanelHandler handler);
// A form post: as PanelPage (401 instead of the redirect), and the form's csrf_token must
// match the session's (403 otherwise, and nothing is done).
httplib::Server::Handler PanelForm(WebContext* ctx, Role role, PanelHandler handler);

// Most pages and forms are a free function of the context and the request.
using PanelRoute = void (*)(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                            PanelRequest& pr);
httplib::Server::Handler PanelPage(WebContext* ctx, Role role, PanelRoute route);
httplib::Server::Handler PanelForm(WebContext* ctx, Role role, PanelRoute route);

// The session behind the request's cookie, with its user; Unauthenticated when there is
// none (no cookie, unknown, expired, or the user is disabled).
Result<std::pair<WebSessionRow, UserRow>> SessionFromRequest(WebContext* ctx,
                                                             const httplib::Request& req);

// Writes a full page: the chrome (navigation, user, logout), a flash from ?msg= (a catalogue
// key) or from RedirectTo's error (text, escaped, shown once), then `body` (trusted markup
// built with Html).
void ReplyPage(httplib::Response& res, const PanelRequest& pr, const httplib::Request& req,
               std::string_view title, std::string_view active, const std::string& body,
               int status = 200);
// A short page for a refusal or failure, in the chrome when there is a user.
void ReplyPanelError(httplib::Response& res, int status, std::string_view message);

// 303 to `location` (a path gpuq built). With `msg`, adds ?msg=KEY (a catalogue key); with
// `err`, the next page shows that text once (carried in a short-lived cookie).
void RedirectTo(httplib::Response& res, std::string location, std::string_view msg = {},
                std::string_view err = {});

// "<!doctype html>...<title>TITLE · gpuq</title>" and the stylesheet: every panel page's
// start, up to the rest of its <head>.
void DocumentHead(Html& h, const Translator& t, std::string_view title);
// The form's CSRF field for this session.
void CsrfField(Html& h, const PanelRequest& pr);
// A form value ("" when absent); trims nothing: what was typed is kept.
std::string FormValue(const httplib::Request& req, const char* name);
bool FormChecked(const httplib::Request& req, const char* name);

// "2026-11-22 01:43:28" (UTC) or "—" for 0.
std::string ShowTime(UnixMs t);
// "3m ago", "2h ago", relative to now.
std::string ShowAge(UnixMs t, UnixMs now);

// A memory or utilisation bar as inline SVG (CSP allows no inline style): fraction 0..1, or
// negative for unknown.
void Bar(Html& h, double fraction, std::string_view label);

// The task status as a coloured badge.
void StatusBadge(Html& h, std::string_view status, const Translator& t);

// Registers /admin/static/{panel.css,panel.js} (embedded, no session needed).
void RegisterPanelAssets(httplib::Server& server);

// Each registers one group of /admin pages; RegisterPanelRoutes calls them all.
void RegisterPanelAuthRoutes(httplib::Server& server, WebContext* ctx);        // login, logout
void RegisterPanelDashboardRoutes(httplib::Server& server, WebContext* ctx);   // /admin
void RegisterPanelNodeRoutes(httplib::Server& server, WebContext* ctx);        // nodes
void RegisterPanelTaskRoutes(httplib::Server& server, WebContext* ctx);        // tasks list, form
void RegisterPanelTaskDetailRoutes(httplib::Server& server, WebContext* ctx);  // task, run log
void RegisterPanelAccountRoutes(httplib::Server& server, WebContext* ctx);     // my account
void RegisterPanelAdminRoutes(httplib::Server& server, WebContext* ctx);  // users, settings, audit
// /admin/settings/notifications (only when ctx->notifier is set)
void RegisterPanelNotifyRoutes(httplib::Server& server, WebContext* ctx);
void RegisterPanelRoutes(httplib::Server& server, WebContext* ctx);

}  // namespace gpuq

#endif  // GPUQ_WEB_PANEL_H_
