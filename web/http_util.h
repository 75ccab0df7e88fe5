#ifndef GPUQ_WEB_HTTP_UTIL_H_
#define GPUQ_WEB_HTTP_UTIL_H_

#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "common/status.h"
#include "master/store/user_store.h"
#include "web/web_context.h"

namespace gpuq {

// The HTTP status for a Status code (400 bad input, 401, 403, 404, 409 conflict/state,
// 503 node unreachable, 500 otherwise).
int HttpStatusFor(ErrorCode code);

void ReplyJson(httplib::Response& res, int status, const nlohmann::json& body);
// {"error": message, "field": field} with the matching status (INTERFACE.md).
void ReplyError(httplib::Response& res, const Status& status);

// A handler that runs only for an authenticated user (Bearer token).
using AuthedHandler =
    std::function<void(const httplib::Request&, httplib::Response&, const UserRow& user)>;

enum class Role { kAnyUser, kAdmin };

// Wraps a handler with authentication, the role check, and a catch-all that turns an
// exception into a 500 (no exception crosses into httplib's threads).
httplib::Server::Handler Authed(WebContext* ctx, Role role, AuthedHandler handler);
// The same catch-all for routes that need no authentication.
httplib::Server::Handler Guarded(httplib::Server::Handler handler);

// The user behind the request's "Authorization: Bearer TOKEN", or Unauthenticated.
Result<UserRow> AuthenticateRequest(WebContext* ctx, const httplib::Request& req);

// The path parameter `index` of a route regex as an id, or InvalidArgument.
Result<int64_t> PathId(const httplib::Request& req, int index = 1);

}  // namespace gpuq

#endif  // GPUQ_WEB_HTTP_UTIL_H_
