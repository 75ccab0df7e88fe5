#include "master/app/retention_job.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "master/store/settings_store.h"
#include "master/store/task_store.h"
#include "master/store/user_store.h"
#include "tests/unit/store/store_test_util.h"
#include "web/panel_settings.h"

namespace gpuq {
namespace {

using store_test::Exec;
using store_test::QueryInt;

TEST(RetentionJobTest, ForgetsTasksAndLogsOlderThanTheSettingAndNothingWhenItIsZero) {
  std::unique_ptr<Database> db = store_test::OpenMemoryDb();
  ASSERT_NE(db, nullptr);
  FakeClock clock;
  test::TempDir dir;
  const std::filesystem::path data = dir.File("data");
  std::filesystem::create_directories(data / "logs");
  UserId alice = *UserStore(db.get(), &clock).Create("alice", "hash", UserRole::kUser);
  TaskSpec spec;
  spec.command = "echo";
  TaskId old_task = *TaskStore(db.get(), &clock).Create(spec, alice);
  TaskId new_task = *TaskStore(db.get(), &clock).Create(spec, alice);
  const UnixMs now = clock.NowUnixMs();
  const UnixMs day = 86'400'000;
  ASSERT_TRUE(Exec(*db, "UPDATE tasks SET status = 'succeeded', ended_at = " +
                            std::to_string(now - 3 * day) +
                            " WHERE id = " + std::to_string(old_task.value))
                  .ok());
  ASSERT_TRUE(
      Exec(*db, "UPDATE tasks SET status = 'failed', ended_at = " + std::to_string(now - day / 2) +
                    " WHERE id = " + std::to_string(new_task.value))
          .ok());
  ASSERT_TRUE(Exec(*db, "INSERT INTO runs (id, task_id, attempt, status, created_at) VALUES (7, " +
                            std::to_string(old_task.value) + ", 1, 'succeeded', 0)")
                  .ok());
  const auto log = data / "logs" / "7.log";
  std::ofstream(log) << "output\n";

  RetentionJob job(db.get(), &clock, data.string());
  EXPECT_EQ(job.RunOnce(), 0);  // the default, 0, keeps everything
  ASSERT_TRUE(SettingsStore(db.get(), &clock).Set(kSettingRetentionDays, "2").ok());
  EXPECT_EQ(job.RunOnce(), 1);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM tasks"), 1);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM runs"), 0);
  EXPECT_FALSE(std::filesystem::exists(log));
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM audit_log WHERE action = 'retention.purge'"), 1);
}

}  // namespace
}  // namespace gpuq
