#include "common/base64.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

TEST(Base64Test, MatchesCoreutils) {
  // Expected values from `printf '%s' X | base64 -w0`.
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("it's $HOME\n"), "aXQncyAkSE9NRQo=");
}

TEST(Base64Test, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); n += 37) {
    auto decoded = Base64Decode(Base64Encode(all.substr(0, n)));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, all.substr(0, n));
  }
}

TEST(Base64Test, DecodeIgnoresLineBreaksAndRefusesGarbage) {
  EXPECT_EQ(*Base64Decode("Zm9v\nYmFy\n"), "foobar");
  EXPECT_FALSE(Base64Decode("Zm9v!").ok());
  EXPECT_FALSE(Base64Decode("Zg==Zg").ok());
}

}  // namespace
}  // namespace gpuq
