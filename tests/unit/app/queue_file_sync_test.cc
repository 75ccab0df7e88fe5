#include "master/app/queue_file_sync.h"

#include <gtest/gtest.h>

#include "common/csv.h"
#include "master/exec/run_ledger.h"
#include "master/store/node_store.h"
#include "master/store/task_store.h"
#include "master/store/user_store.h"
#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

constexpr char kHeader[] =
    "task_id,task_name,command,work_dir,n_gpus,execution,notify,status,allocated_gpus,"
    "start_time,end_time\n";

// The queue file's rules against the real schema: rows in, tasks and write-back text out.
class QueueFileSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = store_test::OpenMemoryDb();
    owner_ = *UserStore(db_.get(), &clock_).Create("admin", "hash", UserRole::kAdmin);
    sync_ = std::make_unique<QueueFileSync>(db_.get(), &clock_, "/lab/tasks.csv", owner_);
  }

  // Syncs and returns the text to write back (failing the test on an error).
  std::string Sync(const std::string& text) {
    Result<QueueSyncResult> r = sync_->Sync(text);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->text : "";
  }

  // The records of a text, header first.
  static std::vector<std::vector<std::string>> Rows(const std::string& text) {
    std::vector<std::vector<std::string>> out;
    Result<std::vector<CsvRecord>> records = ParseCsv(text);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    if (!records.ok()) return out;
    for (const CsvRecord& r : *records) out.push_back(r.fields);
    return out;
  }

  TaskRow Task(const std::string& id) {
    Result<TaskRow> row = TaskStore(db_.get(), &clock_).Get(TaskId(std::stoll(id)));
    EXPECT_TRUE(row.ok());
    return *row;
  }

  FakeClock clock_;
  std::unique_ptr<Database> db_;
  UserId owner_;
  std::unique_ptr<QueueFileSync> sync_;
};

TEST_F(QueueFileSyncTest, NewRowsAreSubmittedAndGetTheirIdsWrittenBack) {
  std::string text = std::string(kHeader) +
                     ",train,python train.py --lr 0.1,/data,2,Yes,Yes,,,,\n"
                     ",later,\"echo \"\"a, b\"\"\",,1,No,No,,,,\n";
  std::string out = Sync(text);
  auto rows = Rows(out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], "task_id");
  TaskRow train = Task(rows[1][0]);
  EXPECT_EQ(train.spec.command, "python train.py --lr 0.1");
  EXPECT_EQ(train.spec.gpus, 2);
  EXPECT_EQ(train.spec.notify, "end");
  EXPECT_EQ(rows[1][7], "queued");
  TaskRow later = Task(rows[2][0]);
  EXPECT_EQ(later.status, TaskStatus::kHeld);
  EXPECT_EQ(rows[2][2], "echo \"a, b\"") << "other fields are written back as read";
  // Syncing what was written back changes nothing and submits nothing twice.
  EXPECT_EQ(Sync(out), out);
  EXPECT_EQ(store_test::QueryInt(*db_, "SELECT COUNT(*) FROM tasks"), 2);
}

TEST_F(QueueFileSyncTest, EditedRowUpdatesAPendingTaskAndReleasesIt) {
  std::string out = Sync(std::string(kHeader) + ",a,sleep 1,,1,No,No,,,,\n");
  std::string id = Rows(out)[1][0];
  std::string edited = std::string(kHeader) + id + ",a2,sleep 2,/w,0,Yes,No,held,,,\n";
  Result<QueueSyncResult> r = sync_->Sync(edited);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->tasks_changed);
  TaskRow task = Task(id);
  EXPECT_EQ(task.spec.name, "a2");
  EXPECT_EQ(task.spec.command, "sleep 2");
  EXPECT_EQ(task.spec.workdir, "/w");
  EXPECT_EQ(task.spec.gpus, 0);
  EXPECT_EQ(task.status, TaskStatus::kQueued);
  EXPECT_EQ(Rows(r->text)[1][7], "queued");
}

TEST_F(QueueFileSyncTest, EditOfAStartedTaskIsIgnoredAndRemovalDoesNotStopIt) {
  std::string out = Sync(std::string(kHeader) + ",a,sleep 1,,1,Yes,No,,,,\n");
  std::string id = Rows(out)[1][0];
  NodeId node =
      *NodeStore(db_.get(), &clock_).Create(NodeSpec{"n1", "10.0.0.1", 22, "nvidia-smi", true});
  RunLedger ledger(db_.get(), &clock_);
  RunId run = *ledger.Reserve(TaskId(std::stoll(id)), node, "n1", {0, 2}, "admin");
  clock_.Advance(std::chrono::milliseconds(1500));
  ASSERT_TRUE(ledger.MarkRunning(run, 77).ok());
  out = Sync(std::string(kHeader) + id + ",a,sleep 99,,1,Yes,No,,,,\n");
  EXPECT_EQ(Task(id).spec.command, "sleep 1");
  auto rows = Rows(out);
  EXPECT_EQ(rows[1][2], "sleep 99") << "the person's text stays in the file";
  EXPECT_EQ(rows[1][7], "running");
  EXPECT_EQ(rows[1][8], "n1:0,2");
  EXPECT_EQ(rows[1][9], FormatRfc3339(clock_.NowUnixMs()));
  EXPECT_EQ(rows[1][10], "");
  // Removing the row of a running task: it goes on; a held one is cancelled.
  Sync(std::string(kHeader) + ",b,true,,1,No,No,,,,\n");
  EXPECT_EQ(Task(id).status, TaskStatus::kRunning);
}

TEST_F(QueueFileSyncTest, RemovedRowCancelsATaskNotStarted) {
  std::string out = Sync(std::string(kHeader) + ",a,true,,1,No,No,,,,\n,b,true,,1,Yes,No,,,,\n");
  auto rows = Rows(out);
  Result<QueueSyncResult> r =
      sync_->Sync(std::string(kHeader) + rows[2][0] + ",b,true,,1,Yes,No,,,,\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->tasks_changed);
  EXPECT_EQ(Task(rows[1][0]).status, TaskStatus::kCancelled);
  EXPECT_EQ(Task(rows[2][0]).status, TaskStatus::kQueued);
}

TEST_F(QueueFileSyncTest, TruncatedEmptyOrRowlessTextIsRefusedAndChangesNothing) {
  std::string full = Sync(std::string(kHeader) + ",a,true,,1,No,No,,,,\n,b,true,,1,No,No,,,,\n");
  for (std::string broken : {full.substr(0, full.size() - 8), std::string(""), std::string(kHeader),
                             full.substr(0, full.find(",b,") + 2)}) {
    Result<QueueSyncResult> r = sync_->Sync(broken);
    EXPECT_FALSE(r.ok()) << "accepted: " << broken;
  }
  EXPECT_EQ(store_test::QueryInt(*db_, "SELECT COUNT(*) FROM tasks WHERE status = 'held'"), 2);
}

TEST_F(QueueFileSyncTest, RowSavedWithoutItsIdIsRecognisedNotSubmittedTwice) {
  const std::string row = ",a,python x.py,,1,No,No,,,,\n";
  std::string out = Sync(std::string(kHeader) + row);
  // A person saved an older copy (without the id gpuq wrote) plus a new row.
  out = Sync(std::string(kHeader) + row + ",b,true,,1,No,No,,,,\n");
  auto rows = Rows(out);
  EXPECT_EQ(store_test::QueryInt(*db_, "SELECT COUNT(*) FROM tasks"), 2);
  EXPECT_NE(rows[1][0], "");
  EXPECT_NE(rows[1][0], rows[2][0]);
  // A copy of a row pasted below it is a task of its own.
  out = Sync(out + ",a,python x.py,,1,No,No,,,,\n");
  EXPECT_EQ(store_test::QueryInt(*db_, "SELECT COUNT(*) FROM tasks"), 3);
}

TEST_F(QueueFileSyncTest, EndedRowsAreHistoryAndMissingColumnsAreAdded) {
  std::string out = Sync(
      "task_name,command,status,notes\n"
      "old,echo old,done,kept as is\n"
      "new,echo new,,\"x\ny\"\n");
  auto rows = Rows(out);
  ASSERT_EQ(rows[0].size(), 8u);
  EXPECT_EQ(rows[0][4], "task_id");
  EXPECT_EQ(rows[1][2], "done");
  EXPECT_EQ(rows[1][4], "") << "an ended row is not submitted";
  EXPECT_EQ(rows[2][3], "x\ny");
  EXPECT_EQ(Task(rows[2][4]).spec.command, "echo new");
  EXPECT_EQ(store_test::QueryInt(*db_, "SELECT COUNT(*) FROM tasks"), 1);
}

TEST_F(QueueFileSyncTest, RowsOfAMovedFileKeepTheirTasks) {
  std::string out = Sync(std::string(kHeader) + ",a,true,,1,No,No,,,,\n");
  QueueFileSync moved(db_.get(), &clock_, "/lab/new/tasks.csv", owner_);
  Result<QueueSyncResult> r = moved.Sync(out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->text, out);
  EXPECT_FALSE(r->tasks_changed);
  EXPECT_EQ(store_test::QueryInt(*db_, "SELECT COUNT(*) FROM tasks"), 1);
  // The old path no longer owns it: its (stale) file does not cancel the task.
  Sync(std::string(kHeader) + ",b,true,,1,No,No,,,,\n");
  EXPECT_EQ(Task(Rows(out)[1][0]).status, TaskStatus::kHeld);
}

TEST_F(QueueFileSyncTest, CrlfFilesStayCrlf) {
  std::string out = Sync("task_name,command\r\na,true\r\n");
  EXPECT_EQ(out.find("\r\n"), out.find('\n') - 1);
  EXPECT_EQ(out.substr(out.size() - 2), "\r\n");
}

}  // namespace
}  // namespace gpuq
