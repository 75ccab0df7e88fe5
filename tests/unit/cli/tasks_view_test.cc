#include "master/cli/tasks_view.h"

#include <gtest/gtest.h>

namespace gpuq::cli {
namespace {

using nlohmann::json;

// 2026-01-01T00:00:00Z
constexpr UnixMs kT0 = 1767225600000;

json MakeRun(int64_t id, int attempt, const char* status, const char* started, const char* ended,
             json exit_code = nullptr) {
  return {{"id", id},
          {"task_id", 1},
          {"attempt", attempt},
          {"node", "node1"},
          {"gpu_indices", {0, 1}},
          {"pid", 4242},
          {"status", status},
          {"exit_code", exit_code},
          {"created_at", started},
          {"started_at", started},
          {"ended_at", ended == nullptr ? json() : json(ended)},
          {"end_reason", nullptr}};
}

json MakeTask(int64_t id, const char* user, const char* name, const char* status) {
  return {{"id", id},
          {"name", name},
          {"user", user},
          {"command", "python train.py\n--lr 1"},
          {"workdir", nullptr},
          {"gpus", 2},
          {"mem_mib", 0},
          {"util_pct", 0},
          {"exclusive", false},
          {"node", nullptr},
          {"share", false},
          {"gpu_model", nullptr},
          {"env", json::object()},
          {"priority", 0},
          {"time_limit_s", nullptr},
          {"retries", 0},
          {"retries_left", 0},
          {"after", json::array()},
          {"notify", "off"},
          {"status", status},
          {"created_at", "2026-01-01T00:00:00.000Z"},
          {"runs", json::array()}};
}

TEST(ParseRfc3339Test, ReadsWhatTheMasterWrites) {
  EXPECT_EQ(ParseRfc3339("2026-01-01T00:00:00.000Z"), kT0);
  EXPECT_EQ(ParseRfc3339("2026-01-01T00:01:30.250Z"), kT0 + 90250);
  EXPECT_EQ(ParseRfc3339("2026-01-01T00:00:01Z"), kT0 + 1000);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.5Z"), 500);
  for (const char* bad : {"", "2026-01-01", "2026-01-01T00:00:00", "2026-01-01T00:00:00.Z",
                          "2026-01-01T00:00:00.1xZ", "yesterday at noon, UTC Z"}) {
    EXPECT_EQ(ParseRfc3339(bad), std::nullopt) << bad;
  }
}

TEST(RenderQueueTest, SqueueLikeColumns) {
  json running = MakeTask(3, "alice", "train", "running");
  running["runs"] = json::array({MakeRun(7, 1, "running", "2026-01-01T00:00:00.000Z", nullptr)});
  json queued = MakeTask(4, "bob", "", "queued");
  queued["waiting_reason"] = "node node1: 1 of 2 GPUs free";
  json failed = MakeTask(5, "alice", "a-very-long-task-name-that-goes-on", "failed");
  failed["runs"] = json::array(
      {MakeRun(8, 1, "failed", "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:05.000Z", 1)});
  json cancelling = MakeTask(6, "carol", "c", "running");
  cancelling["cancel_requested_at"] = "2026-01-01T00:00:00.000Z";
  cancelling["runs"] = json::array({MakeRun(9, 1, "running", "2026-01-01T00:00:00.000Z", nullptr)});
  json retry = MakeTask(10, "dave", "r", "queued");  // its earlier run is history
  retry["runs"] = json::array(
      {MakeRun(11, 1, "failed", "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.000Z", 2)});
  retry["waiting_reason"] = "";

  EXPECT_EQ(
      RenderQueue(json{running, queued, failed, cancelling, retry}, kT0 + 5400 * 1000),
      "ID  USER   NAME                      STATE    TIME   GPUS  NODE       REASON\n"
      "3   alice  train                     running  1h30m  2     node1:0,1\n"
      "4   bob    python train.py           queued   -      2     -          node node1: 1 of "
      "2 GPUs free\n"
      "5   alice  a-very-long-task-name...  failed   5s     2     node1      exit 1\n"
      "6   carol  c                         running  1h30m  2     node1:0,1  cancelling\n"
      "10  dave   r                         queued   -      2     -\n");
}

TEST(RenderQueueTest, EmptyQueueIsTheHeader) {
  EXPECT_EQ(RenderQueue(json::array(), kT0), "ID  USER  NAME  STATE  TIME  GPUS  NODE  REASON\n");
}

TEST(RenderTaskTest, EveryFieldAndTheRuns) {
  json task = MakeTask(3, "alice", "train", "running");
  task["workdir"] = "/data/my runs";
  task["mem_mib"] = 1536;
  task["util_pct"] = 30;
  task["share"] = true;
  task["node"] = "node1";
  task["env"] = {{"A", "1"}, {"B", "x y"}};
  task["time_limit_s"] = 5400;
  task["retries"] = 2;
  task["retries_left"] = 1;
  task["after"] = {1, 2};
  task["notify"] = "end";
  task["runs"] = json::array(
      {MakeRun(7, 1, "failed", "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:10.000Z", 3),
       MakeRun(8, 2, "running", "2026-01-01T00:01:00.000Z", nullptr)});
  EXPECT_EQ(RenderTask(task, kT0 + 120 * 1000),
            "task 3 \"train\" (running)\n"
            "user:         alice\n"
            "command:      python train.py\n"
            "              --lr 1\n"
            "workdir:      /data/my runs\n"
            "gpus:         2\n"
            "memory/gpu:   1.5G free needed\n"
            "util/gpu:     30% free needed\n"
            "exclusive:    no\n"
            "share:        yes\n"
            "node:         node1\n"
            "gpu model:    (any)\n"
            "env:          A=1\n"
            "              B=x y\n"
            "priority:     0\n"
            "time limit:   1h30m\n"
            "retries:      2 (1 left)\n"
            "after:        1, 2\n"
            "notify:       end\n"
            "created:      2026-01-01T00:00:00.000Z\n"
            "runs:\n"
            "  RUN  ATTEMPT  NODE   GPUS  PID   STATUS   STARTED                   TIME  END\n"
            "  7    1        node1  0,1   4242  failed   2026-01-01T00:00:00.000Z  10s   exit 3\n"
            "  8    2        node1  0,1   4242  running  2026-01-01T00:01:00.000Z  1m\n");
}

TEST(RenderTaskTest, WaitingTaskSaysWhy) {
  json task = MakeTask(4, "bob", "", "queued");
  task["waiting_reason"] = "waiting for task 3";
  const std::string text = RenderTask(task, kT0);
  EXPECT_EQ(text.rfind("task 4 (queued)\n", 0), 0u) << text;
  EXPECT_NE(text.find("workdir:      (the account's home)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("memory/gpu:   (no need)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("time limit:   (none)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("waiting:      waiting for task 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("runs: none yet\n"), std::string::npos) << text;
}

TEST(RenderTaskTest, PinningRequeueAndEnvironmentAreShownWhenSet) {
  json task = MakeTask(5, "bob", "pinned", "queued");
  EXPECT_EQ(RenderTask(task, kT0).find("gpu ids:"), std::string::npos);
  task["gpu_ids"] = {0, 2};
  task["prefer_gpus"] = {2};
  task["on_time_limit"] = "requeue";
  task["venv"] = "~/venvs/torch";
  const std::string text = RenderTask(task, kT0);
  EXPECT_NE(text.find("gpu ids:      0,2 (only these)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("prefer gpus:  2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("at limit:     requeue (run again)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("venv:         ~/venvs/torch\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("conda:"), std::string::npos) << text;
}

}  // namespace
}  // namespace gpuq::cli
