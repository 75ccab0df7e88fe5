#ifndef GPUQ_WEB_SESSION_H_
#define GPUQ_WEB_SESSION_H_

// The pure parts of panel sessions: cookies, CSRF checks and expiry. The session rows live
// in master/store/web_session_store.h; the cookie holds a random token whose SHA-256 is the
// row's id, so a leaked database does not hand out live sessions.

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "master/store/web_session_store.h"

namespace gpuq {

inline constexpr char kSessionCookie[] = "gpuq_session";
// The login form's CSRF token (double submit): before login there is no session to hold it.
inline constexpr char kLoginCsrfCookie[] = "gpuq_login_csrf";

struct SessionOptions {
  UnixMs ttl_ms = 12 * 3600 * 1000;  // a session ends 12 hours after login
};

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or nullopt.
std::optional<std::string> CookieValue(std::string_view cookie_header, std::string_view name);

// A Set-Cookie value: HttpOnly, SameSite=Strict, Path=/, Max-Age (0 deletes it), and Secure
// when the panel is served over TLS.
std::string SetCookieValue(std::string_view name, std::string_view value, int64_t max_age_s,
                           bool secure);

// Whether a submitted CSRF token matches the session's, in time independent of where they
// differ. An empty token never matches.
bool CsrfTokenMatches(std::string_view expected, std::string_view submitted);

// A fresh session row for `user` (random CSRF token, expiry now + ttl) and the cookie value
// that names it.
struct NewSession {
  WebSessionRow row;
  std::string cookie_value;
};
NewSession MakeSession(UserId user, UnixMs now, const SessionOptions& options);

// Whether the session has expired at `now` (the store refuses such sessions too; this is
// the rule, kept pure for tests).
inline bool SessionExpired(const WebSessionRow& session, UnixMs now) {
  return now >= session.expires_at;
}

}  // namespace gpuq

#endif  // GPUQ_WEB_SESSION_H_
