#include "web/session.h"

#include "master/secrets/token.h"

namespace gpuq {

std::optional<std::string> CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view item = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    if (item.substr(0, eq) == name) return std::string(item.substr(eq + 1));
  }
  return std::nullopt;
}

std::string SetCookieValue(std::string_view name, std::string_view value, int64_t max_age_s,
                           bool secure) {
  std::string out(name);
  out += "=";
  out += value;
  out += "; Path=/; Max-Age=" + std::to_string(max_age_s) + "; HttpOnly; SameSite=Strict";
  if (secure) out += "; Secure";
  return out;
}

bool CsrfTokenMatches(std::string_view expected, std::string_view submitted) {
  if (expected.empty() || expected.size() != submitted.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    diff |= static_cast<unsigned char>(expected[i] ^ submitted[i]);
  }
  return diff == 0;
}

NewSession MakeSession(UserId user, UnixMs now, const SessionOptions& options) {
  NewSession s;
  s.cookie_value = RandomUrlSafeToken(32);
  s.row.id_sha256 = Sha256Hex(s.cookie_value);
  s.row.user_id = user;
  s.row.csrf_token = RandomUrlSafeToken(32);
  s.row.created_at = now;
  s.row.expires_at = now + options.ttl_ms;
  return s;
}

}  // namespace gpuq
