#include "master/store/task_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "master/store/user_store.h"
#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

using store_test::Exec;
using store_test::Ids;
using store_test::QueryInt;
using store_test::StoreTest;

TaskSpec MakeSpec(std::string command = "echo hi") {
  TaskSpec spec;
  spec.command = std::move(command);
  return spec;
}

class TaskStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    UserStore users(db_.get(), &clock_);
    alice_ = *users.Create("alice", "hash", UserRole::kUser);
    bob_ = *users.Create("bob", "hash", UserRole::kUser);
    ASSERT_TRUE(users.SetPreferences(bob_, "", "failure").ok());
    tasks_ = TaskStore(db_.get(), &clock_);
  }

  // Moves a task along as the master would (the master's own functions come later).
  void SetStatus(TaskId id, const char* status) {
    ASSERT_TRUE(Exec(*db_, "UPDATE tasks SET status = '" + std::string(status) +
                               "' WHERE id = " + std::to_string(id.value))
                    .ok());
  }

  TaskStore tasks_{nullptr, nullptr};
  UserId alice_, bob_;
};

TEST_F(TaskStoreTest, CreateThenGetRoundTripsEveryField) {
  TaskSpec spec;
  spec.name = "train";
  spec.command = "#!/bin/bash\necho \"$HOME\" 'x' `date`\n";
  spec.workdir = "/data/my runs";
  spec.gpus = 2;
  spec.mem_mib = 8192;
  spec.util_pct = 40;
  spec.share = true;
  spec.node = "node1";
  spec.gpu_model = "A100";
  spec.env = {{"A", "1"}, {"B", "x y"}};
  spec.priority = 5;
  spec.time_limit_s = 3600;
  spec.retries = 2;
  spec.notify = "failure";
  Result<TaskId> first = tasks_.Create(MakeSpec(), alice_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  spec.after = {*first};
  Result<TaskId> id = tasks_.Create(spec, alice_);
  ASSERT_TRUE(id.ok()) << id.status().ToString();

  Result<TaskRow> row = tasks_.Get(*id);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->spec, spec);
  EXPECT_EQ(row->user_id, alice_);
  EXPECT_EQ(row->username, "alice");
  EXPECT_EQ(row->status, TaskStatus::kQueued);
  EXPECT_EQ(row->retries_left, 2);
  EXPECT_EQ(row->created_at, clock_.NowUnixMs());
  EXPECT_EQ(row->updated_at, clock_.NowUnixMs());
  EXPECT_EQ(row->ended_at, std::nullopt);
  EXPECT_EQ(row->cancel_requested_at, std::nullopt);
}

TEST_F(TaskStoreTest, HoldAndNotifyDefaultFromTheOwner) {
  TaskSpec spec = MakeSpec();
  spec.hold = true;
  TaskRow held = *tasks_.Get(*tasks_.Create(spec, alice_));
  EXPECT_EQ(held.status, TaskStatus::kHeld);
  EXPECT_TRUE(held.spec.hold);
  EXPECT_EQ(held.spec.notify, "end");  // alice's default
  EXPECT_EQ(tasks_.Get(*tasks_.Create(MakeSpec(), bob_))->spec.notify, "failure");
  spec.notify = "off";
  EXPECT_EQ(tasks_.Get(*tasks_.Create(spec, bob_))->spec.notify, "off");
}

TEST_F(TaskStoreTest, CreateRefusesMissingDependenciesBadSpecsAndOwners) {
  TaskSpec spec = MakeSpec();
  spec.after = {TaskId(42)};
  Result<TaskId> id = tasks_.Create(spec, alice_);
  EXPECT_EQ(id.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(id.status().field(), "after");
  EXPECT_EQ(id.status().message(), "task 42 does not exist");
  EXPECT_EQ(tasks_.Create(MakeSpec(""), alice_).status().field(), "command");
  EXPECT_EQ(tasks_.Create(MakeSpec(), UserId(99)).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM tasks"), 0);
}

TEST_F(TaskStoreTest, CreateManyIsAllOrNothing) {
  std::vector<TaskSpec> specs(5, MakeSpec());
  specs[3].gpus = 99;  // fails validation
  size_t failed = 0;
  Result<std::vector<TaskId>> ids = tasks_.CreateMany(specs, alice_, &failed);
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(failed, 3u);
  EXPECT_EQ(ids.status().field(), "gpus");
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM tasks"), 0);

  specs[3].gpus = 1;
  specs[4].after = {TaskId(12345)};
  ids = tasks_.CreateMany(specs, alice_, &failed);
  EXPECT_EQ(failed, 4u);
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM tasks"), 0);

  specs[4].after.clear();
  ids = tasks_.CreateMany(specs, alice_, &failed);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(failed, 5u);
  ASSERT_EQ(ids->size(), 5u);
  for (size_t i = 1; i < ids->size(); ++i) EXPECT_EQ((*ids)[i].value, (*ids)[i - 1].value + 1);
}

TEST_F(TaskStoreTest, CreateManyOfAThousandIsQuick) {
  std::vector<TaskSpec> specs;
  for (int i = 0; i < 1000; ++i) {
    TaskSpec spec = MakeSpec("python train.py --seed " + std::to_string(i) + "\necho done");
    spec.name = "job" + std::to_string(i);
    specs.push_back(spec);
  }
  auto start = std::chrono::steady_clock::now();
  Result<std::vector<TaskId>> ids = tasks_.CreateMany(specs, alice_);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(ids->size(), 1000u);
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM tasks"), 1000);
  // Generous for sanitizer builds; one transaction does this in a few ms.
  EXPECT_LT(elapsed, std::chrono::seconds(1));
}

TEST_F(TaskStoreTest, MissingTaskIsNotFoundNamingIt) {
  EXPECT_EQ(tasks_.Get(TaskId(7)).status().message(), "task 7 not found");
  EXPECT_EQ(tasks_.Update(TaskId(7), TaskPatch{}).code(), ErrorCode::kNotFound);
  EXPECT_EQ(tasks_.SetHeld(TaskId(7), true).code(), ErrorCode::kNotFound);
  EXPECT_EQ(tasks_.Cancel(TaskId(7)).status().code(), ErrorCode::kNotFound);
}

TEST_F(TaskStoreTest, ListIsNewestFirstAndFilters) {
  TaskId a1 = *tasks_.Create(MakeSpec(), alice_);
  TaskId b1 = *tasks_.Create(MakeSpec(), bob_);
  TaskId a2 = *tasks_.Create(MakeSpec(), alice_);
  TaskId a3 = *tasks_.Create(MakeSpec(), alice_);
  SetStatus(a2, "running");
  ASSERT_TRUE(tasks_.Cancel(a3).ok());

  EXPECT_EQ(Ids(*tasks_.List({})), (std::vector<int64_t>{a3.value, a2.value, b1.value, a1.value}));
  TaskFilter f;
  f.user = alice_;
  EXPECT_EQ(Ids(*tasks_.List(f)), (std::vector<int64_t>{a3.value, a2.value, a1.value}));
  f.statuses = {TaskStatus::kQueued, TaskStatus::kRunning};
  EXPECT_EQ(Ids(*tasks_.List(f)), (std::vector<int64_t>{a2.value, a1.value}));
  f.before_id = a2;
  EXPECT_EQ(Ids(*tasks_.List(f)), (std::vector<int64_t>{a1.value}));
  TaskFilter page;
  page.limit = 2;
  EXPECT_EQ(Ids(*tasks_.List(page)), (std::vector<int64_t>{a3.value, a2.value}));
  page.before_id = a2;
  EXPECT_EQ(Ids(*tasks_.List(page)), (std::vector<int64_t>{b1.value, a1.value}));
  TaskFilter cancelled;
  cancelled.statuses = {TaskStatus::kCancelled};
  EXPECT_EQ(Ids(*tasks_.List(cancelled)), (std::vector<int64_t>{a3.value}));
  page.limit = 0;  // clamped to 1
  EXPECT_EQ(tasks_.List(page)->size(), 1u);
}

TEST_F(TaskStoreTest, UpdateChangesOnlyGivenFieldsWhileNotStarted) {
  TaskSpec spec = MakeSpec();
  spec.node = "node1";
  spec.time_limit_s = 60;
  TaskId id = *tasks_.Create(spec, alice_);
  clock_.Advance(std::chrono::seconds(5));
  TaskPatch patch;
  patch.gpus = 3;
  patch.command = "echo 'new'";
  patch.node = "";
  patch.time_limit_s = std::optional<int64_t>();
  patch.retries = 4;
  ASSERT_TRUE(tasks_.Update(id, patch).ok());
  TaskRow row = *tasks_.Get(id);
  EXPECT_EQ(row.spec.gpus, 3);
  EXPECT_EQ(row.spec.command, "echo 'new'");
  EXPECT_EQ(row.spec.node, "");
  EXPECT_EQ(row.spec.time_limit_s, std::nullopt);
  EXPECT_EQ(row.spec.retries, 4);
  EXPECT_EQ(row.retries_left, 4);
  EXPECT_EQ(row.status, TaskStatus::kQueued);
  EXPECT_EQ(row.updated_at, clock_.NowUnixMs());
  EXPECT_LT(row.created_at, row.updated_at);

  TaskPatch hold;
  hold.hold = true;
  ASSERT_TRUE(tasks_.Update(id, hold).ok());
  EXPECT_EQ(tasks_.Get(id)->status, TaskStatus::kHeld);
  EXPECT_EQ(tasks_.Get(id)->spec.gpus, 3);
}

TEST_F(TaskStoreTest, UpdateValidatesThePatchedSpecAsAWhole) {
  TaskId id = *tasks_.Create(MakeSpec(), alice_);
  TaskPatch share;
  share.share = true;  // without mem_mib
  EXPECT_EQ(tasks_.Update(id, share).field(), "share");
  share.mem_mib = 1000;
  EXPECT_TRUE(tasks_.Update(id, share).ok());
  TaskPatch cpu_only;
  cpu_only.gpus = 0;  // the task now has mem_mib
  EXPECT_EQ(tasks_.Update(id, cpu_only).field(), "mem_mib");
  EXPECT_EQ(tasks_.Get(id)->spec.gpus, 1);
}

TEST_F(TaskStoreTest, UpdateRefusedOnceStarted) {
  TaskId id = *tasks_.Create(MakeSpec(), alice_);
  TaskPatch patch;
  patch.gpus = 2;
  for (const char* status : {"starting", "running"}) {
    SetStatus(id, status);
    Status s = tasks_.Update(id, patch);
    EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition);
    EXPECT_EQ(s.message(), "task 1 has already started (" + std::string(status) +
                               "); only a held or queued task can be edited");
    EXPECT_EQ(tasks_.SetHeld(id, true).code(), ErrorCode::kFailedPrecondition);
  }
  SetStatus(id, "succeeded");
  EXPECT_EQ(tasks_.Update(id, patch).message(), "task 1 already ended (succeeded)");
  EXPECT_EQ(tasks_.Get(id)->spec.gpus, 1);
}

TEST_F(TaskStoreTest, DependenciesMustExistAndNeverFormACycle) {
  TaskId a = *tasks_.Create(MakeSpec(), alice_);
  TaskSpec after_a = MakeSpec();
  after_a.after = {a};
  TaskId b = *tasks_.Create(after_a, alice_);
  TaskSpec after_b = MakeSpec();
  after_b.after = {b};
  TaskId c = *tasks_.Create(after_b, alice_);

  TaskPatch self;
  self.after = std::vector<TaskId>{a};
  Status s = tasks_.Update(a, self);
  EXPECT_EQ(s.field(), "after");
  EXPECT_EQ(s.message(), "a task cannot wait for itself");
  TaskPatch cycle;
  cycle.after = std::vector<TaskId>{c};  // c waits for b, which waits for a
  s = tasks_.Update(a, cycle);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "after");
  TaskPatch missing;
  missing.after = std::vector<TaskId>{TaskId(99)};
  EXPECT_EQ(tasks_.Update(a, missing).message(), "task 99 does not exist");
  TaskPatch fine;
  fine.after = std::vector<TaskId>{};
  EXPECT_TRUE(tasks_.Update(c, fine).ok());
  fine.after = std::vector<TaskId>{a, b};
  EXPECT_TRUE(tasks_.Update(c, fine).ok());
  EXPECT_EQ(tasks_.Get(c)->spec.after, (std::vector<TaskId>{a, b}));
}

TEST_F(TaskStoreTest, HoldAndReleaseAreIdempotent) {
  TaskId id = *tasks_.Create(MakeSpec(), alice_);
  ASSERT_TRUE(tasks_.SetHeld(id, true).ok());
  EXPECT_EQ(tasks_.Get(id)->status, TaskStatus::kHeld);
  ASSERT_TRUE(tasks_.SetHeld(id, true).ok());
  EXPECT_EQ(tasks_.Get(id)->status, TaskStatus::kHeld);
  ASSERT_TRUE(tasks_.SetHeld(id, false).ok());
  ASSERT_TRUE(tasks_.SetHeld(id, false).ok());
  EXPECT_EQ(tasks_.Get(id)->status, TaskStatus::kQueued);
}

TEST_F(TaskStoreTest, CancelEndsAWaitingTaskAtOnce) {
  TaskSpec held = MakeSpec();
  held.hold = true;
  for (const TaskSpec& spec : {MakeSpec(), held}) {
    TaskId id = *tasks_.Create(spec, alice_);
    clock_.Advance(std::chrono::seconds(1));
    Result<CancelOutcome> outcome = tasks_.Cancel(id);
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    EXPECT_EQ(*outcome, CancelOutcome::kEnded);
    TaskRow row = *tasks_.Get(id);
    EXPECT_EQ(row.status, TaskStatus::kCancelled);
    EXPECT_EQ(row.ended_at, clock_.NowUnixMs());
    EXPECT_EQ(row.cancel_requested_at, std::nullopt);
    Result<CancelOutcome> again = tasks_.Cancel(id);
    EXPECT_EQ(again.status().code(), ErrorCode::kFailedPrecondition);
    EXPECT_EQ(again.status().message(),
              "task " + std::to_string(id.value) + " already ended (cancelled)");
  }
}

TEST_F(TaskStoreTest, CancelOfALiveTaskAsksTheMaster) {
  TaskId id = *tasks_.Create(MakeSpec(), alice_);
  SetStatus(id, "running");
  const UnixMs first = clock_.NowUnixMs();
  Result<CancelOutcome> outcome = tasks_.Cancel(id);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, CancelOutcome::kKillRequested);
  clock_.Advance(std::chrono::seconds(3));
  EXPECT_EQ(*tasks_.Cancel(id), CancelOutcome::kKillRequested);  // asked again: still the master's
  TaskRow row = *tasks_.Get(id);
  EXPECT_EQ(row.status, TaskStatus::kRunning);  // the end is the master's to record
  EXPECT_EQ(row.cancel_requested_at, first);    // the first request is kept
  EXPECT_EQ(row.ended_at, std::nullopt);

  for (const char* ended : {"succeeded", "failed", "timed_out", "lost"}) {
    SetStatus(id, ended);
    EXPECT_EQ(tasks_.Cancel(id).status().message(),
              "task " + std::to_string(id.value) + " already ended (" + ended + ")");
  }
}

}  // namespace
}  // namespace gpuq
