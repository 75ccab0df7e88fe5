// Admin pages: /admin/users (add, role, disable), /admin/settings (every settings section,
// one form each, and the way to the notifications page), /admin/audit (who did what, newest
// first, paged).
#include <charconv>

#include "master/secrets/password.h"
#include "master/store/audit_log.h"
#include "master/store/settings_store.h"
#include "web/account_rules.h"
#include "web/panel.h"
#include "web/panel_settings.h"

namespace gpuq {
namespace {

struct UserForm {
  std::string username, role = "user";
  std::map<std::string, std::string> errors;
};

void UsersPage(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
               PanelRequest& pr, const UserForm& f, int status = 200) {
  const Translator& t = pr.t;
  Result<std::vector<UserRow>> users = UserStore(ctx->db, ctx->clock).List();
  if (!users.ok()) return ReplyPanelError(res, 500, users.status().message());
  Html h;
  h.Raw("<h1>")
      .Text(t("nav.users"))
      .Raw(
          "</h1><div class=\"two\"><section class=\"card\">"
          "<table class=\"list\" id=\"users\"><thead><tr><th>#</th><th>")
      .Text(t("login.username"))
      .Raw("</th><th>")
      .Text(t("user.role"))
      .Raw("</th><th>")
      .Text(t("user.state"))
      .Raw("</th><th></th></tr></thead><tbody>");
  for (const UserRow& u : *users) {
    h.Raw("<tr><td>")
        .Num(u.id.value)
        .Raw("</td>")
        .Elem("td", u.username)
        .Raw("<td>")
        .Text(t(std::string("role.") + UserRoleName(u.role)))
        .Raw("</td><td>")
        .Text(t(u.disabled ? "user.disabled" : "user.active"))
        .Raw("</td><td>");
    if (u.id != pr.user.id) {  // an admin cannot lock themselves out
      h.Raw("<form method=\"post\" action=\"/admin/users\" class=\"inline\">");
      CsrfField(h, pr);
      h.Hidden("action", u.role == UserRole::kAdmin ? "make_user" : "make_admin")
          .Hidden("user_id", std::to_string(u.id.value))
          .Raw("<button type=\"submit\" class=\"small\">")
          .Text(t(u.role == UserRole::kAdmin ? "user.make_user" : "user.make_admin"))
          .Raw(
              "</button></form>"
              "<form method=\"post\" action=\"/admin/users\" class=\"inline\">");
      CsrfField(h, pr);
      h.Hidden("action", u.disabled ? "enable" : "disable")
          .Hidden("user_id", std::to_string(u.id.value))
          .Raw("<button type=\"submit\" class=\"small")
          .Raw(u.disabled ? "" : " danger")
          .Raw("\">")
          .Text(t(u.disabled ? "user.enable" : "user.disable"))
          .Raw("</button></form>");
    }
    h.Raw("</td></tr>");
  }
  h.Raw("</tbody></table></section><section class=\"card\"><h2>")
      .Text(t("user.add"))
      .Raw(
          "</h2>"
          "<form method=\"post\" action=\"/admin/users\" class=\"form\" id=\"user-form\">");
  CsrfField(h, pr);
  auto error = [&](const char* field) { FieldError(h, f.errors, field); };
  h.Hidden("action", "create")
      .Raw("<label>")
      .Text(t("login.username"))
      .Raw("<input name=\"username\" required value=\"")
      .Text(f.username)
      .Raw("\">");
  error("username");
  h.Raw("</label><label>")
      .Text(t("login.password"))
      .Raw("<input type=\"password\" name=\"password\" autocomplete=\"new-password\" required>");
  error("password");
  h.Raw("</label><label>").Text(t("user.role")).Raw("<select name=\"role\">");
  for (const char* r : {"user", "admin"}) {
    h.Raw("<option value=\"")
        .Raw(r)
        .Raw("\"")
        .Raw(f.role == r ? " selected" : "")
        .Raw(">")
        .Text(t(std::string("role.") + r))
        .Raw("</option>");
  }
  h.Raw("</select>");
  error("role");
  h.Raw("</label><button type=\"submit\" class=\"primary\">")
      .Text(t("user.add"))
      .Raw("</button></form></section></div>");
  ReplyPage(res, pr, req, t("nav.users"), "users", h.Take(), status);
}

void UsersAction(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                 PanelRequest& pr) {
  const std::string action = FormValue(req, "action");
  UserStore users(ctx->db, ctx->clock);
  AuditLog audit(ctx->db, ctx->clock);
  if (action == "create") {
    UserForm f;
    f.username = FormValue(req, "username");
    f.role = FormValue(req, "role");
    const std::string password = FormValue(req, "password");
    if (Status s = ValidateAccountName(f.username, "username"); !s.ok())
      f.errors["username"] = s.message();
    if (password.size() < kMinPasswordBytes || password.size() > kMaxPasswordBytes) {
      f.errors["password"] = "must be 8 to 1024 characters";
    }
    std::optional<UserRole> role = ParseUserRole(f.role);
    if (!role) f.errors["role"] = "must be 'admin' or 'user'";
    if (!f.errors.empty()) return UsersPage(ctx, req, res, pr, f, 400);
    Result<std::string> hash = HashPassword(password);
    if (!hash.ok()) return RedirectTo(res, "/admin/users", {}, hash.status().message());
    Result<UserId> id = users.Create(f.username, *hash, *role);
    if (!id.ok()) {
      f.errors[id.status().field().empty() ? "username" : id.status().field()] =
          id.status().message();
      return UsersPage(ctx, req, res, pr, f, 400);
    }
    audit.Record(pr.user.id, "user.create", "user " + f.username, f.role);
    return RedirectTo(res, "/admin/users", "msg.user_added");
  }
  std::string text = FormValue(req, "user_id");
  int64_t id = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || id <= 0)
    return RedirectTo(res, "/admin/users", {}, "user_id: not a user id");
  if (UserId(id) == pr.user.id)
    return RedirectTo(res, "/admin/users", {}, "You cannot change your own role or state here.");
  Result<UserRow> user = users.FindById(UserId(id));
  if (!user.ok()) return RedirectTo(res, "/admin/users", {}, user.status().message());
  Status s = Status::InvalidArgument("unknown action", "action");
  if (action == "make_admin" || action == "make_user") {
    s = users.SetRole(user->id, action == "make_admin" ? UserRole::kAdmin : UserRole::kUser);
  } else if (action == "disable" || action == "enable") {
    s = users.SetDisabled(user->id, action == "disable");
    if (s.ok() && action == "disable")
      (void)WebSessionStore(ctx->db, ctx->clock).DeleteForUser(user->id);
  }
  if (!s.ok()) return RedirectTo(res, "/admin/users", {}, s.message());
  audit.Record(pr.user.id, "user." + action, "user " + user->username, "");
  RedirectTo(res, "/admin/users", "msg.saved");
}

void SettingsPage(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                  PanelRequest& pr, const std::map<std::string, std::string>& typed = {},
                  const std::map<std::string, std::string>& errors = {}) {
  const Translator& t = pr.t;
  Html h;
  h.Raw("<h1>").Text(t("nav.settings")).Raw("</h1>");
  if (ctx->notifier != nullptr) {  // its page exists only then (panel_notify.cc)
    h.Raw("<section class=\"card\" id=\"notifications\"><h2>")
        .Text(t("notify.title"))
        .Raw("</h2><a href=\"/admin/settings/notifications\" id=\"notify-settings-link\">")
        .Text(t("notify.link"))
        .Raw(" →</a></section>");
  }
  for (const SettingsSection& section : SettingsSections()) {
    h.Raw("<section class=\"card\" id=\"")
        .Text(section.id)
        .Raw("\"><h2>")
        .Text(t(section.title_key))
        .Raw("</h2><form method=\"post\" action=\"/admin/settings\" class=\"form\">");
    CsrfField(h, pr);
    h.Hidden("section", section.id);
    for (const SettingField& field : section.fields) {
      auto typed_it = typed.find(field.key);
      const std::string value =
          typed_it != typed.end() ? typed_it->second : SettingValue(ctx->db, ctx->clock, field.key);
      auto err = errors.find(field.key);
      h.Raw("<label")
          .Raw(err != errors.end() ? " class=\"invalid\"" : "")
          .Raw(">")
          .Text(t(field.label_key))
          .Raw("<input name=\"")
          .Text(field.key)
          .Raw("\" value=\"")
          .Text(value)
          .Raw("\">");
      FieldError(h, errors, field.key);
      if (!field.help_key.empty())
        h.Raw("<small class=\"muted\">").Text(t(field.help_key)).Raw("</small>");
      h.Raw("</label>");
    }
    h.Raw("<button type=\"submit\" class=\"primary\">")
        .Text(t("form.save"))
        .Raw("</button></form></section>");
  }
  ReplyPage(res, pr, req, t("nav.settings"), "settings", h.Take(), errors.empty() ? 200 : 400);
}

void SaveSettings(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                  PanelRequest& pr) {
  const std::string id = FormValue(req, "section");
  const SettingsSection* section = nullptr;
  for (const SettingsSection& s : SettingsSections())
    if (s.id == id) section = &s;
  if (!section) return RedirectTo(res, "/admin/settings", {}, "section: unknown settings section");
  std::map<std::string, std::string> typed, errors;
  for (const SettingField& field : section->fields) {
    std::string v = FormValue(req, field.key.c_str());
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.erase(0, 1);
    typed[field.key] = v;
    if (Status s = field.validate ? field.validate(v) : Status::Ok(); !s.ok())
      errors[field.key] = s.message();
  }
  if (!errors.empty()) return SettingsPage(ctx, req, res, pr, typed, errors);
  // All of the section or none of it.
  Status s = ctx->db->Tx([&](Connection&) -> Status {
    SettingsStore store(ctx->db, ctx->clock);
    for (const SettingField& field : section->fields) {
      const std::string& value = typed[field.key];
      // A field whose default is empty (e.g. a cap) goes back to the master's own value.
      if (value.empty() && field.default_value.empty()) {
        GPUQ_RETURN_IF_ERROR(store.Delete(field.key));
      } else {
        GPUQ_RETURN_IF_ERROR(store.Set(field.key, value));
      }
    }
    std::string detail;
    for (const auto& [key, value] : typed) detail += key + "=" + value + " ";
    return AuditLog(ctx->db, ctx->clock)
        .Record(pr.user.id, "settings.update", "settings " + id, detail);
  });
  if (!s.ok()) return RedirectTo(res, "/admin/settings", {}, s.message());
  RedirectTo(res, "/admin/settings", "msg.saved");
}

void AuditPage(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
               PanelRequest& pr) {
  constexpr int kRows = 100;
  std::optional<int64_t> before;
  if (req.has_param("before")) {
    std::string b = FormValue(req, "before");
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(b.data(), b.data() + b.size(), v);
    if (ec != std::errc() || v <= 0) return ReplyPanelError(res, 400, "before: not an entry id");
    before = v;
  }
  Result<std::vector<AuditEntry>> entries = AuditLog(ctx->db, ctx->clock).List(kRows, before);
  Result<std::vector<UserRow>> users = UserStore(ctx->db, ctx->clock).List();
  if (!entries.ok()) return ReplyPanelError(res, 500, entries.status().message());
  if (!users.ok()) return ReplyPanelError(res, 500, users.status().message());
  std::map<UserId, std::string> names;
  for (const UserRow& u : *users) names[u.id] = u.username;
  const Translator& t = pr.t;
  Html h;
  h.Raw("<h1>")
      .Text(t("nav.audit"))
      .Raw("</h1><section class=\"card\"><table class=\"list\" id=\"audit\"><thead><tr><th>")
      .Text(t("audit.when"))
      .Raw("</th><th>")
      .Text(t("task.user"))
      .Raw("</th><th>")
      .Text(t("audit.action"))
      .Raw("</th><th>")
      .Text(t("audit.target"))
      .Raw("</th><th>")
      .Text(t("audit.detail"))
      .Raw("</th></tr></thead><tbody>");
  for (const AuditEntry& e : *entries) {
    h.Raw("<tr>")
        .Elem("td", ShowTime(e.at))
        .Elem("td", e.user_id ? names[*e.user_id] : "gpuq")
        .Elem("td", e.action)
        .Elem("td", e.target)
        .Elem("td class=\"reason\"", e.detail)
        .Raw("</tr>");
  }
  h.Raw("</tbody></table>");
  if (static_cast<int>(entries->size()) == kRows) {
    h.Raw("<a href=\"/admin/audit?before=")
        .Num(entries->back().id)
        .Raw("\">")
        .Text(t("page.older"))
        .Raw(" →</a>");
  }
  h.Raw("</section>");
  ReplyPage(res, pr, req, t("nav.audit"), "audit", h.Take());
}

}  // namespace

void RegisterPanelAdminRoutes(httplib::Server& server, WebContext* ctx) {
  server.Get("/admin/users",
             PanelPage(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, PanelRequest& pr) {
               UsersPage(ctx, req, res, pr, UserForm{});
             }));
  server.Post("/admin/users", PanelForm(ctx, Role::kAdmin, UsersAction));
  server.Get("/admin/settings",
             PanelPage(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, PanelRequest& pr) {
               SettingsPage(ctx, req, res, pr);
             }));
  server.Post("/admin/settings", PanelForm(ctx, Role::kAdmin, SaveSettings));
  server.Get("/admin/audit", PanelPage(ctx, Role::kAdmin, AuditPage));
}

}  // namespace gpuq
