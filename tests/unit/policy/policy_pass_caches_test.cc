// Decisions that the per-pass caches of policy.cc (SPEED in policy.h) must not change: counts
// of passing GPUs reused across tasks of one signature until their node gets a placement,
// model eligibility judged once per pass, and nodes skipped while looking for the closest.

#include <gtest/gtest.h>

#include "common/policy.h"
#include "tests/unit/policy/policy_builders.h"

namespace gpuq::testing {
namespace {

TEST(PassCachesTest, IdenticalTasksTakeTheTightestNodeAsEachPlacementChangesIt) {
  ClusterSnapshot s =
      MakeCluster()
          .Node(MakeNode("n1").Gpus(8))
          .Node(MakeNode("n2").Gpus(4).Held(0, MakeRun(7, 3)).Held(1, MakeRun(8, 4)))
          .Node(MakeNode("n3").Gpus(2));
  std::vector<TaskRequest> tasks;
  for (int i = 1; i <= 7; ++i) tasks.push_back(MakeTask(i).Gpus(2));
  EXPECT_EQ(StripReservationNotes(Describe(s, Sched(s, tasks))),
            "1: n2[2,3]\n2: n3[0,1]\n3: n1[0,1]\n4: n1[2,3]\n5: n1[4,5]\n6: n1[6,7]\n"
            "7: waiting: node n1: 0 of 2 GPUs free (gpu 0: given to task 3 in this pass; gpu 1: "
            "given to task 3 in this pass; gpu 2: given to task 4 in this pass; 5 more); 2 more "
            "nodes do not fit\n"
            "reservation: task 7 on n1 from ?\n");
}

TEST(PassCachesTest, ModelConstraintsAreJudgedPerGpuBeforeAndAfterPlacements) {
  ClusterSnapshot s = MakeCluster()
                          .Node(MakeNode("n1").Gpus(4))
                          .Node(MakeNode("n2").Gpus(2, "NVIDIA H100 80GB HBM3").Gpus(2));
  std::vector<TaskRequest> tasks = {MakeTask(1).Model("h100"), MakeTask(2).Model("h100"),
                                    MakeTask(3).Model("h100"), MakeTask(4).Model("A100").Gpus(2)};
  EXPECT_EQ(StripReservationNotes(Describe(s, Sched(s, tasks))),
            "1: n2[0]\n2: n2[1]\n"
            "3: waiting: node n2: 0 of 1 GPUs free (gpu 0: given to task 1 in this pass; gpu 1: "
            "given to task 2 in this pass); 1 more node does not fit\n"
            "4: n2[2,3]\n"
            "reservation: task 3 on n2 from ?\n");
}

TEST(PassCachesTest, TheClosestNodeIsFoundPastNodesThatCannotBeCloser) {
  ClusterSnapshot s =
      MakeCluster()
          .Node(MakeNode("n1").Gpus(2).Held(0, MakeRun(1, 11)).Held(1, MakeRun(2, 12)))
          .Node(MakeNode("n2").Gpus(1))
          .Node(MakeNode("n3")
                    .Gpus(4)
                    .Held(0, MakeRun(3, 13))
                    .Held(1, MakeRun(4, 14))
                    .Held(2, MakeRun(5, 15)))
          .Node(MakeNode("n4").Gpus(4).Held(0, MakeRun(6, 16)).Held(1, MakeRun(7, 17)));
  EXPECT_EQ(StripReservationNotes(Outcome(s, Sched(s, {MakeTask(1).Gpus(3)}), 1)),
            "waiting: node n4: 2 of 3 GPUs free (gpu 0: held by run 6 of task 16; gpu 1: held "
            "by run 7 of task 17); 3 more nodes do not fit");
}

}  // namespace
}  // namespace gpuq::testing
