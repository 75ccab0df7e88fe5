#include "master/store/retention.h"

#include <gtest/gtest.h>

#include "master/store/task_store.h"
#include "master/store/user_store.h"
#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

using store_test::Exec;
using store_test::QueryInt;
using store_test::StoreTest;

class RetentionTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    alice_ = *UserStore(db_.get(), &clock_).Create("alice", "hash", UserRole::kUser);
  }
  TaskId Add(std::vector<TaskId> after = {}) {
    TaskSpec spec;
    spec.command = "echo";
    spec.after = std::move(after);
    return *TaskStore(db_.get(), &clock_).Create(spec, alice_);
  }
  void End(TaskId id, UnixMs at) {
    ASSERT_TRUE(Exec(*db_, "UPDATE tasks SET status = 'succeeded', ended_at = " +
                               std::to_string(at) + " WHERE id = " + std::to_string(id.value))
                    .ok());
    ASSERT_TRUE(
        Exec(*db_, "INSERT INTO runs (task_id, attempt, status, created_at, ended_at) VALUES (" +
                       std::to_string(id.value) + ", 1, 'succeeded', 0, " + std::to_string(at) +
                       ")")
            .ok());
  }
  bool Exists(TaskId id) {
    return QueryInt(*db_, "SELECT COUNT(*) FROM tasks WHERE id = " + std::to_string(id.value)) == 1;
  }
  UserId alice_;
};

TEST_F(RetentionTest, DeletesOnlyTasksThatEndedBeforeTheCutoffWithTheirRuns) {
  TaskId old1 = Add(), old2 = Add(), recent = Add(), queued = Add();
  End(old1, 100);
  End(old2, 200);
  End(recent, 1000);
  Result<PurgeResult> r = PurgeEndedTasks(db_.get(), 500, 100);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tasks, 2);
  EXPECT_EQ(r->runs.size(), 2u);
  EXPECT_FALSE(Exists(old1));
  EXPECT_FALSE(Exists(old2));
  EXPECT_TRUE(Exists(recent));
  EXPECT_TRUE(Exists(queued));
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM runs"), 1);
}

TEST_F(RetentionTest, KeepsATaskThatAWaitingTaskDependsOnAndHonoursTheLimit) {
  TaskId dep = Add(), a = Add(), b = Add();
  End(dep, 100);
  End(a, 100);
  End(b, 150);
  TaskId waiting = Add({dep});
  Result<PurgeResult> r = PurgeEndedTasks(db_.get(), 500, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tasks, 1);
  EXPECT_FALSE(Exists(a));  // the oldest end first
  EXPECT_TRUE(Exists(b));
  r = PurgeEndedTasks(db_.get(), 500, 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tasks, 1);
  EXPECT_TRUE(Exists(dep));  // `waiting` still needs it
  EXPECT_TRUE(Exists(waiting));
  End(waiting, 300);
  r = PurgeEndedTasks(db_.get(), 500, 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tasks, 2);
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM tasks"), 0);
}

}  // namespace
}  // namespace gpuq
