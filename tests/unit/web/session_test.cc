#include "web/session.h"

#include <gtest/gtest.h>

#include "master/secrets/token.h"

namespace gpuq {
namespace {

TEST(SessionTest, CookieValueFindsTheNamedCookieOnly) {
  EXPECT_EQ(CookieValue("gpuq_session=abc", "gpuq_session"), "abc");
  EXPECT_EQ(CookieValue("a=1; gpuq_session=abc; b=2", "gpuq_session"), "abc");
  EXPECT_EQ(CookieValue("x_gpuq_session=evil; gpuq_session=good", "gpuq_session"), "good");
  EXPECT_EQ(CookieValue("gpuq_session=", "gpuq_session"), "");
  EXPECT_EQ(CookieValue("a=1; b=2", "gpuq_session"), std::nullopt);
  EXPECT_EQ(CookieValue("", "gpuq_session"), std::nullopt);
  EXPECT_EQ(CookieValue("gpuq_session", "gpuq_session"), std::nullopt);
}

TEST(SessionTest, SetCookieIsHttpOnlyStrictAndSecureOnlyUnderTls) {
  std::string plain = SetCookieValue("gpuq_session", "v", 3600, false);
  EXPECT_EQ(plain, "gpuq_session=v; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict");
  std::string tls = SetCookieValue("gpuq_session", "v", 0, true);
  EXPECT_NE(tls.find("; Secure"), std::string::npos);
  EXPECT_NE(tls.find("Max-Age=0"), std::string::npos);
}

TEST(SessionTest, CsrfTokenMustMatchExactly) {
  EXPECT_TRUE(CsrfTokenMatches("abcdef", "abcdef"));
  EXPECT_FALSE(CsrfTokenMatches("abcdef", "abcdeg"));
  EXPECT_FALSE(CsrfTokenMatches("abcdef", "abcde"));
  EXPECT_FALSE(CsrfTokenMatches("abcdef", ""));
  EXPECT_FALSE(CsrfTokenMatches("", ""));  // a session without a token accepts nothing
}

TEST(SessionTest, NewSessionStoresOnlyTheCookiesHashAndExpiresAfterTheTtl) {
  SessionOptions options;
  options.ttl_ms = 1000;
  NewSession s = MakeSession(UserId(7), 5000, options);
  EXPECT_EQ(s.row.user_id, UserId(7));
  EXPECT_EQ(s.row.id_sha256, Sha256Hex(s.cookie_value));
  EXPECT_NE(s.row.id_sha256, s.cookie_value);
  EXPECT_GE(s.row.csrf_token.size(), 32u);
  EXPECT_NE(s.row.csrf_token, s.cookie_value);
  EXPECT_EQ(s.row.expires_at, 6000);
  EXPECT_FALSE(SessionExpired(s.row, 5999));
  EXPECT_TRUE(SessionExpired(s.row, 6000));
  NewSession other = MakeSession(UserId(7), 5000, options);
  EXPECT_NE(other.cookie_value, s.cookie_value);
  EXPECT_NE(other.row.csrf_token, s.row.csrf_token);
}

}  // namespace
}  // namespace gpuq
