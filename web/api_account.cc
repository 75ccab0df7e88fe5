// Routes: /api/v1/tokens, /api/v1/me, /api/v1/me/credential, /api/v1/users.
#include "common/json_fields.h"
#include "master/secrets/password.h"
#include "master/secrets/token.h"
#include "master/store/audit_log.h"
#include "master/store/credential_store.h"
#include "master/store/notify_store.h"
#include "master/store/token_store.h"
#include "web/account_rules.h"
#include "web/api_json.h"
#include "web/api_routes.h"
#include "web/http_util.h"

namespace gpuq {
namespace {

void CreateToken(WebContext* ctx, const httplib::Request& req, httplib::Response& res) {
  Result<nlohmann::json> body = JsonFields::ParseObject(req.body);
  if (!body.ok()) return ReplyError(res, body.status());
  JsonFields f(*body);
  Result<std::string> username = f.RequiredString("username", 64);
  if (!username.ok()) return ReplyError(res, username.status());
  Result<std::string> password = f.RequiredString("password", 1024);
  if (!password.ok()) return ReplyError(res, password.status());
  Result<std::optional<std::string>> name = f.String("name", 200);
  if (!name.ok()) return ReplyError(res, name.status());

  if (ctx->login_limiter->Blocked(*username, req.remote_addr)) {
    return ReplyJson(res, 429, {{"error", "too many failed logins; try again in a few minutes"}});
  }
  Result<UserRow> user = UserStore(ctx->db, ctx->clock).FindByName(*username);
  // The same answer for an unknown user and a wrong password; verify even when the user is
  // unknown would cost the same time, but the limiter already bounds guessing.
  if (!user.ok() || user->disabled || !VerifyPassword(user->password_hash, *password)) {
    ctx->login_limiter->RecordFailure(*username, req.remote_addr);
    return ReplyError(res, Status::Unauthenticated("wrong username or password"));
  }
  ctx->login_limiter->RecordSuccess(*username);
  std::string token = NewApiToken();
  Result<ApiTokenId> id =
      TokenStore(ctx->db, ctx->clock).Insert(user->id, Sha256Hex(token), name->value_or("cli"));
  if (!id.ok()) return ReplyError(res, id.status());
  ReplyJson(res, 201, {{"token", token}, {"id", id->value}, {"user", UserJson(*user)}});
}

void PutCredential(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                   const UserRow& user) {
  Result<nlohmann::json> body = JsonFields::ParseObject(req.body);
  if (!body.ok()) return ReplyError(res, body.status());
  JsonFields f(*body);
  if (Status s = f.RejectUnknown({"remote_user", "private_key"}); !s.ok()) return ReplyError(res, s);
  Result<std::string> remote_user = f.RequiredString("remote_user", 32);
  if (!remote_user.ok()) return ReplyError(res, remote_user.status());
  if (Status s = ValidateAccountName(*remote_user, "remote_user"); !s.ok()) return ReplyError(res, s);
  Result<std::string> key = f.RequiredString("private_key", 16384);
  if (!key.ok()) return ReplyError(res, key.status());
  Result<std::string> fingerprint = ctx->actions->FingerprintPrivateKey(*key);
  if (!fingerprint.ok()) return ReplyError(res, fingerprint.status());

  Status s = CredentialStore(ctx->db, ctx->clock)
                 .Put(user.id, *remote_user, ctx->secrets->Seal(*key), *fingerprint);
  if (!s.ok()) return ReplyError(res, s);
  AuditLog(ctx->db, ctx->clock).Record(user.id, "credential.put", "user " + user.username,
                                       *remote_user + " " + *fingerprint);
  ctx->actions->CredentialChanged(user.id);
  ReplyJson(res, 200, {{"remote_user", *remote_user}, {"public_key_sha256", *fingerprint}});
}

void GetCredential(WebContext* ctx, httplib::Response& res, const UserRow& user) {
  Result<std::optional<CredentialRow>> row = CredentialStore(ctx->db, ctx->clock).Get(user.id);
  if (!row.ok()) return ReplyError(res, row.status());
  if (!row->has_value()) return ReplyError(res, Status::NotFound("no SSH credential stored"));
  ReplyJson(res, 200, {{"remote_user", (*row)->remote_user},
                       {"public_key_sha256", (*row)->public_key_sha256},
                       {"updated_at", FormatRfc3339((*row)->updated_at)}});
}

void CreateUser(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                const UserRow& admin) {
  Result<nlohmann::json> body = JsonFields::ParseObject(req.body);
  if (!body.ok()) return ReplyError(res, body.status());
  JsonFields f(*body);
  if (Status s = f.RejectUnknown({"username", "password", "role"}); !s.ok()) return ReplyError(res, s);
  Result<std::string> username = f.RequiredString("username", 32);
  if (!username.ok()) return ReplyError(res, username.status());
  if (Status s = ValidateAccountName(*username, "username"); !s.ok()) return ReplyError(res, s);
  Result<std::string> password = f.RequiredString("password", 1024);
  if (!password.ok()) return ReplyError(res, password.status());
  if (password->size() < 8) {
    return ReplyError(res, Status::InvalidArgument("must be at least 8 characters", "password"));
  }
  Result<std::optional<std::string>> role_name = f.String("role", 16);
  if (!role_name.ok()) return ReplyError(res, role_name.status());
  std::optional<UserRole> role = ParseUserRole(role_name->value_or("user"));
  if (!role) return ReplyError(res, Status::InvalidArgument("must be 'admin' or 'user'", "role"));

  Result<std::string> hash = HashPassword(*password);
  if (!hash.ok()) return ReplyError(res, hash.status());
  UserStore users(ctx->db, ctx->clock);
  Result<UserId> id = users.Create(*username, *hash, *role);
  if (!id.ok()) return ReplyError(res, id.status());
  AuditLog(ctx->db, ctx->clock).Record(admin.id, "user.create", "user " + *username,
                                       UserRoleName(*role));
  Result<UserRow> row = users.FindById(*id);
  if (!row.ok()) return ReplyError(res, row.status());
  ReplyJson(res, 201, UserJson(*row));
}

}  // namespace

void RegisterAccountRoutes(httplib::Server& server, WebContext* ctx) {
  server.Post("/api/v1/tokens", Guarded([ctx](const auto& req, auto& res) { CreateToken(ctx, req, res); }));

  server.Get("/api/v1/me", Authed(ctx, Role::kAnyUser, [ctx](const auto&, auto& res, const UserRow& user) {
    nlohmann::json me = UserJson(user);
    // Notification preferences (set with PUT /api/v1/me/notifications, web/api_notify.cc).
    Result<std::string> email = GetUserEmail(ctx->db, user.id);
    me["email"] = email.ok() ? *email : "";
    me["notify_default"] = user.notify_default;
    ReplyJson(res, 200, me);
  }));
  server.Get("/api/v1/me/credential", Authed(ctx, Role::kAnyUser, [ctx](const auto&, auto& res,
                                                                         const UserRow& user) {
    GetCredential(ctx, res, user);
  }));
  server.Put("/api/v1/me/credential", Authed(ctx, Role::kAnyUser, [ctx](const auto& req, auto& res,
                                                                         const UserRow& user) {
    PutCredential(ctx, req, res, user);
  }));

  server.Get("/api/v1/users", Authed(ctx, Role::kAdmin, [ctx](const auto&, auto& res, const UserRow&) {
    Result<std::vector<UserRow>> users = UserStore(ctx->db, ctx->clock).List();
    if (!users.ok()) return ReplyError(res, users.status());
    nlohmann::json out = nlohmann::json::array();
    for (const UserRow& u : *users) out.push_back(UserJson(u));
    ReplyJson(res, 200, out);
  }));
  server.Post("/api/v1/users", Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res,
                                                                const UserRow& admin) {
    CreateUser(ctx, req, res, admin);
  }));
}

}  // namespace gpuq
