#include "master/exec/run_ledger.h"

#include <gtest/gtest.h>

#include "common/task_spec.h"
#include "master/store/credential_store.h"
#include "master/store/node_store.h"
#include "master/store/task_store.h"
#include "master/store/user_store.h"
#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

// The ledger's transitions against the real schema: what a master killed at any moment
// leaves behind must be a state reconciliation can finish.
class RunLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = store_test::OpenMemoryDb();
    alice_ = *UserStore(db_.get(), &clock_).Create("alice", "hash", UserRole::kUser);
    ASSERT_TRUE(CredentialStore(db_.get(), &clock_).Put(alice_, "alice", "sealed", "SHA256:k").ok());
    node_ = *NodeStore(db_.get(), &clock_).Create(NodeSpec{"n1", "127.0.0.1", 22, "nvidia-smi", true});
  }

  TaskId Submit(int retries = 0, std::vector<TaskId> after = {}) {
    TaskSpec spec;
    spec.command = "true";
    spec.retries = retries;
    spec.after = std::move(after);
    Result<TaskId> id = TaskStore(db_.get(), &clock_).Create(spec, alice_);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return *id;
  }

  std::string TaskStatusOf(TaskId id) {
    return std::string(TaskStatusName(TaskStore(db_.get(), &clock_).Get(id)->status));
  }

  FakeClock clock_;
  std::unique_ptr<Database> db_;
  UserId alice_;
  NodeId node_;
  RunLedger Ledger() { return RunLedger(db_.get(), &clock_); }
};

TEST_F(RunLedgerTest, ReserveClaimsOnlyQueuedTasksAndCountsAttempts) {
  TaskId task = Submit(/*retries=*/1);
  Result<RunId> run = Ledger().Reserve(task, node_, "n1", {0, 2}, "alice");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(TaskStatusOf(task), "starting");
  // A second placement of the same task (a stale snapshot) is refused.
  EXPECT_EQ(Ledger().Reserve(task, node_, "n1", {1}, "alice").status().code(),
            ErrorCode::kFailedPrecondition);

  Result<std::vector<LiveRun>> live = Ledger().Live();
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].gpu_indices, (std::vector<int>{0, 2}));
  EXPECT_EQ((*live)[0].status, "starting");
}

// Notifications (migrations/0003): a start and an end each record one event in their own
// transaction; a replayed start or end records none.
TEST_F(RunLedgerTest, StartsAndEndsRecordOneNotifyEventEach) {
  TaskId task = Submit(/*retries=*/1);
  RunId first = *Ledger().Reserve(task, node_, "n1", {0}, "alice");
  ASSERT_TRUE(Ledger().MarkRunning(first, 10).ok());
  ASSERT_TRUE(Ledger().MarkRunning(first, 10).ok());
  ASSERT_TRUE(*Ledger().End(first, "failed", 1, "exit code 1"));
  ASSERT_FALSE(*Ledger().End(first, "failed", 1, "replayed"));
  RunId second = *Ledger().Reserve(task, node_, "n1", {0}, "alice");
  ASSERT_TRUE(*Ledger().End(second, "failed", 1, "exit code 1"));  // never reported running
  EXPECT_EQ(
      store_test::QueryInt(*db_, "SELECT COUNT(*) FROM notify_events WHERE kind = 'run_started'"),
      1);
  EXPECT_EQ(
      store_test::QueryInt(*db_, "SELECT COUNT(*) FROM notify_events WHERE kind = 'run_ended'"), 2);
  // The retried end is not final; the last one is.
  EXPECT_EQ(store_test::QueryInt(*db_,
                                 "SELECT COUNT(*) FROM notify_events WHERE kind = 'run_ended' "
                                 "AND json_extract(facts_json, '$.final') = 0 "
                                 "AND json_extract(facts_json, '$.run') = " +
                                     std::to_string(first.value)),
            1);
  EXPECT_EQ(store_test::QueryInt(*db_,
                                 "SELECT COUNT(*) FROM notify_events WHERE kind = 'run_ended' "
                                 "AND json_extract(facts_json, '$.final') = 1 "
                                 "AND json_extract(facts_json, '$.run') = " +
                                     std::to_string(second.value)),
            1);
}

TEST_F(RunLedgerTest, EndsAreIdempotent) {
  TaskId task = Submit();
  RunId run = *Ledger().Reserve(task, node_, "n1", {0}, "alice");
  ASSERT_TRUE(Ledger().MarkRunning(run, 4121).ok());
  EXPECT_EQ(TaskStatusOf(task), "running");
  EXPECT_TRUE(*Ledger().End(run, "succeeded", 0, "exit code 0"));
  EXPECT_FALSE(*Ledger().End(run, "failed", 1, "replayed event"));  // seen twice, ends once
  EXPECT_EQ(TaskStatusOf(task), "succeeded");
  EXPECT_TRUE(Ledger().Live()->empty());
  // Marking an ended run running (a late start event) changes nothing.
  ASSERT_TRUE(Ledger().MarkRunning(run, 4121).ok());
  EXPECT_EQ(TaskStatusOf(task), "succeeded");
}

TEST_F(RunLedgerTest, FailedRunWithRetriesLeftRequeuesTheTask) {
  TaskId task = Submit(/*retries=*/1);
  RunId first = *Ledger().Reserve(task, node_, "n1", {0}, "alice");
  ASSERT_TRUE(*Ledger().End(first, "failed", 3, "exit code 3"));
  EXPECT_EQ(TaskStatusOf(task), "queued");
  RunId second = *Ledger().Reserve(task, node_, "n1", {0}, "alice");
  ASSERT_TRUE(*Ledger().End(second, "failed", 3, "exit code 3"));
  EXPECT_EQ(TaskStatusOf(task), "failed");  // no retries left
}

TEST_F(RunLedgerTest, LostAndTimedOutRunsAreNotRetried) {
  for (const char* status : {"lost", "timed_out", "cancelled"}) {
    TaskId task = Submit(/*retries=*/3);
    RunId run = *Ledger().Reserve(task, node_, "n1", {0}, "alice");
    ASSERT_TRUE(*Ledger().End(run, status, std::nullopt, status));
    EXPECT_EQ(TaskStatusOf(task), status);
  }
}

TEST_F(RunLedgerTest, RunnableWaitsForDependenciesAndCredentials) {
  TaskId first = Submit();
  TaskId second = Submit(0, {first});
  std::map<TaskId, std::string> waiting;
  Result<std::vector<TaskRequest>> queue = Ledger().Runnable(&waiting);
  ASSERT_EQ(queue->size(), 1u);
  EXPECT_EQ((*queue)[0].id, first);
  EXPECT_EQ(waiting[second], "waiting for task " + std::to_string(first.value) + " is queued");

  RunId run = *Ledger().Reserve(first, node_, "n1", {0}, "alice");
  ASSERT_TRUE(*Ledger().End(run, "succeeded", 0, "exit code 0"));
  waiting.clear();
  queue = Ledger().Runnable(&waiting);
  ASSERT_EQ(queue->size(), 1u);
  EXPECT_EQ((*queue)[0].id, second);

  ASSERT_TRUE(CredentialStore(db_.get(), &clock_).Delete(alice_).ok());
  waiting.clear();
  EXPECT_TRUE(Ledger().Runnable(&waiting)->empty());
  EXPECT_NE(waiting[second].find("no SSH credential"), std::string::npos);
}

TEST_F(RunLedgerTest, FailureCancelsDependentsTransitively) {
  TaskId first = Submit();
  TaskId second = Submit(0, {first});
  TaskId third = Submit(0, {second});
  RunId run = *Ledger().Reserve(first, node_, "n1", {0}, "alice");
  ASSERT_TRUE(*Ledger().End(run, "failed", 1, "exit code 1"));
  EXPECT_EQ(TaskStatusOf(second), "cancelled");
  EXPECT_EQ(TaskStatusOf(third), "cancelled");
}

TEST_F(RunLedgerTest, SpecCarriesTheCommandByteForByteAndTheEnvironment) {
  TaskSpec spec;
  spec.command = "echo \"it's\" `id` $HOME\nexit 3";
  spec.workdir = "/data/my runs";
  spec.env = {{"A", "x y"}};
  TaskId task = *TaskStore(db_.get(), &clock_).Create(spec, alice_);
  Result<LaunchSpec> launch = Ledger().Spec(task);
  ASSERT_TRUE(launch.ok());
  EXPECT_EQ(launch->command, spec.command);
  EXPECT_EQ(launch->workdir, spec.workdir);
  EXPECT_EQ(launch->env.at("A"), "x y");
  EXPECT_EQ(launch->owner, alice_);
}

}  // namespace
}  // namespace gpuq
