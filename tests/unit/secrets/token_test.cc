#include "master/secrets/token.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace gpuq {
namespace {

using ::testing::MatchesRegex;

TEST(TokenTest, ApiTokenFormat) {
  std::string token = NewApiToken();
  EXPECT_EQ(token.size(), 5u + 43u);
  EXPECT_THAT(token, MatchesRegex("gpuq_[A-Za-z0-9_-]+"));
  EXPECT_TRUE(LooksLikeApiToken(token));
}

TEST(TokenTest, ApiTokensAreUnique) {
  std::set<std::string> tokens;
  for (int i = 0; i < 1000; ++i) tokens.insert(NewApiToken());
  EXPECT_EQ(tokens.size(), 1000u);
}

TEST(TokenTest, LooksLikeApiTokenRejectsOtherShapes) {
  const std::string body(43, 'A');
  EXPECT_TRUE(LooksLikeApiToken("gpuq_" + body));
  EXPECT_FALSE(LooksLikeApiToken(""));
  EXPECT_FALSE(LooksLikeApiToken("gpuq_"));
  EXPECT_FALSE(LooksLikeApiToken("gpuQ_" + body));
  EXPECT_FALSE(LooksLikeApiToken("gpuq_" + body + "A"));
  EXPECT_FALSE(LooksLikeApiToken("gpuq_" + body.substr(1)));
  EXPECT_FALSE(LooksLikeApiToken("gpuq_" + body.substr(1) + "+"));
  EXPECT_FALSE(LooksLikeApiToken("gpuq_" + body.substr(1) + "="));
  EXPECT_FALSE(LooksLikeApiToken("gpuq_" + body.substr(1) + " "));
}

TEST(TokenTest, RandomUrlSafeTokenLength) {
  EXPECT_EQ(RandomUrlSafeToken(16).size(), 22u);
  EXPECT_EQ(RandomUrlSafeToken(32).size(), 43u);
  EXPECT_EQ(RandomUrlSafeToken(0), "");
  EXPECT_THAT(RandomUrlSafeToken(48), MatchesRegex("[A-Za-z0-9_-]+"));
  EXPECT_NE(RandomUrlSafeToken(16), RandomUrlSafeToken(16));
}

TEST(TokenTest, Sha256HexKnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(std::string("a\0b", 3)).size(), 64u);
  EXPECT_NE(Sha256Hex(std::string("a\0b", 3)), Sha256Hex("a"));
}

TEST(TokenTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("csrf-abc", "csrf-abc"));
  EXPECT_FALSE(ConstantTimeEquals("csrf-abc", "csrf-abd"));
  EXPECT_FALSE(ConstantTimeEquals("csrf-abc", "csrf-ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
}

}  // namespace
}  // namespace gpuq
