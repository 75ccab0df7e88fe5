// The panel's reads of the task store: the queue's head, the latest ends, counts by status,
// and the node filter of the task list; and the live runs that hold GPUs.
#include <gtest/gtest.h>

#include "master/store/gpu_holders.h"
#include "master/store/task_store.h"
#include "master/store/user_store.h"
#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

using store_test::Exec;
using store_test::Ids;
using store_test::StoreTest;

class TaskStorePanelTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    UserStore users(db_.get(), &clock_);
    alice_ = *users.Create("alice", "hash", UserRole::kUser);
    bob_ = *users.Create("bob", "hash", UserRole::kUser);
  }
  TaskId Add(UserId owner, int priority = 0, bool hold = false) {
    TaskSpec spec;
    spec.command = "echo";
    spec.priority = priority;
    spec.hold = hold;
    clock_.Advance(std::chrono::milliseconds(1));
    return *TaskStore(db_.get(), &clock_).Create(spec, owner);
  }
  void Sql(const std::string& sql) { ASSERT_TRUE(Exec(*db_, sql).ok()) << sql; }

  UserId alice_, bob_;
};

TEST_F(TaskStorePanelTest, QueueHeadIsInSchedulingOrderThenHeldAndBounded) {
  TaskId a = Add(alice_, 0), b = Add(bob_, 5), c = Add(alice_, 0), held = Add(alice_, 9, true);
  TaskId ended = Add(alice_, 100);
  Sql("UPDATE tasks SET status = 'succeeded', ended_at = 1 WHERE id = " +
      std::to_string(ended.value));
  TaskStore store(db_.get(), &clock_);
  EXPECT_EQ(Ids(*store.QueueHead(10, std::nullopt)),
            (std::vector<int64_t>{b.value, a.value, c.value, held.value}));
  EXPECT_EQ(Ids(*store.QueueHead(2, std::nullopt)), (std::vector<int64_t>{b.value, a.value}));
  EXPECT_EQ(Ids(*store.QueueHead(10, alice_)),
            (std::vector<int64_t>{a.value, c.value, held.value}));
}

TEST_F(TaskStorePanelTest, RecentEndsAreLatestEndFirstAndCountsAreByStatus) {
  TaskId a = Add(alice_), b = Add(bob_), c = Add(alice_);
  Add(alice_);  // stays queued
  Sql("UPDATE tasks SET status = 'failed', ended_at = 300 WHERE id = " + std::to_string(a.value));
  Sql("UPDATE tasks SET status = 'succeeded', ended_at = 500 WHERE id = " +
      std::to_string(b.value));
  Sql("UPDATE tasks SET status = 'succeeded', ended_at = 100 WHERE id = " +
      std::to_string(c.value));
  TaskStore store(db_.get(), &clock_);
  EXPECT_EQ(Ids(*store.RecentEnds(10, std::nullopt)),
            (std::vector<int64_t>{b.value, a.value, c.value}));
  EXPECT_EQ(Ids(*store.RecentEnds(1, alice_)), (std::vector<int64_t>{a.value}));
  auto all = *store.CountByStatus(std::nullopt);
  EXPECT_EQ(all[TaskStatus::kSucceeded], 2);
  EXPECT_EQ(all[TaskStatus::kFailed], 1);
  EXPECT_EQ(all[TaskStatus::kQueued], 1);
  auto mine = *store.CountByStatus(alice_);
  EXPECT_EQ(mine[TaskStatus::kSucceeded], 1);
  EXPECT_EQ(mine.count(TaskStatus::kRunning), 0u);
}

TEST_F(TaskStorePanelTest, ListByRunNodeAndGpuHolders) {
  TaskId a = Add(alice_), b = Add(bob_);
  Sql("INSERT INTO nodes (name, host, created_at, updated_at) VALUES ('gpu1', '127.0.0.1', 0, 0)");
  Sql("UPDATE tasks SET status = 'running' WHERE id = " + std::to_string(a.value));
  Sql("INSERT INTO runs (task_id, attempt, node_id, node_name, gpu_indices, remote_user, status, "
      "created_at)"
      " VALUES (" +
      std::to_string(a.value) + ", 1, 1, 'gpu1', '0,2', 'alice', 'running', 0)");
  Sql("INSERT INTO runs (task_id, attempt, node_id, node_name, gpu_indices, status, created_at, "
      "ended_at)"
      " VALUES (" +
      std::to_string(b.value) + ", 1, 1, 'gpu1', '1', 'failed', 0, 1)");
  TaskFilter filter;
  filter.run_node = "gpu1";
  EXPECT_EQ(Ids(*TaskStore(db_.get(), &clock_).List(filter)),
            (std::vector<int64_t>{b.value, a.value}));
  filter.run_node = "gpu2";
  EXPECT_TRUE(TaskStore(db_.get(), &clock_).List(filter)->empty());
  // A task bound to the node counts too, before it ever ran there.
  TaskSpec bound;
  bound.command = "echo";
  bound.node = "gpu2";
  TaskId c = *TaskStore(db_.get(), &clock_).Create(bound, bob_);
  filter.user = bob_;
  EXPECT_EQ(Ids(*TaskStore(db_.get(), &clock_).List(filter)), (std::vector<int64_t>{c.value}));

  Result<std::vector<GpuHolder>> holders = ListGpuHolders(db_.get());
  ASSERT_TRUE(holders.ok()) << holders.status().ToString();
  ASSERT_EQ(holders->size(), 1u);  // the failed run holds nothing
  EXPECT_EQ((*holders)[0].run.task_id, a);
  EXPECT_EQ((*holders)[0].run.gpu_indices, (std::vector<int>{0, 2}));
  EXPECT_EQ((*holders)[0].username, "alice");
  EXPECT_EQ((*holders)[0].user_id, alice_);
}

}  // namespace
}  // namespace gpuq
