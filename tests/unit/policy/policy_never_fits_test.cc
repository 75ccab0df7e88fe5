// Tasks that no registered node could ever run (policy.h, NEVER FITS).

#include <gtest/gtest.h>

#include <ostream>

#include "common/policy.h"
#include "tests/unit/policy/policy_builders.h"

namespace gpuq::testing {
namespace {

constexpr const char* kV100 = "Tesla V100-SXM2-32GB";

// n1: 4 x A100 80 GiB (down, all busy: capacity still counts); n2: 8 x V100 32 GiB.
ClusterSnapshot Lab() {
  return MakeCluster()
      .Node(MakeNode("n1").Gpus(4).Down("timeout").Held(0, MakeRun(1, 1)).Failing(1, "GPU is lost"))
      .Node(MakeNode("n2").Gpus(8, kV100, 32 * kGiB).Unschedulable());
}

struct NeverFitsCase {
  const char* name;
  TaskRequest task;
  std::optional<std::string> want;
};

// gtest prints the case by name when it fails.
void PrintTo(const NeverFitsCase& c, std::ostream* os) { *os << c.name; }

const std::vector<NeverFitsCase>& NeverFitsCases() {
  static const std::vector<NeverFitsCase> cases = {
      {"FitsSomewhere", MakeTask(1).Gpus(4).Mem(80 * kGiB), std::nullopt},
      {"FitsOnTheBigNode", MakeTask(1).Gpus(8), std::nullopt},
      {"TooManyGpusOfThatSize", MakeTask(1).Gpus(5).Mem(80 * kGiB),
       "no node has 5 GPUs of at least 80 GiB"},
      {"TooMuchMemory", MakeTask(1).Gpus(4).Mem(100 * kGiB),
       "no node has 4 GPUs of at least 100 GiB"},
      {"TooManyGpus", MakeTask(1).Gpus(9), "no node has 9 GPUs"},
      {"OneGpuTooBig", MakeTask(1).Mem(81 * kGiB), "no node has 1 GPU of at least 81 GiB"},
      {"UnknownModel", MakeTask(1).Model("H100"), "no node has model 'H100'"},
      {"ModelMatchesCaseInsensitively", MakeTask(1).Gpus(8).Model("v100"), std::nullopt},
      {"ModelTooSmall", MakeTask(1).Model("V100").Mem(40 * kGiB),
       "no node has 1 GPU of model 'V100' with at least 40 GiB"},
      {"UnknownNode", MakeTask(1).OnNode("n9"), "no node named 'n9'"},
      {"NodeTooSmall", MakeTask(1).OnNode("n1").Gpus(8), "node n1 does not have 8 GPUs"},
      {"NodeWithoutTheModel", MakeTask(1).OnNode("n2").Model("A100"),
       "node n2 has no GPU of model 'A100'"},
      {"GpuIdsTooFew", MakeTask(1).Gpus(3).GpuIds({0, 1}), "no node has 3 GPUs among gpu_ids 0,1"},
      {"GpuIdsBeyondTheNode", MakeTask(1).OnNode("n1").GpuIds({6}),
       "node n1 does not have 1 GPU among gpu_ids 6"},
      {"GpuIdsFit", MakeTask(1).Gpus(2).GpuIds({6, 7}), std::nullopt},
      {"CpuOnly", MakeTask(1).Gpus(0), std::nullopt},
      {"CpuOnlyOnUnknownNode", MakeTask(1).Gpus(0).OnNode("n9"), "no node named 'n9'"},
      {"UtilisationAbove100", MakeTask(1).Util(150), "util_pct must be between 0 and 100"},
      {"NegativeGpus", MakeTask(1).Gpus(-1), "gpus must not be negative"},
      {"NegativeMemory", MakeTask(1).Mem(-1), "mem_mib must not be negative"},
  };
  return cases;
}

class NeverFitsTest : public ::testing::TestWithParam<NeverFitsCase> {};

TEST_P(NeverFitsTest, Reason) {
  const NeverFitsCase& c = GetParam();
  EXPECT_EQ(NeverFitsReason(Lab(), c.task), c.want);
}

INSTANTIATE_TEST_SUITE_P(Policy, NeverFitsTest, ::testing::ValuesIn(NeverFitsCases()),
                         [](const ::testing::TestParamInfo<NeverFitsCase>& p) {
                           return std::string(p.param.name);
                         });

// Schedule answers from a per-class capacity index; it must agree with NeverFitsReason.
TEST(NeverFitsTest, ScheduleAgreesWithNeverFitsReason) {
  ClusterSnapshot snapshot = Lab();
  snapshot.nodes.push_back(MakeNode("n3").Gpus(2, kA100, 40 * kGiB).UnknownMem(1));
  snapshot.nodes.push_back(MakeNode("n4").Down("never probed"));
  std::vector<TaskRequest> queue;
  int64_t id = 0;
  for (int gpus : {0, 1, 2, 3, 4, 5, 8, 9}) {
    for (int64_t mem : {int64_t{0}, 32 * kGiB, 33 * kGiB, 40 * kGiB, 80 * kGiB, 200 * kGiB}) {
      for (const char* model : {"", "a100", "V100", "H100"}) {
        for (const char* node : {"", "n1", "n3", "n4", "n9"}) {
          for (const std::vector<int>& ids : {std::vector<int>{}, {1}, {0, 1, 2}, {7}}) {
            queue.push_back(
                MakeTask(++id).Gpus(gpus).Mem(mem).Model(model).OnNode(node).GpuIds(ids));
          }
        }
      }
    }
  }
  Decision d = Sched(snapshot, queue);
  for (const TaskRequest& t : queue) {
    std::optional<std::string> want = NeverFitsReason(snapshot, t);
    std::string got = Outcome(snapshot, d, t.id.value);
    if (want) {
      EXPECT_EQ(got, "waiting: can never run: " + *want);
    } else {
      EXPECT_EQ(got.find("can never run"), std::string::npos) << got;
    }
  }
}

TEST(NeverFitsTest, EmptyCluster) {
  EXPECT_EQ(NeverFitsReason(MakeCluster(), MakeTask(1)), "no node is registered");
  EXPECT_EQ(NeverFitsReason(MakeCluster(), MakeTask(1).Gpus(0)), "no node is registered");
}

TEST(NeverFitsTest, NodeNeverProbedMightFitAnything) {
  ClusterSnapshot snapshot = MakeCluster().Node(MakeNode("n1").Gpus(2)).Node(MakeNode("n2").Down());
  EXPECT_EQ(NeverFitsReason(snapshot, MakeTask(1).Gpus(16)), std::nullopt);
  EXPECT_EQ(NeverFitsReason(snapshot, MakeTask(1).Gpus(16).OnNode("n1")),
            "node n1 does not have 16 GPUs");
}

TEST(NeverFitsTest, UnknownTotalMemoryCountsAsLargeEnough) {
  ClusterSnapshot snapshot = MakeCluster().Node(MakeNode("n1").Gpus(2).UnknownMem(1));
  EXPECT_EQ(NeverFitsReason(snapshot, MakeTask(1).Mem(200 * kGiB)), std::nullopt);
  EXPECT_EQ(NeverFitsReason(snapshot, MakeTask(1).Gpus(2).Mem(200 * kGiB)),
            "no node has 2 GPUs of at least 200 GiB");
}

TEST(NeverFitsTest, ScheduleSaysSoAndReservesNothing) {
  ClusterSnapshot snapshot = MakeCluster().Node(MakeNode("n1").Gpus(4).Held(0, MakeRun(1, 1)));
  Decision d = Sched(snapshot, {MakeTask(1).Gpus(4).Mem(81 * kGiB).Priority(1),
                                MakeTask(2).Model("A100").Gpus(2), MakeTask(3).Model("H100")});
  EXPECT_EQ(Outcome(snapshot, d, 1),
            "waiting: can never run: no node has 4 GPUs of at least 81 GiB");
  EXPECT_EQ(Outcome(snapshot, d, 2), "n1[1,2]");
  EXPECT_EQ(Outcome(snapshot, d, 3), "waiting: can never run: no node has model 'H100'");
  EXPECT_FALSE(d.reservation.has_value());
}

}  // namespace
}  // namespace gpuq::testing
