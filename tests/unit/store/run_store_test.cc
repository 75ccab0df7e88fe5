#include "master/store/run_store.h"

#include <gtest/gtest.h>

#include "common/gpu_indices.h"
#include "master/store/task_store.h"
#include "master/store/user_store.h"
#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

using store_test::Exec;
using store_test::StoreTest;

class RunStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    UserId alice = *UserStore(db_.get(), &clock_).Create("alice", "hash", UserRole::kUser);
    TaskStore tasks(db_.get(), &clock_);
    TaskSpec spec;
    spec.command = "echo";
    task1_ = *tasks.Create(spec, alice);
    task2_ = *tasks.Create(spec, alice);
    runs_ = RunStore(db_.get(), &clock_);
  }

  // Runs are written by the master's launcher; here, by SQL.
  void AddRun(TaskId task, int attempt, const std::string& values) {
    Status s =
        Exec(*db_,
             "INSERT INTO runs (task_id, attempt, node_name, gpu_indices, pid, status,"
             " exit_code, created_at, started_at, ended_at, end_reason) VALUES (" +
                 std::to_string(task.value) + ", " + std::to_string(attempt) + ", " + values + ")");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  RunStore runs_{nullptr, nullptr};
  TaskId task1_, task2_;
};

TEST_F(RunStoreTest, ReadsEveryColumn) {
  AddRun(task1_, 1, "'node1', '0,3', 4242, 'failed', 1, 1000, 1500, 9000, 'exit code 1'");
  AddRun(task1_, 2, "'node2', '', NULL, 'starting', NULL, 10000, NULL, NULL, NULL");
  Result<std::vector<RunRow>> runs = runs_.ListForTask(task1_);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 2u);
  const RunRow& r = (*runs)[0];
  EXPECT_EQ(r.task_id, task1_);
  EXPECT_EQ(r.attempt, 1);
  EXPECT_EQ(r.node_id, std::nullopt);
  EXPECT_EQ(r.node_name, "node1");
  EXPECT_EQ(r.gpu_indices, (std::vector<int>{0, 3}));
  EXPECT_EQ(r.pid, 4242);
  EXPECT_EQ(r.status, TaskStatus::kFailed);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.created_at, 1000);
  EXPECT_EQ(r.started_at, 1500);
  EXPECT_EQ(r.ended_at, 9000);
  EXPECT_EQ(r.end_reason, "exit code 1");
  const RunRow& live = (*runs)[1];
  EXPECT_EQ(live.attempt, 2);
  EXPECT_TRUE(live.gpu_indices.empty());
  EXPECT_EQ(live.pid, std::nullopt);
  EXPECT_EQ(live.status, TaskStatus::kStarting);
  EXPECT_EQ(live.exit_code, std::nullopt);
  EXPECT_EQ(live.started_at, std::nullopt);

  Result<RunRow> got = runs_.Get(live.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->node_name, "node2");
  EXPECT_EQ(runs_.Get(RunId(999)).status().message(), "run 999 not found");
  EXPECT_TRUE(runs_.ListForTask(task2_)->empty());
}

TEST_F(RunStoreTest, ListForTasksInOneQuery) {
  AddRun(task2_, 1, "'n', '1', 1, 'running', NULL, 1, 1, NULL, NULL");
  AddRun(task1_, 1, "'n', '0', 2, 'succeeded', 0, 1, 1, 2, NULL");
  AddRun(task1_, 2, "'n', '0', 3, 'running', NULL, 3, 3, NULL, NULL");
  std::vector<TaskId> both = {task2_, task1_};
  Result<std::vector<RunRow>> runs = runs_.ListForTasks(both);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 3u);
  EXPECT_EQ((*runs)[0].task_id, task1_);
  EXPECT_EQ((*runs)[0].attempt, 1);
  EXPECT_EQ((*runs)[1].attempt, 2);
  EXPECT_EQ((*runs)[2].task_id, task2_);
  std::vector<TaskId> one = {task2_};
  EXPECT_EQ(runs_.ListForTasks(one)->size(), 1u);
  EXPECT_TRUE(runs_.ListForTasks({})->empty());
}

TEST(GpuIndicesTest, FormatAndParse) {
  std::vector<int> v = {0, 1, 7};
  EXPECT_EQ(FormatGpuIndices(v), "0,1,7");
  EXPECT_EQ(FormatGpuIndices({}), "");
  EXPECT_EQ(*ParseGpuIndices("0,1,7"), v);
  EXPECT_TRUE(ParseGpuIndices("")->empty());
  for (const char* bad : {",", "1,", "a", "1,,2", "-1", " 1"}) {
    EXPECT_EQ(ParseGpuIndices(bad).status().code(), ErrorCode::kCorruption) << bad;
  }
}

}  // namespace
}  // namespace gpuq
