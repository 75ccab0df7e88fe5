#include "master/store/audit_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "master/store/user_store.h"
#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

using store_test::Ids;
using store_test::StoreTest;
using ::testing::ElementsAre;
using ::testing::Field;

TEST_F(StoreTest, AuditListIsNewestFirstAndPages) {
  AuditLog audit(db_.get(), &clock_);
  UserId alice = UserStore(db_.get(), &clock_).Create("alice", "h", UserRole::kAdmin).value();
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(audit
                    .Record(i % 2 == 0 ? std::optional<UserId>(alice) : std::nullopt, "node.create",
                            "node " + std::to_string(i), "detail " + std::to_string(i))
                    .ok());
    clock_.Advance(std::chrono::seconds(1));
  }
  std::vector<AuditEntry> all = audit.List(10).value();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].target, "node 5");
  EXPECT_EQ(all[4].target, "node 1");
  EXPECT_GT(all[0].at, all[4].at);
  EXPECT_EQ(all[0].user_id, std::nullopt);
  EXPECT_EQ(all[1].user_id, alice);
  EXPECT_EQ(all[1].action, "node.create");
  EXPECT_EQ(all[1].detail, "detail 4");

  std::vector<AuditEntry> first_page = audit.List(2).value();
  EXPECT_THAT(first_page, ElementsAre(Field(&AuditEntry::target, "node 5"),
                                      Field(&AuditEntry::target, "node 4")));
  std::vector<AuditEntry> second_page = audit.List(2, first_page.back().id).value();
  EXPECT_THAT(second_page, ElementsAre(Field(&AuditEntry::target, "node 3"),
                                       Field(&AuditEntry::target, "node 2")));
  std::vector<AuditEntry> last_page = audit.List(2, second_page.back().id).value();
  EXPECT_THAT(last_page, ElementsAre(Field(&AuditEntry::target, "node 1")));
  EXPECT_TRUE(audit.List(2, last_page.back().id).value().empty());
}

TEST_F(StoreTest, AuditListClampsTheLimit) {
  AuditLog audit(db_.get(), &clock_);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(audit.Record(std::nullopt, "a", "", "").ok());
  EXPECT_EQ(audit.List(0).value().size(), 1u);
  EXPECT_EQ(audit.List(-5).value().size(), 1u);
  EXPECT_EQ(Ids(audit.List(1'000'000).value()).size(), 3u);
}

TEST_F(StoreTest, AuditRecordForMissingUserIsNotFound) {
  AuditLog audit(db_.get(), &clock_);
  Status s = audit.Record(UserId(12), "x", "", "");
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.message(), "user 12 not found");
}

}  // namespace
}  // namespace gpuq
