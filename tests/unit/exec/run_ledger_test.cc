#include "master/exec/run_ledger.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>

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
    ASSERT_TRUE(
        CredentialStore(db_.get(), &clock_).Put(alice_, "alice", "sealed", "SHA256:k").ok());
    node_ =
        *NodeStore(db_.get(), &clock_).Create(NodeSpec{"n1", "127.0.0.1", 22, "nvidia-smi", true});
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

TEST_F(RunLedgerTest, TimedOutRunOfARequeueTaskQueuesItBehindItsPriorityClass) {
  TaskSpec spec;
  spec.command = "train";
  spec.on_time_limit = "requeue";
  TaskStore tasks(db_.get(), &clock_);
  TaskId looping = *tasks.Create(spec, alice_);
  clock_.Advance(std::chrono::milliseconds(1000));
  TaskId later = Submit();
  RunId first = *Ledger().Reserve(looping, node_, "n1", {0}, "alice");
  ASSERT_TRUE(Ledger().MarkRunning(first, 10).ok());
  clock_.Advance(std::chrono::milliseconds(5000));
  ASSERT_TRUE(*Ledger().End(first, "timed_out", 143, "time limit reached; requeued"));
  EXPECT_EQ(TaskStatusOf(looping), "queued");
  EXPECT_EQ(tasks.Get(looping)->retries_left, 0) << "a requeue takes no retry";

  std::map<TaskId, std::string> waiting;
  Result<std::vector<TaskRequest>> queue = Ledger().Runnable(&waiting);
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ(queue->size(), 2u);
  std::map<TaskId, UnixMs> place;
  for (const TaskRequest& t : *queue) place[t.id] = t.submitted_at;
  EXPECT_GT(place[looping], place[later]) << "requeued: behind the task submitted after it";

  // It runs again as attempt 2, and a cancel during a stop at the limit ends it for good.
  RunId second = *Ledger().Reserve(looping, node_, "n1", {0}, "alice");
  ASSERT_TRUE(tasks.Cancel(looping).ok());
  ASSERT_TRUE(*Ledger().End(second, "timed_out", 143, "time limit reached"));
  EXPECT_EQ(TaskStatusOf(looping), "timed_out");
}

TEST_F(RunLedgerTest, TimedOutRunOfAKillTaskEndsIt) {
  TaskId task = Submit();
  RunId run = *Ledger().Reserve(task, node_, "n1", {0}, "alice");
  ASSERT_TRUE(*Ledger().End(run, "timed_out", 143, "time limit reached"));
  EXPECT_EQ(TaskStatusOf(task), "timed_out");
}

TEST_F(RunLedgerTest, DefaultTimeLimitIsFixedOnTheRunAtReserve) {
  TaskId none = Submit();
  TaskSpec spec;
  spec.command = "true";
  spec.time_limit_s = 60;
  TaskId own = *TaskStore(db_.get(), &clock_).Create(spec, alice_);
  std::map<TaskId, std::string> waiting;
  Result<std::vector<TaskRequest>> queue = Ledger().Runnable(&waiting, 3600);
  ASSERT_TRUE(queue.ok());
  for (const TaskRequest& t : *queue) {
    EXPECT_EQ(t.time_limit_s, t.id == own ? 60 : 3600) << "task " << t.id.value;
  }
  ASSERT_TRUE(Ledger().Reserve(none, node_, "n1", {0}, "alice", 3600).ok());
  ASSERT_TRUE(Ledger().Reserve(own, node_, "n1", {1}, "alice", 3600).ok());
  std::map<TaskId, std::optional<int64_t>> limits;
  Result<std::vector<LiveRun>> live = Ledger().Live();
  ASSERT_TRUE(live.ok());
  for (const LiveRun& l : *live) limits[l.task] = l.time_limit_s;
  EXPECT_EQ(limits[none], 3600);
  EXPECT_EQ(limits[own], 60);
}

TEST_F(RunLedgerTest, RunnableCarriesPinningAndSpecCarriesTheEnvironment) {
  TaskSpec spec;
  spec.command = "python train.py";
  spec.gpus = 2;
  spec.gpu_ids = {0, 2, 3};
  spec.prefer_gpus = {2};
  spec.venv = "~/venvs/a b";
  TaskId task = *TaskStore(db_.get(), &clock_).Create(spec, alice_);
  std::map<TaskId, std::string> waiting;
  Result<std::vector<TaskRequest>> queue = Ledger().Runnable(&waiting);
  ASSERT_EQ(queue->size(), 1u);
  EXPECT_EQ((*queue)[0].gpu_ids, (std::vector<int>{0, 2, 3}));
  EXPECT_EQ((*queue)[0].prefer_gpus, (std::vector<int>{2}));
  Result<LaunchSpec> launch = Ledger().Spec(task);
  ASSERT_TRUE(launch.ok());
  EXPECT_EQ(launch->venv, "~/venvs/a b");
  EXPECT_EQ(launch->conda, "");
}

}  // namespace
}  // namespace gpuq
