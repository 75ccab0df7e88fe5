#include "master/store/credential_store.h"

#include <gtest/gtest.h>

#include <chrono>

#include "master/store/user_store.h"
#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

using store_test::Exec;
using store_test::QueryInt;
using store_test::StoreTest;

class CredentialStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    alice_ = UserStore(db_.get(), &clock_).Create("alice", "h", UserRole::kUser).value();
  }
  CredentialStore Credentials() { return CredentialStore(db_.get(), &clock_); }

  UserId alice_;
};

TEST_F(CredentialStoreTest, NoneUntilPut) {
  Result<std::optional<CredentialRow>> got = Credentials().Get(alice_);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(got->has_value());
}

TEST_F(CredentialStoreTest, PutThenGetKeepsBinaryKeyIntact) {
  static constexpr char kBytes[] = "\x00\x01\xfe\xff sealed\0bytes";
  const std::string sealed(kBytes, sizeof(kBytes) - 1);
  ASSERT_TRUE(Credentials().Put(alice_, "alice", sealed, "SHA256:pub").ok());
  std::optional<CredentialRow> row = Credentials().Get(alice_).value();
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->user_id, alice_);
  EXPECT_EQ(row->remote_user, "alice");
  EXPECT_EQ(row->private_key_sealed, sealed);
  EXPECT_EQ(row->public_key_sha256, "SHA256:pub");
  EXPECT_EQ(row->updated_at, clock_.NowUnixMs());
  EXPECT_EQ(QueryInt(*db_,
                     "SELECT COUNT(*) FROM ssh_credentials WHERE "
                     "typeof(private_key_sealed) = 'blob'"),
            1);
}

TEST_F(CredentialStoreTest, PutReplaces) {
  ASSERT_TRUE(Credentials().Put(alice_, "alice", "k1", "p1").ok());
  clock_.Advance(std::chrono::seconds(3));
  ASSERT_TRUE(Credentials().Put(alice_, "al", "k2", "p2").ok());
  CredentialRow row = Credentials().Get(alice_).value().value();
  EXPECT_EQ(row.remote_user, "al");
  EXPECT_EQ(row.private_key_sealed, "k2");
  EXPECT_EQ(row.public_key_sha256, "p2");
  EXPECT_EQ(row.updated_at, clock_.NowUnixMs());
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM ssh_credentials"), 1);
}

TEST_F(CredentialStoreTest, PutForMissingUserIsNotFound) {
  Status s = Credentials().Put(UserId(50), "x", "k", "p");
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.message(), "user 50 not found");
}

TEST_F(CredentialStoreTest, DeleteRemoves) {
  ASSERT_TRUE(Credentials().Put(alice_, "alice", "k", "p").ok());
  ASSERT_TRUE(Credentials().Delete(alice_).ok());
  EXPECT_FALSE(Credentials().Get(alice_).value().has_value());
  EXPECT_TRUE(Credentials().Delete(alice_).ok());
}

TEST_F(CredentialStoreTest, DeletingTheUserDeletesTheCredential) {
  ASSERT_TRUE(Credentials().Put(alice_, "alice", "k", "p").ok());
  ASSERT_TRUE(Exec(*db_, "DELETE FROM users WHERE id = " + std::to_string(alice_.value)).ok());
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM ssh_credentials"), 0);
}

}  // namespace
}  // namespace gpuq
