// The scheduling loop around the policy: how often it runs under a storm of wakes.
#include "master/sched/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace gpuq {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A source whose read takes `read_time` (a long queue) and records when each read ran.
class SlowSource : public SchedulerSource {
 public:
  explicit SlowSource(std::chrono::milliseconds read_time) : read_time_(read_time) {}
  Status Read(ClusterSnapshot*, std::vector<TaskRequest>*,
              std::map<TaskId, std::string>*) override {
    auto start = SteadyClock::now();
    std::this_thread::sleep_for(read_time_);
    std::lock_guard lock(mu_);
    reads_.push_back({start, SteadyClock::now()});
    return Status::Ok();
  }
  std::vector<std::pair<SteadyClock::time_point, SteadyClock::time_point>> Reads() {
    std::lock_guard lock(mu_);
    return reads_;
  }

 private:
  std::chrono::milliseconds read_time_;
  std::mutex mu_;
  std::vector<std::pair<SteadyClock::time_point, SteadyClock::time_point>> reads_;
};

class NoSink : public PlacementSink {
 public:
  void Launch(const Placement&, const std::string&) override {}
};

// Regression (issue 6): 10 000 submissions took 24 s instead of 6 s because every one woke
// a pass that read the whole queue while the API waited for the database.
TEST(SchedulerTest, UnderAStormOfWakesAPassIsFollowedByAPauseAsLongAsItself) {
  SlowSource source(std::chrono::milliseconds(20));
  NoSink sink;
  Scheduler scheduler(&source, &sink, PolicyOptions(), std::chrono::milliseconds(1000));
  scheduler.Start();
  std::atomic<bool> done = false;
  std::thread storm([&] {
    while (!done) {
      scheduler.Wake();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  done = true;
  storm.join();
  scheduler.Stop();

  auto reads = source.Reads();
  ASSERT_GE(reads.size(), 3u);
  for (size_t i = 1; i < reads.size(); ++i) {
    auto took = reads[i - 1].second - reads[i - 1].first;
    auto pause = reads[i].first - reads[i - 1].second;
    EXPECT_GE(pause, took) << "pass " << i;
  }
}

TEST(SchedulerTest, AWakeAfterAShortPassRunsTheNextPassWithoutWaitingForTheTick) {
  SlowSource source(std::chrono::milliseconds(0));
  NoSink sink;
  Scheduler scheduler(&source, &sink, PolicyOptions(), std::chrono::milliseconds(60'000));
  scheduler.Start();
  auto first_seen = SteadyClock::now() + std::chrono::seconds(10);
  while (source.Reads().empty() && SteadyClock::now() < first_seen) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  scheduler.Wake();
  auto deadline = SteadyClock::now() + std::chrono::seconds(10);
  while (source.Reads().size() < 2 && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  scheduler.Stop();
  EXPECT_GE(source.Reads().size(), 2u) << "the wake was not acted on before the 60 s tick";
}

}  // namespace
}  // namespace gpuq
