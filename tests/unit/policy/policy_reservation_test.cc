// The reservation of the first waiting task and backfill around it (policy.h, BACKFILL).

#include <gtest/gtest.h>

#include <algorithm>

#include "common/policy.h"
#include "tests/unit/policy/policy_builders.h"

namespace gpuq::testing {
namespace {

// n1: 8 GPUs; GPUs 0-5 held by runs that end in 2 hours, 6 and 7 free.
NodeBuilder BusyNode(const std::string& name, int64_t ends_in_ms) {
  NodeBuilder n = MakeNode(name).Gpus(8);
  for (int i = 0; i < 6; ++i) n.Held(i, MakeRun(100 + i, 100 + i).EndsIn(ends_in_ms));
  return n;
}

TaskBuilder Big(int64_t id) { return MakeTask(id).Gpus(8).Limit(3600).Submitted(kNow - kHourMs); }

TEST(ReservationTest, FirstWaitingTaskReservesTheGpusThatFreeFirst) {
  ClusterSnapshot snapshot = MakeCluster().Node(BusyNode("n1", 2 * kHourMs));
  Decision d = Sched(snapshot, {Big(1)});
  ASSERT_TRUE(d.reservation.has_value());
  EXPECT_EQ(
      *d.reservation,
      (Reservation{TaskId(1), NodeId(1), "n1", {0, 1, 2, 3, 4, 5, 6, 7}, kNow + 2 * kHourMs}));
  EXPECT_EQ(Outcome(snapshot, d, 1),
            "waiting: node n1: 2 of 8 GPUs free (gpu 0: held by run 100 of task 100; gpu 1: held "
            "by run 101 of task 101; gpu 2: held by run 102 of task 102; 3 more); reserved node "
            "n1 gpus 0,1,2,3,4,5,6,7, expected to start by " +
                FormatRfc3339(kNow + 2 * kHourMs));
}

TEST(ReservationTest, OnlyTasksEndingBeforeTheStartMayUseReservedGpus) {
  ClusterSnapshot snapshot = MakeCluster().Node(BusyNode("n1", 2 * kHourMs));
  // Same shape, different time limits: the one that ends in time runs although the other,
  // earlier in the queue, was refused.
  Decision d = Sched(
      snapshot, {Big(1), MakeTask(2).Limit(3 * 3600).Submitted(kNow - 30),
                 MakeTask(3).Submitted(kNow - 20), MakeTask(4).Limit(3600).Submitted(kNow - 10),
                 MakeTask(5).Limit(2 * 3600).Submitted(kNow - 5)});
  std::string held =
      "waiting: held back by the reservation for task 1 (node n1 gpus "
      "0,1,2,3,4,5,6,7) from " +
      FormatRfc3339(kNow + 2 * kHourMs) + ": only tasks that end by then may use those GPUs";
  EXPECT_EQ(Outcome(snapshot, d, 2), held);  // ends after the start
  EXPECT_EQ(Outcome(snapshot, d, 3), held);  // no time limit
  EXPECT_EQ(Outcome(snapshot, d, 4), "n1[6]");
  EXPECT_EQ(Outcome(snapshot, d, 5), "n1[7]");  // ends exactly at the start: allowed
}

TEST(ReservationTest, TasksThatDoNotTouchReservedGpusRun) {
  ClusterSnapshot snapshot = MakeCluster()
                                 .Node(BusyNode("n1", 2 * kHourMs))
                                 .Node(MakeNode("n2").Gpus(2).Held(0, MakeRun(9, 9)));
  Decision d = Sched(snapshot, {Big(1), MakeTask(2)});
  ASSERT_TRUE(d.reservation.has_value());
  EXPECT_EQ(d.reservation->node_name, "n1");
  EXPECT_EQ(Outcome(snapshot, d, 2), "n2[1]");
}

TEST(ReservationTest, ReservesOnlyAsManyGpusAsNeeded) {
  ClusterSnapshot snapshot = MakeCluster().Node(MakeNode("n1")
                                                    .Gpus(4)
                                                    .Held(0, MakeRun(1, 1).EndsIn(kHourMs))
                                                    .Held(1, MakeRun(2, 2).EndsIn(2 * kHourMs))
                                                    .Held(2, MakeRun(3, 3).EndsIn(3 * kHourMs))
                                                    .Held(3, MakeRun(4, 4)));
  Decision d = Sched(snapshot, {MakeTask(10).Gpus(2), MakeTask(11)});
  ASSERT_TRUE(d.reservation.has_value());
  EXPECT_EQ(d.reservation->gpu_indices, (std::vector<int>{0, 1}));
  EXPECT_EQ(d.reservation->start_at, kNow + 2 * kHourMs);
}

TEST(ReservationTest, PicksTheNodeThatStartsEarliest) {
  ClusterSnapshot snapshot =
      MakeCluster().Node(BusyNode("n1", 2 * kHourMs)).Node(BusyNode("n2", kHourMs));
  Decision d = Sched(snapshot, {Big(1)});
  ASSERT_TRUE(d.reservation.has_value());
  EXPECT_EQ(d.reservation->node_name, "n2");
  EXPECT_EQ(d.reservation->start_at, kNow + kHourMs);
}

TEST(ReservationTest, UnknownStartHoldsTheGpusForTheWaitingTask) {
  ClusterSnapshot snapshot =
      MakeCluster().Node(MakeNode("n1").Gpus(8).Held(0, MakeRun(7, 3)));  // no time limit
  std::vector<TaskRequest> queue = {Big(1), MakeTask(2).Limit(60)};
  Decision d = Sched(snapshot, queue);
  ASSERT_TRUE(d.reservation.has_value());
  EXPECT_FALSE(d.reservation->start_at.has_value());
  EXPECT_EQ(Outcome(snapshot, d, 2),
            "waiting: held back by the reservation for task 1 (node n1 gpus 0,1,2,3,4,5,6,7), "
            "whose start is unknown because a run on them has no time limit");
  EXPECT_EQ(Outcome(snapshot, d, 1),
            "waiting: node n1: 7 of 8 GPUs free (gpu 0: held by run 7 of task 3); reserved node "
            "n1 gpus 0,1,2,3,4,5,6,7, start unknown (a run on them has no time limit)");

  PolicyOptions no_unknown;
  no_unknown.reserve_when_start_unknown = false;
  Decision lax = Sched(snapshot, queue, no_unknown);
  EXPECT_FALSE(lax.reservation.has_value());
  EXPECT_EQ(Outcome(snapshot, lax, 2), "n1[1]");
}

TEST(ReservationTest, UnknownStartPrefersTheNodeWithFewestOpenEndedRuns) {
  ClusterSnapshot snapshot =
      MakeCluster()
          .Node(MakeNode("n1").Gpus(4).Held(0, MakeRun(1, 1)).Held(1, MakeRun(2, 2)))
          .Node(MakeNode("n2").Gpus(4).Held(0, MakeRun(3, 3)).Held(1, MakeRun(4, 4).EndsIn(60)));
  Decision d = Sched(snapshot, {MakeTask(10).Gpus(4), MakeTask(11).Limit(60)});
  ASSERT_TRUE(d.reservation.has_value());
  EXPECT_EQ(d.reservation->node_name, "n2");
  EXPECT_FALSE(d.reservation->start_at.has_value());
  EXPECT_EQ(Outcome(snapshot, d, 11), "n1[2]");  // n1 is not reserved
}

TEST(ReservationTest, ForeignUseIsNotPredictableSoTheNextTaskReserves) {
  // Task 1 (exclusive) needs all 4 GPUs, but GPU 0 has a foreign process that no run's end
  // will clear: no reservation for it. Task 2 can wait for run 7, so it reserves.
  ClusterSnapshot snapshot = MakeCluster().Node(
      MakeNode("n1").Gpus(4).Foreign(0, 10 * kGiB, 4121).Held(1, MakeRun(7, 3).EndsIn(kHourMs)));
  Decision d = Sched(
      snapshot, {MakeTask(1).Gpus(4).Exclusive(), MakeTask(2).Gpus(3).Mem(75 * kGiB), MakeTask(3)});
  ASSERT_TRUE(d.reservation.has_value());
  EXPECT_EQ(d.reservation->task, TaskId(2));
  EXPECT_EQ(d.reservation->gpu_indices, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(d.reservation->start_at, kNow + kHourMs);
  // Task 1's reason describes the pass's end, when task 3 holds GPU 0 too.
  EXPECT_EQ(Outcome(snapshot, d, 1),
            "waiting: node n1: 2 of 4 GPUs free (gpu 0: given to task 3 in this pass; gpu 1: "
            "held by run 7 of task 3)");
  EXPECT_EQ(Outcome(snapshot, d, 3), "n1[0]");  // beside the foreign process, not reserved
}

TEST(ReservationTest, ForeignUseBesideARunStaysAfterTheRunEnds) {
  // GPU 0's run ends in an hour, but its foreign process does not: the exclusive task can
  // not count on GPU 0, so it reserves nothing and task 2 may take GPU 1.
  ClusterSnapshot snapshot = MakeCluster().Node(
      MakeNode("n1").Gpus(2).Held(0, MakeRun(7, 3).EndsIn(kHourMs)).Foreign(0, 5 * kGiB, 4121));
  Decision d = Sched(snapshot, {MakeTask(1).Gpus(2).Exclusive(), MakeTask(2)});
  EXPECT_FALSE(d.reservation.has_value());
  EXPECT_EQ(Outcome(snapshot, d, 2), "n1[1]");
}

TEST(ReservationTest, BiggerTaskBehindAHeldBackOneIsNotCalledHeldBack) {
  ClusterSnapshot snapshot = MakeCluster().Node(BusyNode("n1", 2 * kHourMs));
  Decision d = Sched(snapshot, {Big(1), MakeTask(2), MakeTask(3).Gpus(3)});
  EXPECT_EQ(Outcome(snapshot, d, 2).rfind("waiting: held back by the reservation for task 1", 0),
            0u)
      << Outcome(snapshot, d, 2);
  // Only 2 GPUs are free at all: the reservation is not what keeps task 3 waiting.
  EXPECT_EQ(Outcome(snapshot, d, 3).rfind("waiting: node n1: 0 of 3 GPUs free (", 0), 0u)
      << Outcome(snapshot, d, 3);
}

TEST(ReservationTest, CappedAndNeverFittingTasksDoNotReserve) {
  ClusterSnapshot snapshot = MakeCluster().Node(BusyNode("n1", 2 * kHourMs)).Running("bob", 1);
  PolicyOptions caps;
  caps.max_running_per_user = 1;
  Decision d = Sched(
      snapshot,
      {MakeTask(1).Gpus(16), Big(2).User("bob"), MakeTask(3).Gpus(2), MakeTask(4).User("carol")},
      caps);
  EXPECT_EQ(Outcome(snapshot, d, 1), "waiting: can never run: no node has 16 GPUs");
  EXPECT_EQ(Outcome(snapshot, d, 2), "waiting: user bob is at max_running_per_user (1 running)");
  EXPECT_EQ(Outcome(snapshot, d, 3), "n1[6,7]");
  ASSERT_TRUE(d.reservation.has_value());
  EXPECT_EQ(d.reservation->task, TaskId(4));
  EXPECT_EQ(d.reservation->start_at, kNow + 2 * kHourMs);
}

TEST(ReservationTest, HigherPriorityTaskGetsTheReservation) {
  ClusterSnapshot snapshot = MakeCluster().Node(BusyNode("n1", 2 * kHourMs));
  Decision d = Sched(snapshot, {Big(1), MakeTask(2).Gpus(7).Priority(1)});
  ASSERT_TRUE(d.reservation.has_value());
  EXPECT_EQ(d.reservation->task, TaskId(2));
  EXPECT_EQ(d.reservation->gpu_indices, (std::vector<int>{0, 1, 2, 3, 4, 6, 7}));
}

// A simulated cluster: one 8-GPU node, a big task waiting, a 1-GPU task with a one-hour
// limit arriving every 10 minutes; each run lasts exactly its time limit.
struct SimRun {
  int64_t task;
  int gpu;
  UnixMs end;
};

TEST(ReservationTest, StreamOfSmallTasksDoesNotStarveABigOne) {
  constexpr int64_t kStep = 10 * kMinuteMs;
  std::vector<SimRun> runs;
  for (int i = 0; i < 8; ++i) runs.push_back({100 + i, i, kNow + (i + 1) * kStep});
  std::vector<TaskRequest> queue = {Big(1)};
  std::optional<UnixMs> big_started;
  std::vector<std::pair<UnixMs, UnixMs>> small_runs_before_big;  // start, end
  int64_t next_run = 1000;
  for (int step = 0; step <= 60 && !big_started; ++step) {
    UnixMs now = kNow + step * kStep;
    std::erase_if(runs, [&](const SimRun& r) { return r.end <= now; });
    queue.push_back(MakeTask(1000 + step).Limit(3600).Submitted(now));
    NodeBuilder node = MakeNode("n1").Gpus(8);
    for (const SimRun& r : runs) {
      GpuAllocation a = MakeRun(next_run++, r.task);
      a.started_at = now - kMinuteMs;
      a.expected_end = r.end;
      node.Held(r.gpu, a);
    }
    ClusterSnapshot snapshot = MakeCluster().At(now).Node(node);
    Decision d = Schedule(snapshot, queue);
    for (const Placement& p : d.placements) {
      const TaskRequest& t = *std::find_if(queue.begin(), queue.end(),
                                           [&](const TaskRequest& q) { return q.id == p.task; });
      if (t.id == TaskId(1)) {
        big_started = now;
      } else {
        small_runs_before_big.emplace_back(now, now + t.time_limit_s * 1000);
      }
      for (int gpu : p.gpu_indices) runs.push_back({t.id.value, gpu, now + t.time_limit_s * 1000});
    }
    std::erase_if(queue, [&](const TaskRequest& t) {
      return std::any_of(d.placements.begin(), d.placements.end(),
                         [&](const Placement& p) { return p.task == t.id; });
    });
  }
  // The last of the original runs ends after 80 minutes: the big task starts then.
  ASSERT_TRUE(big_started.has_value());
  EXPECT_EQ(*big_started, kNow + 8 * kStep);
  // Small tasks did run meanwhile (backfill), but only ones that ended in time.
  EXPECT_FALSE(small_runs_before_big.empty());
  for (const auto& [start, end] : small_runs_before_big) EXPECT_LE(end, *big_started);
}

}  // namespace
}  // namespace gpuq::testing
