#include "master/store/web_session_store.h"

#include <gtest/gtest.h>

#include "tests/unit/store/store_test_util.h"

namespace gpuq::store_test {
namespace {

class WebSessionStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    Result<UserId> id = UserStore(db_.get(), &clock_).Create("alice", "hash", UserRole::kUser);
    ASSERT_TRUE(id.ok());
    alice_ = *id;
  }
  WebSessionRow Row(const std::string& id, UnixMs ttl_ms) {
    return {id, alice_, "csrf-" + id, clock_.NowUnixMs(), clock_.NowUnixMs() + ttl_ms};
  }
  UserId alice_;
};

TEST_F(WebSessionStoreTest, FindsALiveSessionWithItsUser) {
  WebSessionStore store(db_.get(), &clock_);
  ASSERT_TRUE(store.Create(Row("s1", 60'000)).ok());
  auto found = store.FindLive("s1");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->first.csrf_token, "csrf-s1");
  EXPECT_EQ(found->second.username, "alice");
  EXPECT_EQ(store.FindLive("s2").status().code(), ErrorCode::kNotFound);
}

TEST_F(WebSessionStoreTest, AnExpiredSessionIsNotFoundAndIsPruned) {
  WebSessionStore store(db_.get(), &clock_);
  ASSERT_TRUE(store.Create(Row("old", 1000)).ok());
  ASSERT_TRUE(store.Create(Row("new", 5000)).ok());
  clock_.Advance(std::chrono::milliseconds(1000));
  EXPECT_EQ(store.FindLive("old").status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store.FindLive("new").ok());
  Result<int64_t> pruned = store.DeleteExpired();
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 1);
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM web_sessions"), 1);
}

TEST_F(WebSessionStoreTest, ADisabledUsersSessionsStopWorking) {
  WebSessionStore store(db_.get(), &clock_);
  ASSERT_TRUE(store.Create(Row("s1", 60'000)).ok());
  ASSERT_TRUE(UserStore(db_.get(), &clock_).SetDisabled(alice_, true).ok());
  EXPECT_EQ(store.FindLive("s1").status().code(), ErrorCode::kNotFound);
}

TEST_F(WebSessionStoreTest, LogoutAndDeleteForUser) {
  WebSessionStore store(db_.get(), &clock_);
  ASSERT_TRUE(store.Create(Row("a", 60'000)).ok());
  ASSERT_TRUE(store.Create(Row("b", 60'000)).ok());
  ASSERT_TRUE(store.Delete("a").ok());
  EXPECT_FALSE(store.FindLive("a").ok());
  EXPECT_TRUE(store.FindLive("b").ok());
  ASSERT_TRUE(store.DeleteForUser(alice_).ok());
  EXPECT_FALSE(store.FindLive("b").ok());
  EXPECT_TRUE(store.Delete("never-existed").ok());
}

TEST_F(WebSessionStoreTest, UnknownUserIsNotFound) {
  WebSessionStore store(db_.get(), &clock_);
  WebSessionRow row = Row("x", 1000);
  row.user_id = UserId(999);
  EXPECT_EQ(store.Create(row).code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace gpuq::store_test
