#include "master/store/token_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "master/store/user_store.h"
#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

using store_test::StoreTest;
using ::testing::ElementsAre;
using ::testing::Field;

class TokenStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    users_ = std::make_unique<UserStore>(db_.get(), &clock_);
    tokens_ = std::make_unique<TokenStore>(db_.get(), &clock_);
    alice_ = users_->Create("alice", "h", UserRole::kUser).value();
    bob_ = users_->Create("bob", "h", UserRole::kUser).value();
  }

  std::unique_ptr<UserStore> users_;
  std::unique_ptr<TokenStore> tokens_;
  UserId alice_;
  UserId bob_;
};

TEST_F(TokenStoreTest, LookupFindsOwnerAndRecordsUse) {
  Result<ApiTokenId> id = tokens_->Insert(alice_, "hash-a", "laptop");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(tokens_->List(alice_).value()[0].last_used_at, std::nullopt);

  clock_.Advance(std::chrono::seconds(5));
  Result<UserRow> user = tokens_->FindUserByTokenHash("hash-a");
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(user->id, alice_);
  EXPECT_EQ(user->username, "alice");

  std::vector<ApiTokenRow> list = tokens_->List(alice_).value();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].id, *id);
  EXPECT_EQ(list[0].name, "laptop");
  EXPECT_EQ(list[0].last_used_at, clock_.NowUnixMs());
  EXPECT_EQ(list[0].created_at, clock_.NowUnixMs() - 5000);
}

TEST_F(TokenStoreTest, UnknownHashIsNotFound) {
  ASSERT_TRUE(tokens_->Insert(alice_, "hash-a", "").ok());
  EXPECT_EQ(tokens_->FindUserByTokenHash("hash-b").status().code(), ErrorCode::kNotFound);
}

TEST_F(TokenStoreTest, RevokedTokenIsIgnored) {
  ApiTokenId id = tokens_->Insert(alice_, "hash-a", "").value();
  ASSERT_TRUE(tokens_->FindUserByTokenHash("hash-a").ok());
  ASSERT_TRUE(tokens_->Revoke(id, alice_).ok());
  EXPECT_EQ(tokens_->FindUserByTokenHash("hash-a").status().code(), ErrorCode::kNotFound);
}

TEST_F(TokenStoreTest, DisabledUsersTokenIsIgnoredUntilReenabled) {
  ASSERT_TRUE(tokens_->Insert(alice_, "hash-a", "").ok());
  ASSERT_TRUE(users_->SetDisabled(alice_, true).ok());
  EXPECT_EQ(tokens_->FindUserByTokenHash("hash-a").status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(users_->SetDisabled(alice_, false).ok());
  EXPECT_TRUE(tokens_->FindUserByTokenHash("hash-a").ok());
}

TEST_F(TokenStoreTest, OnlyTheOwnerCanRevoke) {
  ApiTokenId id = tokens_->Insert(alice_, "hash-a", "").value();
  Status s = tokens_->Revoke(id, bob_);
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.message(), "token " + std::to_string(id.value) + " not found");
  EXPECT_TRUE(tokens_->FindUserByTokenHash("hash-a").ok());
  EXPECT_EQ(tokens_->Revoke(ApiTokenId(999), alice_).code(), ErrorCode::kNotFound);
}

TEST_F(TokenStoreTest, RevokingTwiceKeepsTheFirstTime) {
  ApiTokenId id = tokens_->Insert(alice_, "hash-a", "").value();
  ASSERT_TRUE(tokens_->Revoke(id, alice_).ok());
  const UnixMs first = clock_.NowUnixMs();
  clock_.Advance(std::chrono::minutes(1));
  ASSERT_TRUE(tokens_->Revoke(id, alice_).ok());
  EXPECT_EQ(tokens_->List(alice_).value()[0].revoked_at, first);
}

TEST_F(TokenStoreTest, ListShowsOnlyTheUsersTokensRevokedIncluded) {
  ApiTokenId a1 = tokens_->Insert(alice_, "h1", "one").value();
  ASSERT_TRUE(tokens_->Insert(bob_, "h2", "bobs").ok());
  ASSERT_TRUE(tokens_->Insert(alice_, "h3", "two").ok());
  ASSERT_TRUE(tokens_->Revoke(a1, alice_).ok());
  std::vector<ApiTokenRow> list = tokens_->List(alice_).value();
  EXPECT_THAT(list,
              ElementsAre(Field(&ApiTokenRow::name, "one"), Field(&ApiTokenRow::name, "two")));
  EXPECT_TRUE(list[0].revoked_at.has_value());
  EXPECT_FALSE(list[1].revoked_at.has_value());
}

TEST_F(TokenStoreTest, InsertForMissingUserIsNotFound) {
  Result<ApiTokenId> id = tokens_->Insert(UserId(77), "hash", "");
  EXPECT_EQ(id.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(id.status().message(), "user 77 not found");
}

TEST_F(TokenStoreTest, DuplicateHashIsAlreadyExists) {
  ASSERT_TRUE(tokens_->Insert(alice_, "same", "").ok());
  EXPECT_EQ(tokens_->Insert(bob_, "same", "").status().code(), ErrorCode::kAlreadyExists);
}

}  // namespace
}  // namespace gpuq
