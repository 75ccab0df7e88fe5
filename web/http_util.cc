#include "web/http_util.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "master/secrets/token.h"
#include "master/store/token_store.h"
#include "web/panel.h"
#include "web/session.h"

namespace gpuq {

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return 200;
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition: return 409;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kTimeout: return 504;
    case ErrorCode::kCorruption:
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

void ReplyJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void ReplyError(httplib::Response& res, const Status& status) {
  nlohmann::json body = {{"error", status.message()}};
  if (!status.field().empty()) body["field"] = status.field();
  ReplyJson(res, HttpStatusFor(status.code()), body);
}

Result<UserRow> AuthenticateRequest(WebContext* ctx, const httplib::Request& req) {
  std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.empty() && req.has_header("Cookie")) {
    // The panel's session cookie. A request that changes something must also carry the
    // session's CSRF token in X-CSRF-Token: a cookie alone is sent by any page's form.
    Result<std::pair<WebSessionRow, UserRow>> session = SessionFromRequest(ctx, req);
    if (session.ok()) {
      const bool safe = req.method == "GET" || req.method == "HEAD";
      if (!safe && !CsrfTokenMatches(session->first.csrf_token,
                                     req.get_header_value("X-CSRF-Token"))) {
        return Status::PermissionDenied("a request with the session cookie needs its CSRF token in X-CSRF-Token");
      }
      return session->second;
    }
    if (session.status().code() != ErrorCode::kUnauthenticated) return session.status();
  }
  if (header.rfind(kBearer, 0) != 0) {
    return Status::Unauthenticated("authentication required: send Authorization: Bearer TOKEN");
  }
  std::string token = header.substr(kBearer.size());
  Result<UserRow> user = TokenStore(ctx->db, ctx->clock).FindUserByTokenHash(Sha256Hex(token));
  if (!user.ok()) {
    if (user.status().code() == ErrorCode::kNotFound) {
      return Status::Unauthenticated("the token is unknown, revoked, or its user is disabled");
    }
    return user.status();
  }
  return user;
}

httplib::Server::Handler Guarded(httplib::Server::Handler handler) {
  return [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    try {
      handler(req, res);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", req.method, req.path, e.what());
      ReplyError(res, Status::Internal("internal error"));
    }
  };
}

httplib::Server::Handler Authed(WebContext* ctx, Role role, AuthedHandler handler) {
  return Guarded([ctx, role, handler = std::move(handler)](const httplib::Request& req,
                                                           httplib::Response& res) {
    Result<UserRow> user = AuthenticateRequest(ctx, req);
    if (!user.ok()) return ReplyError(res, user.status());
    if (role == Role::kAdmin && user->role != UserRole::kAdmin) {
      return ReplyError(res, Status::PermissionDenied("only an admin may do this"));
    }
    handler(req, res, *user);
  });
}

Result<int64_t> PathId(const httplib::Request& req, int index) {
  if (static_cast<int>(req.matches.size()) <= index) return Status::InvalidArgument("no id in path");
  std::string s = req.matches[index];
  int64_t id = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (ec != std::errc() || ptr != s.data() + s.size() || id <= 0) {
    return Status::InvalidArgument("not an id: " + s, "id");
  }
  return id;
}

}  // namespace gpuq
