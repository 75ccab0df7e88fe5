#include "master/store/user_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

using store_test::StoreTest;
using ::testing::ElementsAre;
using ::testing::Field;

class UserStoreTest : public StoreTest {
 protected:
  UserStore users_{nullptr, nullptr};
  void SetUp() override {
    StoreTest::SetUp();
    users_ = UserStore(db_.get(), &clock_);
  }
};

TEST_F(UserStoreTest, CreateThenFindByIdAndName) {
  Result<UserId> id = users_.Create("alice", "$argon2id$x", UserRole::kAdmin);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_TRUE(id->valid());

  Result<UserRow> by_id = users_.FindById(*id);
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  EXPECT_EQ(by_id->id, *id);
  EXPECT_EQ(by_id->username, "alice");
  EXPECT_EQ(by_id->password_hash, "$argon2id$x");
  EXPECT_EQ(by_id->role, UserRole::kAdmin);
  EXPECT_FALSE(by_id->disabled);
  EXPECT_EQ(by_id->lang, "");
  EXPECT_EQ(by_id->notify_default, "end");
  EXPECT_EQ(by_id->created_at, clock_.NowUnixMs());

  Result<UserRow> by_name = users_.FindByName("alice");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->id, *id);
}

TEST_F(UserStoreTest, DuplicateUsernameIsAlreadyExistsOnUsername) {
  ASSERT_TRUE(users_.Create("alice", "h1", UserRole::kUser).ok());
  Result<UserId> again = users_.Create("alice", "h2", UserRole::kAdmin);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.status().field(), "username");
  EXPECT_EQ(again.status().message(), "user \"alice\" already exists");
  EXPECT_EQ(users_.Count().value(), 1);
}

TEST_F(UserStoreTest, MissingUserIsNotFoundNamingIt) {
  Result<UserRow> by_id = users_.FindById(UserId(42));
  EXPECT_EQ(by_id.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(by_id.status().message(), "user 42 not found");
  Result<UserRow> by_name = users_.FindByName("nobody");
  EXPECT_EQ(by_name.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(by_name.status().message(), "user \"nobody\" not found");
  for (Status s :
       {users_.SetRole(UserId(42), UserRole::kAdmin), users_.SetDisabled(UserId(42), true),
        users_.SetPasswordHash(UserId(42), "h"), users_.SetPreferences(UserId(42), "en", "off")}) {
    EXPECT_EQ(s.code(), ErrorCode::kNotFound) << s.ToString();
    EXPECT_EQ(s.message(), "user 42 not found");
  }
}

TEST_F(UserStoreTest, ListIsOrderedByIdAndCountMatches) {
  EXPECT_EQ(users_.Count().value(), 0);
  ASSERT_TRUE(users_.Create("carol", "h", UserRole::kUser).ok());
  ASSERT_TRUE(users_.Create("alice", "h", UserRole::kAdmin).ok());
  ASSERT_TRUE(users_.Create("bob", "h", UserRole::kUser).ok());
  Result<std::vector<UserRow>> list = users_.List();
  ASSERT_TRUE(list.ok());
  EXPECT_THAT(*list,
              ElementsAre(Field(&UserRow::username, "carol"), Field(&UserRow::username, "alice"),
                          Field(&UserRow::username, "bob")));
  EXPECT_EQ(users_.Count().value(), 3);
}

TEST_F(UserStoreTest, SettersChangeOnlyTheirColumn) {
  UserId id = users_.Create("alice", "old", UserRole::kUser).value();
  ASSERT_TRUE(users_.SetRole(id, UserRole::kAdmin).ok());
  ASSERT_TRUE(users_.SetDisabled(id, true).ok());
  ASSERT_TRUE(users_.SetPasswordHash(id, "new").ok());
  ASSERT_TRUE(users_.SetPreferences(id, "zh", "failure").ok());
  UserRow row = users_.FindById(id).value();
  EXPECT_EQ(row.role, UserRole::kAdmin);
  EXPECT_TRUE(row.disabled);
  EXPECT_EQ(row.password_hash, "new");
  EXPECT_EQ(row.lang, "zh");
  EXPECT_EQ(row.notify_default, "failure");
  EXPECT_EQ(row.username, "alice");

  ASSERT_TRUE(users_.SetDisabled(id, false).ok());
  EXPECT_FALSE(users_.FindById(id).value().disabled);
}

TEST_F(UserStoreTest, SetPreferencesRejectsUnknownValues) {
  UserId id = users_.Create("alice", "h", UserRole::kUser).value();
  Status bad_lang = users_.SetPreferences(id, "fr", "end");
  EXPECT_EQ(bad_lang.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad_lang.field(), "lang");
  Status bad_notify = users_.SetPreferences(id, "en", "always");
  EXPECT_EQ(bad_notify.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad_notify.field(), "notify_default");
}

TEST(UserRoleTest, NamesRoundTrip) {
  for (UserRole role : {UserRole::kUser, UserRole::kAdmin}) {
    EXPECT_EQ(ParseUserRole(UserRoleName(role)), role);
  }
  EXPECT_EQ(ParseUserRole("root"), std::nullopt);
  EXPECT_EQ(ParseUserRole("Admin"), std::nullopt);
}

}  // namespace
}  // namespace gpuq
