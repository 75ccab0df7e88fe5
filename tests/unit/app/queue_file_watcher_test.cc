#include "master/app/queue_file_watcher.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "master/store/user_store.h"
#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

constexpr char kHeader[] =
    "task_id,task_name,command,execution,status,allocated_gpus,start_time,end_time\n";

// The watcher on a real file. A person's save is injected at the worst moment: between
// gpuq's read and its write-back (on_tasks_changed runs right after the sync, before the
// write), and must survive.
class QueueFileWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = store_test::OpenMemoryDb();
    owner_ = *UserStore(db_.get(), &clock_).Create("admin", "hash", UserRole::kAdmin);
    path_ = dir_.File("tasks.csv");
    sync_ = std::make_unique<QueueFileSync>(db_.get(), &clock_, path_, owner_);
    watcher_ = std::make_unique<QueueFileWatcher>(path_, sync_.get(), &clock_, [this] {
      if (on_sync_) std::exchange(on_sync_, nullptr)();
    });
  }

  void Write(const std::string& text) { std::ofstream(path_, std::ios::trunc) << text; }
  void WriteByRename(const std::string& text) {
    std::ofstream(dir_.File("edit.tmp"), std::ios::trunc) << text;
    std::filesystem::rename(dir_.File("edit.tmp"), path_);
  }
  std::string Read() {
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Polls as the watcher thread would: the first poll sees a change, the next acts on it.
  void Poll(int times = 2) {
    for (int i = 0; i < times; ++i) {
      watcher_->PollOnce();
      clock_.Advance(std::chrono::milliseconds(250));
    }
  }
  int64_t Tasks() { return store_test::QueryInt(*db_, "SELECT COUNT(*) FROM tasks"); }

  test::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<Database> db_;
  UserId owner_;
  std::string path_;
  std::unique_ptr<QueueFileSync> sync_;
  std::unique_ptr<QueueFileWatcher> watcher_;
  std::function<void()> on_sync_;
};

TEST_F(QueueFileWatcherTest, WritesIdsAndStatusBack) {
  Write(std::string(kHeader) + ",a,true,No,,,,\n");
  Poll();
  EXPECT_EQ(Read(), std::string(kHeader) + "1,a,true,No,held,,,\n");
  EXPECT_EQ(dir_.EntryCount(), 1u) << "no temporary file left behind";
  Poll(3);  // nothing changed: nothing written, nothing submitted again
  EXPECT_EQ(Tasks(), 1);
}

TEST_F(QueueFileWatcherTest, SaveByRenameDuringWriteBackIsMerged) {
  Write(std::string(kHeader) + ",a,true,No,,,,\n");
  // While gpuq writes back row a, a person saves their copy (read before gpuq's write, so
  // without a's id) with row b added.
  on_sync_ = [&] { WriteByRename(std::string(kHeader) + ",a,true,No,,,,\n,b,false,No,,,,\n"); };
  Poll();
  EXPECT_EQ(Read(), std::string(kHeader) + "1,a,true,No,held,,,\n2,b,false,No,held,,,\n");
  EXPECT_EQ(Tasks(), 2);
  EXPECT_EQ(dir_.EntryCount(), 1u);
}

TEST_F(QueueFileWatcherTest, WriteInPlaceDuringWriteBackIsMerged) {
  Write(std::string(kHeader) + ",a,true,No,,,,\n");
  Poll();
  on_sync_ = [&] { Write(std::string(kHeader) + "1,a,true,Yes,held,,,\n,c,true,No,,,,\n"); };
  // Row a released by the person; gpuq reads it, and while it writes back a's new status the
  // person appends c in place.
  Write(std::string(kHeader) + "1,a,true,Yes,held,,,\n");
  Poll();
  EXPECT_EQ(Read(), std::string(kHeader) + "1,a,true,Yes,queued,,,\n2,c,true,No,held,,,\n");
  EXPECT_EQ(Tasks(), 2);
}

// A save made while gpuq syncs a text that needs no write-back is read by the next polls.
// (The bug this guards against, a fresh stat taken as "processed" after a sync, showed as a
// p99 of 5 s in bench/queue_file.py; here the task change also triggers a re-read, so this
// test alone does not pin it.)
TEST_F(QueueFileWatcherTest, SaveDuringASyncWithNothingToWriteIsReadNext) {
  Write(std::string(kHeader) + ",a,true,No,,,,\n");
  Poll();
  on_sync_ = [&] { std::ofstream(path_, std::ios::app) << ",c,true,No,,,,\n"; };
  Write(std::string(kHeader) + "1,a,true,Yes,queued,,,\n");  // already what gpuq would write
  Poll();
  EXPECT_EQ(Tasks(), 1);
  Poll(2);
  EXPECT_EQ(Tasks(), 2);
  EXPECT_EQ(Read(), std::string(kHeader) + "1,a,true,Yes,queued,,,\n2,c,true,No,held,,,\n");
}

TEST_F(QueueFileWatcherTest, RefusedTextIsNeverWrittenOver) {
  Write(std::string(kHeader) + ",a,true,No,,,,\n");
  Poll();
  const std::string cut = std::string(kHeader) + "1,a,tr";
  Write(cut);
  Poll(6);
  EXPECT_EQ(Read(), cut);
  Write("");
  Poll(3);
  EXPECT_EQ(Read(), "");
  EXPECT_EQ(store_test::QueryInt(*db_, "SELECT COUNT(*) FROM tasks WHERE status = 'held'"), 1);
}

TEST_F(QueueFileWatcherTest, LastLineWithoutLineBreakWaitsUntilTheFileSettles) {
  Write(std::string(kHeader) + ",a,true,No,,,,");  // may be cut mid-field: wait
  Poll(2);
  EXPECT_EQ(Tasks(), 0);
  Poll(4);  // a second later, unchanged: taken as it is
  EXPECT_EQ(Tasks(), 1);
}

}  // namespace
}  // namespace gpuq
