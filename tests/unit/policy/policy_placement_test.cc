// Node filters, node and GPU choice, placements within one pass, caps, determinism.

#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <random>

#include "common/policy.h"
#include "tests/unit/policy/policy_builders.h"

namespace gpuq::testing {
namespace {

struct PlacementCase {
  const char* name;
  std::vector<NodeView> nodes;
  std::vector<TaskRequest> tasks;
  std::string want;  // Describe(): every task's outcome
  PolicyOptions options = PolicyOptions();
};

// gtest prints the case by name when it fails.
void PrintTo(const PlacementCase& c, std::ostream* os) { *os << c.name; }

PolicyOptions Caps(int total, int per_user, int per_node) {
  PolicyOptions o;
  o.max_running_total = total;
  o.max_running_per_user = per_user;
  o.max_running_per_node = per_node;
  return o;
}

const std::vector<PlacementCase>& PlacementCases() {
  static const std::vector<PlacementCase> cases = {
      // Node filters.
      {"UnavailableNode",
       {MakeNode("n3").Gpus(1).Down("connection refused")},
       {MakeTask(1)},
       "1: waiting: node n3: unavailable (connection refused)\n"},
      {"UnavailableNodeWithoutReason",
       {MakeNode("n3").Gpus(1).Down()},
       {MakeTask(1)},
       "1: waiting: node n3: unavailable\n"},
      {"UnschedulableNode",
       {MakeNode("n1").Gpus(1).Unschedulable()},
       {MakeTask(1)},
       "1: waiting: node n1: not schedulable\n"},
      {"NodeConstraint",
       {MakeNode("n1").Gpus(1), MakeNode("n2").Gpus(4)},
       {MakeTask(1).OnNode("n2")},
       "1: n2[0]\n"},
      {"NodeConstraintOnBusyNode",
       {MakeNode("n1").Gpus(1), MakeNode("n2").Gpus(1).Held(0, MakeRun(7, 3))},
       {MakeTask(1).OnNode("n2")},
       "1: waiting: node n2: 0 of 1 GPUs free (gpu 0: held by run 7 of task 3)\n"},
      {"ModelConstraintIsACaseInsensitiveSubstring",
       {MakeNode("n1").Gpus(2, "Tesla V100-SXM2-32GB", 32 * kGiB), MakeNode("n2").Gpus(4)},
       {MakeTask(1).Model("a100")},
       "1: n2[0]\n"},
      {"ModelConstraintOnMixedNode",
       {MakeNode("n1").Gpus(1, "Tesla V100-SXM2-32GB", 32 * kGiB).Gpus(1)},
       {MakeTask(1).Model("A100")},
       "1: n1[1]\n"},
      {"ModelConstraintWhenTheModelIsBusy",
       {MakeNode("n1").Gpus(1).Held(0, MakeRun(7, 3)),
        MakeNode("n2").Gpus(2, "Tesla V100-SXM2-32GB", 32 * kGiB)},
       {MakeTask(1).Model("A100")},
       "1: waiting: node n1: 0 of 1 GPUs free (gpu 0: held by run 7 of task 3); 1 more node "
       "does not fit\n"},
      {"GpuCount",
       {MakeNode("n2").Gpus(2).Held(0, MakeRun(7, 3))},
       {MakeTask(1).Gpus(2)},
       "1: waiting: node n2: 1 of 2 GPUs free (gpu 0: held by run 7 of task 3)\n"},
      {"ClosestNodeExplains",
       {MakeNode("n1").Gpus(1), MakeNode("n2").Down("timeout"),
        MakeNode("n3")
            .Gpus(8)
            .Held(0, MakeRun(1, 1))
            .Held(1, MakeRun(2, 2))
            .Held(2, MakeRun(3, 3))
            .Held(3, MakeRun(4, 4))
            .Held(4, MakeRun(5, 5))},
       {MakeTask(1).Gpus(4)},
       "1: waiting: node n3: 3 of 4 GPUs free (gpu 0: held by run 1 of task 1; gpu 1: held by "
       "run 2 of task 2; gpu 2: held by run 3 of task 3; 2 more); 2 more nodes do not fit\n"},
      {"TooFewGpusOnTheOnlyUsableNode",
       {MakeNode("n1").Gpus(1), MakeNode("n2").Gpus(4).Down("timeout")},
       {MakeTask(1).Gpus(2)},
       "1: waiting: node n1: only 1 GPU; 1 more node does not fit\n"},

      // Same pass.
      {"TwoTasksNeverGetTheSameGpu",
       {MakeNode("n1").Gpus(1)},
       {MakeTask(1), MakeTask(2)},
       "1: n1[0]\n2: waiting: node n1: 0 of 1 GPUs free (gpu 0: given to task 1 in this pass)\n"},
      {"TwoTasksSpreadOverGpus",
       {MakeNode("n1").Gpus(2)},
       {MakeTask(1), MakeTask(2).Exclusive()},
       "1: n1[0]\n2: n1[1]\n"},
      {"SharingTasksShareWhileMemoryFits",
       {MakeNode("n1").Gpus(1)},
       {MakeTask(1).Share().Mem(30 * kGiB), MakeTask(2).Share().Mem(30 * kGiB),
        MakeTask(3).Share().Mem(30 * kGiB)},
       "1: n1[0]\n2: n1[0]\n3: waiting: node n1: 0 of 1 GPUs free (gpu 0: 30 GiB does not fit "
       "beside shared runs (60 GiB declared, 0 MiB other use, 80 GiB total))\n"},
      {"NonSharingTaskDoesNotJoinASharingPlacement",
       {MakeNode("n1").Gpus(1)},
       {MakeTask(1).Share().Mem(30 * kGiB), MakeTask(2).Mem(30 * kGiB)},
       "1: n1[0]\n2: waiting: node n1: 0 of 1 GPUs free (gpu 0: given to task 1 in this "
       "pass)\n"},
      {"SharingTaskDoesNotJoinANonSharingPlacement",
       {MakeNode("n1").Gpus(1)},
       {MakeTask(1).Mem(30 * kGiB), MakeTask(2).Share().Mem(30 * kGiB)},
       "1: n1[0]\n2: waiting: node n1: 0 of 1 GPUs free (gpu 0: given to task 1 in this pass, "
       "not shared)\n"},

      // Choice of node: best fit keeps whole nodes free.
      {"BestFitKeepsAWholeNodeFree",
       {MakeNode("n1").Gpus(8), MakeNode("n2")
                                    .Gpus(8)
                                    .Held(0, MakeRun(1, 1))
                                    .Held(1, MakeRun(2, 2))
                                    .Held(2, MakeRun(3, 3))
                                    .Held(3, MakeRun(4, 4))
                                    .Held(4, MakeRun(5, 5))
                                    .Held(5, MakeRun(6, 6))},
       {MakeTask(1).Gpus(2), MakeTask(2).Gpus(8)},
       "1: n2[6,7]\n2: n1[0,1,2,3,4,5,6,7]\n"},
      {"BestFitCountsOnlyGpusThatPass",
       {MakeNode("n1")
            .Gpus(4)
            .Foreign(0, 40 * kGiB, 11)
            .Foreign(1, 40 * kGiB, 12)
            .Foreign(2, 40 * kGiB, 13),
        MakeNode("n2").Gpus(2)},
       {MakeTask(1).Exclusive()},
       "1: n1[3]\n"},
      {"BestFitTieGoesToTheLowerNodeId",
       {MakeNode("n2").Gpus(2), MakeNode("n1").Gpus(2)},
       {MakeTask(1)},
       "1: n1[0]\n"},
      {"CpuOnlyTaskOnANodeWithoutGpus",
       {MakeNode("n1").Gpus(1).Down("timeout"), MakeNode("n2")},
       {MakeTask(1).Gpus(0)},
       "1: n2[]\n"},
      {"CpuOnlyTaskIgnoresBusyGpus",
       {MakeNode("n1").Gpus(1).Held(0, MakeRun(7, 3))},
       {MakeTask(1).Gpus(0)},
       "1: n1[]\n"},
      {"CpuOnlyTaskGoesToTheLeastLoadedNode",
       {MakeNode("n1").Running(3), MakeNode("n2").Running(1), MakeNode("n3").Running(1)},
       {MakeTask(1).Gpus(0)},
       "1: n2[]\n"},
      {"CpuOnlyTaskHonoursTheNodeConstraint",
       {MakeNode("n1"), MakeNode("n2").Running(5)},
       {MakeTask(1).Gpus(0).OnNode("n2")},
       "1: n2[]\n"},
      {"CpuOnlyTaskNeedsAnAvailableSchedulableNode",
       {MakeNode("n1").Unschedulable(), MakeNode("n2").Down("connection refused")},
       {MakeTask(1).Gpus(0)},
       "1: waiting: node n1: not schedulable; 1 more node does not fit\n"},

      // Choice of GPUs.
      {"NonExclusivePrefersMostFreeMemory",
       {MakeNode("n1").Gpus(3).MemUsed(0, {20 * kGiB}).MemUsed(2, {10 * kGiB})},
       {MakeTask(1)},
       "1: n1[1]\n"},
      {"ExclusiveTakesLowestIndices",
       {MakeNode("n1").Gpus(4).MemUsed(0, {300}).MemUsed(1, {10})},
       {MakeTask(1).Exclusive().Gpus(2)},
       "1: n1[0,1]\n"},
      {"SharingPacksOntoSharedGpus",
       {MakeNode("n1")
            .Gpus(2)
            .Held(1, MakeRun(7, 3).Share(10 * kGiB).Seen(10 * kGiB))
            .MemUsed(1, {10 * kGiB})},
       {MakeTask(1).Share().Mem(10 * kGiB)},
       "1: n1[1]\n"},
      {"PreferredGpusFirst",
       {MakeNode("n1").Gpus(4)},
       {MakeTask(1).Gpus(2).Prefer({3, 1})},
       "1: n1[1,3]\n"},
      {"PreferredGpuThatIsBusyIsSkipped",
       {MakeNode("n1").Gpus(4).Held(3, MakeRun(7, 3))},
       {MakeTask(1).Prefer({3, 2})},
       "1: n1[2]\n"},
      {"GpuIdsRestrictTheChoice",
       {MakeNode("n1").Gpus(4)},
       {MakeTask(1).GpuIds({2, 3})},
       "1: n1[2]\n"},
      {"GpuIdsListOnlyTheirOwnReasons",
       {MakeNode("n1").Gpus(4).Held(2, MakeRun(7, 3))},
       {MakeTask(1).Gpus(2).GpuIds({2, 3})},
       "1: waiting: node n1: 1 of 2 GPUs free (gpu 2: held by run 7 of task 3)\n"},
      {"GpuIdsMissingOnOneNode",
       {MakeNode("n1").Gpus(2), MakeNode("n2").Gpus(4).Held(3, MakeRun(7, 3))},
       {MakeTask(1).GpuIds({3})},
       "1: waiting: node n2: 0 of 1 GPUs free (gpu 3: held by run 7 of task 3); 1 more node "
       "does not fit\n"},

      // Caps.
      {"MaxRunningTotal",
       {MakeNode("n1").Gpus(4)},
       {MakeTask(1), MakeTask(2), MakeTask(3)},
       "1: n1[0]\n2: n1[1]\n3: waiting: at max_running_total (2 running)\n",
       Caps(2, 0, 0)},
      {"MaxRunningPerUser",
       {MakeNode("n1").Gpus(4)},
       {MakeTask(1), MakeTask(2), MakeTask(3).User("bob")},
       "1: n1[0]\n2: waiting: user alice is at max_running_per_user (1 running)\n3: n1[1]\n",
       Caps(0, 1, 0)},
      {"MaxRunningPerNode",
       {MakeNode("n1").Gpus(4).Running(1), MakeNode("n2").Gpus(4)},
       {MakeTask(1).OnNode("n1"), MakeTask(2).OnNode("n1"), MakeTask(3).Gpus(0)},
       "1: n1[0]\n2: waiting: node n1: at max_running_per_node (2 running)\n3: n2[]\n",
       Caps(0, 0, 2)},
  };
  return cases;
}

class PlacementTest : public ::testing::TestWithParam<PlacementCase> {};

TEST_P(PlacementTest, Outcomes) {
  const PlacementCase& c = GetParam();
  ClusterBuilder cluster = MakeCluster();
  for (const NodeView& n : c.nodes) cluster.Node(n);
  ClusterSnapshot snapshot = cluster;
  Decision d = Sched(snapshot, c.tasks, c.options);
  std::string got = StripReservationNotes(Describe(snapshot, d));
  // Reservations have their own tests; compare outcomes only.
  if (size_t at = got.find("reservation:"); at != std::string::npos) got.erase(at);
  EXPECT_EQ(got, c.want);
}

INSTANTIATE_TEST_SUITE_P(Policy, PlacementTest, ::testing::ValuesIn(PlacementCases()),
                         [](const ::testing::TestParamInfo<PlacementCase>& p) {
                           return std::string(p.param.name);
                         });

TEST(PlacementTest, CapsCountRunsAlreadyRunning) {
  ClusterSnapshot snapshot =
      MakeCluster().Node(MakeNode("n1").Gpus(4)).Running("alice", 2).Running("bob", 1);
  Decision d = Sched(snapshot, {MakeTask(1), MakeTask(2).User("bob"), MakeTask(3).User("carol")},
                     Caps(4, 2, 0));
  EXPECT_EQ(Describe(snapshot, d),
            "1: waiting: user alice is at max_running_per_user (2 running)\n2: n1[0]\n"
            "3: waiting: at max_running_total (4 running)\n");
}

TEST(PlacementTest, TasksOfOneClassKeepTheirOwnNumbers) {
  // Task 1 fails; tasks 2 and 3 are bigger (so fail without a search) but their reasons
  // still carry their own needs. Task 4 is small enough for GPU 1 (10 GiB free).
  ClusterSnapshot snapshot =
      MakeCluster().Node(MakeNode("n1").Gpus(2).MemUsed(0, {76 * kGiB}).MemUsed(1, {70 * kGiB}));
  Decision d = Sched(snapshot, {MakeTask(1).Mem(20 * kGiB), MakeTask(2).Mem(30 * kGiB),
                                MakeTask(3).Mem(30 * kGiB), MakeTask(4).Mem(3 * kGiB)});
  EXPECT_EQ(Describe(snapshot, d),
            "1: waiting: node n1: 0 of 1 GPUs free (gpu 0: 4 GiB free, needs 20 GiB; gpu 1: "
            "given to task 4 in this pass)\n"
            "2: waiting: node n1: 0 of 1 GPUs free (gpu 0: 4 GiB free, needs 30 GiB; gpu 1: "
            "given to task 4 in this pass)\n"
            "3: waiting: node n1: 0 of 1 GPUs free (gpu 0: 4 GiB free, needs 30 GiB; gpu 1: "
            "given to task 4 in this pass)\n"
            "4: n1[1]\n");
}

TEST(PlacementTest, ReasonsDescribeTheStateAfterThePass) {
  // Tasks 1 and 2 fail before task 3 takes GPU 1: their reasons, like task 4's, say what
  // they meet now that the pass is over (and what the next pass will see).
  ClusterSnapshot snapshot = MakeCluster().Node(MakeNode("n1").Gpus(2).MemUsed(0, {70 * kGiB}));
  TaskRequest two = MakeTask(0).Gpus(2).Mem(20 * kGiB);
  std::vector<TaskRequest> queue = {two, two, MakeTask(3).Exclusive(), two};
  queue[0].id = TaskId(1);
  queue[1].id = TaskId(2);
  queue[3].id = TaskId(4);
  std::string after =
      "waiting: node n1: 0 of 2 GPUs free (gpu 0: 10 GiB free, needs 20 GiB; gpu 1: given to "
      "task 3 in this pass)\n";
  EXPECT_EQ(Describe(snapshot, Sched(snapshot, queue)),
            "1: " + after + "2: " + after + "3: n1[1]\n4: " + after);
}

TEST(PlacementTest, ReasonNamesTheNodeClosestAfterPlacements) {
  ClusterSnapshot snapshot = MakeCluster()
                                 .Node(MakeNode("n1").Gpus(2).MemUsed(0, {70 * kGiB}))
                                 .Node(MakeNode("n2").Gpus(2).Held(0, MakeRun(7, 7)));
  TaskRequest two = MakeTask(0).Gpus(2).Mem(20 * kGiB);
  std::vector<TaskRequest> queue = {two, MakeTask(2).Exclusive(), two};
  queue[0].id = TaskId(1);
  queue[2].id = TaskId(3);
  PolicyOptions no_reservation;
  no_reservation.reserve_when_start_unknown = false;
  // When task 1's turn came, n1 was closest (1 of 2 free, first in order); task 2 then took
  // n1's last GPU, so n2 is the closest for both.
  std::string closest =
      "waiting: node n2: 1 of 2 GPUs free (gpu 0: held by run 7 of task 7); 1 more node does "
      "not fit\n";
  EXPECT_EQ(Describe(snapshot, Sched(snapshot, queue, no_reservation)),
            "1: " + closest + "2: n1[1]\n3: " + closest);
}

TEST(PlacementTest, ShareWithoutMemoryFailingDoesNotBlockASharingTask) {
  ClusterSnapshot snapshot =
      MakeCluster().Node(MakeNode("n1").Gpus(1).Held(0, MakeRun(7, 3).Share(10 * kGiB)));
  PolicyOptions no_reservation;  // else task 1 would reserve the GPU and hold task 2 back
  no_reservation.reserve_when_start_unknown = false;
  Decision d =
      Sched(snapshot, {MakeTask(1).Share(), MakeTask(2).Share().Mem(10 * kGiB)}, no_reservation);
  EXPECT_EQ(StripReservationNotes(Outcome(snapshot, d, 1)),
            "waiting: node n1: 0 of 1 GPUs free (gpu 0: held by run 7 of task 3 and 1 more; a "
            "task without a memory need cannot share)");
  EXPECT_EQ(Outcome(snapshot, d, 2), "n1[0]");
}

TEST(PlacementTest, TasksAlikeButForTheShareFlagGetTheirOwnReasons) {
  ClusterSnapshot snapshot =
      MakeCluster().Node(MakeNode("n1").Gpus(1).Held(0, MakeRun(7, 3).Share(10 * kGiB)));
  PolicyOptions no_reservation;
  no_reservation.reserve_when_start_unknown = false;
  Decision d = Sched(snapshot, {MakeTask(1).Share(), MakeTask(2)}, no_reservation);
  EXPECT_EQ(Outcome(snapshot, d, 1),
            "waiting: node n1: 0 of 1 GPUs free (gpu 0: held by run 7 of task 3; a task without "
            "a memory need cannot share)");
  EXPECT_EQ(Outcome(snapshot, d, 2),
            "waiting: node n1: 0 of 1 GPUs free (gpu 0: held by run 7 of task 3)");
}

TEST(PlacementTest, EveryQueuedTaskIsPlacedOrWaits) {
  ClusterSnapshot snapshot = MakeCluster().Node(MakeNode("n1").Gpus(2));
  std::vector<TaskRequest> queue;
  for (int i = 1; i <= 20; ++i) queue.push_back(MakeTask(i).Gpus(i % 3));
  Decision d = Sched(snapshot, queue);
  EXPECT_EQ(d.placements.size() + d.waiting_reasons.size(), queue.size());
  for (const Placement& p : d.placements) EXPECT_FALSE(d.waiting_reasons.contains(p.task));
}

TEST(PlacementTest, EmptyQueueAndEmptyCluster) {
  Decision d = Sched(MakeCluster(), {});
  EXPECT_TRUE(d.placements.empty());
  EXPECT_TRUE(d.waiting_reasons.empty());
  EXPECT_FALSE(d.reservation.has_value());
}

// A busy cluster and a mixed queue.
ClusterSnapshot MixedCluster() {
  ClusterBuilder c = MakeCluster().Usage("alice", 4).Usage("bob", 1);
  for (int n = 1; n <= 6; ++n) {
    NodeBuilder node = MakeNode("n" + std::to_string(n)).Gpus(8);
    for (int g = 0; g < n; ++g) {
      node.Held(g, MakeRun(n * 10 + g, n * 10 + g).EndsIn((n + g) * kMinuteMs));
    }
    if (n % 2 == 0) node.Foreign(7, 20 * kGiB, 4000 + n);
    if (n == 5) node.Held(6, MakeRun(99, 99).Share(20 * kGiB).Seen(20 * kGiB));
    c.Node(node);
  }
  return c;
}

std::vector<TaskRequest> MixedQueue() {
  std::vector<TaskRequest> q;
  for (int i = 1; i <= 40; ++i) {
    TaskBuilder t = MakeTask(i)
                        .User(i % 3 == 0 ? "bob" : "alice")
                        .Gpus(1 + i % 4)
                        .Priority(i % 5 == 0 ? 1 : 0)
                        .Submitted(kNow - (i % 7) * 1000);
    if (i % 4 == 1) t.Exclusive();
    if (i % 6 == 2) t.Share().Mem(10 * kGiB);
    if (i % 5 == 3) t.Limit(600);
    if (i == 7) t.Gpus(8);
    q.push_back(t);
  }
  return q;
}

TEST(DeterminismTest, SameInputSameDecision) {
  ClusterSnapshot snapshot = MixedCluster();
  std::vector<TaskRequest> queue = MixedQueue();
  std::string first = Describe(snapshot, Sched(snapshot, queue));
  EXPECT_EQ(Describe(snapshot, Sched(snapshot, queue)), first);
  // The mix exercises every path: placements, waiting, a reservation.
  EXPECT_NE(first.find("]\n"), std::string::npos) << first;
  EXPECT_NE(first.find("waiting: "), std::string::npos) << first;
  EXPECT_NE(first.find("reservation: task "), std::string::npos) << first;
}

TEST(DeterminismTest, InputOrderDoesNotMatter) {
  ClusterSnapshot snapshot = MixedCluster();
  std::vector<TaskRequest> queue = MixedQueue();
  Decision want = Sched(snapshot, queue);
  std::mt19937 rng(42);
  for (int round = 0; round < 5; ++round) {
    ClusterSnapshot shuffled = snapshot;
    std::shuffle(shuffled.nodes.begin(), shuffled.nodes.end(), rng);
    std::vector<TaskRequest> q = queue;
    std::shuffle(q.begin(), q.end(), rng);
    Decision got = Sched(shuffled, q);
    EXPECT_EQ(got.placements, want.placements);
    EXPECT_EQ(got.waiting_reasons, want.waiting_reasons);
    EXPECT_EQ(got.reservation, want.reservation);
  }
}

}  // namespace
}  // namespace gpuq::testing
