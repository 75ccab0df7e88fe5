#include "master/secrets/password.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gpuq {
namespace {

using ::testing::StartsWith;

const PasswordHashOptions kCheap = PasswordHashOptions::CheapForTesting();

TEST(PasswordTest, HashVerifiesOnlyTheRightPassword) {
  Result<std::string> hash = HashPassword("correct horse", kCheap);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_THAT(*hash, StartsWith("$argon2id$"));
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horsE"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse "));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
}

TEST(PasswordTest, SaltMakesEveryHashDifferent) {
  std::string a = HashPassword("pw", kCheap).value();
  std::string b = HashPassword("pw", kCheap).value();
  EXPECT_NE(a, b);
  EXPECT_TRUE(VerifyPassword(a, "pw"));
  EXPECT_TRUE(VerifyPassword(b, "pw"));
}

TEST(PasswordTest, PasswordsWithNulBytesAreHashedWhole) {
  const std::string with_nul("ab\0cd", 5);
  std::string hash = HashPassword(with_nul, kCheap).value();
  EXPECT_TRUE(VerifyPassword(hash, with_nul));
  EXPECT_FALSE(VerifyPassword(hash, "ab"));
}

TEST(PasswordTest, MalformedHashNeverVerifies) {
  for (const char* hash : {"", "plain", "$argon2id$", "$argon2id$v=19$m=8,t=1,p=1$AAAA$BBBB",
                           "$2b$12$abcdefghijklmnopqrstuuN0ZQmPZVAmjTFQYdmPQz1oJFmvq2c6G"}) {
    EXPECT_FALSE(VerifyPassword(hash, "plain")) << hash;
  }
  EXPECT_FALSE(VerifyPassword(std::string(1000, 'x'), "x"));
}

TEST(PasswordTest, DefaultCostIsArgon2idInteractive) {
  std::string hash = HashPassword("pw").value();
  EXPECT_THAT(hash, StartsWith("$argon2id$v=19$m=65536,t=2,p=1$"));
  EXPECT_TRUE(VerifyPassword(hash, "pw"));
  EXPECT_FALSE(PasswordNeedsRehash(hash));
}

TEST(PasswordTest, CheapHashNeedsRehashUnderDefaultCost) {
  std::string cheap = HashPassword("pw", kCheap).value();
  EXPECT_TRUE(PasswordNeedsRehash(cheap));
  EXPECT_FALSE(PasswordNeedsRehash(cheap, kCheap));
  EXPECT_TRUE(PasswordNeedsRehash("not a hash"));
}

}  // namespace
}  // namespace gpuq
