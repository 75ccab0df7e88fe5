// The GPU rules of the policy, one GPU at a time (policy.h, FILTERS).

#include <gtest/gtest.h>

#include <ostream>

#include "common/policy.h"
#include "common/policy_filters.h"
#include "tests/unit/policy/policy_builders.h"

namespace gpuq::testing {
namespace {

struct GpuRuleCase {
  const char* name;
  NodeView node;
  TaskRequest task;
  std::string want;  // Outcome(): "n1[0]" or "waiting: ..."
};

// gtest prints the case by name when it fails.
void PrintTo(const GpuRuleCase& c, std::ostream* os) { *os << c.name; }

NodeBuilder OneGpu() { return MakeNode("n1").Gpus(1); }

const std::vector<GpuRuleCase>& GpuRuleCases() {
  static const std::vector<GpuRuleCase> cases = {
      {"IdleGpuFits", OneGpu(), MakeTask(1), "n1[0]"},
      {"ExclusiveRefusesForeignProcess", OneGpu().Foreign(0, 30 * kGiB, 4121),
       MakeTask(1).Exclusive(),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 30 GiB in use by pid 4121)"},
      {"ExclusiveRefusesForeignProcessUsingLittleMemory", OneGpu().Foreign(0, 100, 4121),
       MakeTask(1).Exclusive(),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 100 MiB in use by pid 4121)"},
      {"ExclusiveListsEveryPid", OneGpu().Foreign(0, 10 * kGiB, 11).Foreign(0, 20 * kGiB, 12),
       MakeTask(1).Exclusive(),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 30 GiB in use by pids 11, 12)"},
      {"ExclusiveRefusesPhantomMemory", OneGpu().MemUsed(0, {30 * kGiB}), MakeTask(1).Exclusive(),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 30 GiB in use, no process listed)"},
      {"ExclusiveAcceptsDisplayMemory", OneGpu().MemUsed(0, {300, 350}), MakeTask(1).Exclusive(),
       "n1[0]"},
      {"ExclusiveThresholdIsInclusive", OneGpu().MemUsed(0, {512}), MakeTask(1).Exclusive(),
       "n1[0]"},
      {"ExclusiveThresholdPlusOneRefused", OneGpu().MemUsed(0, {513}), MakeTask(1).Exclusive(),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 513 MiB in use, no process listed)"},
      {"ExclusiveJudgesTheWindow", OneGpu().MemUsed(0, {0, 20 * kGiB, 0}), MakeTask(1).Exclusive(),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 20 GiB in use, no process listed)"},
      {"NonExclusiveJoinsForeignProcessWhenMemoryFits", OneGpu().Foreign(0, 30 * kGiB, 4121),
       MakeTask(1).Mem(40 * kGiB), "n1[0]"},
      {"NonExclusiveNeedsFreeMemory", OneGpu().Foreign(0, 50 * kGiB, 4121),
       MakeTask(1).Mem(40 * kGiB),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 30 GiB free, needs 40 GiB)"},
      {"FreeMemoryExactlyEnough", OneGpu().MemUsed(0, {40 * kGiB}), MakeTask(1).Mem(40 * kGiB),
       "n1[0]"},
      {"PhantomMemoryCountsForNonExclusive", OneGpu().MemUsed(0, {70 * kGiB}),
       MakeTask(1).Mem(20 * kGiB),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 10 GiB free, needs 20 GiB)"},
      {"MemoryIsJudgedOverTheWindow", OneGpu().MemUsed(0, {10 * kGiB, 70 * kGiB, 10 * kGiB}),
       MakeTask(1).Mem(20 * kGiB),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 10 GiB free, needs 20 GiB)"},
      {"OneQuietSampleDoesNotFreeMemory", OneGpu().MemUsed(0, {70 * kGiB, 70 * kGiB, 0}),
       MakeTask(1).Mem(20 * kGiB),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 10 GiB free, needs 20 GiB)"},
      {"UtilisationIsJudgedOverTheWindow", OneGpu().Util(0, {10, 90, 10}), MakeTask(1).Util(50),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 10% utilisation free, needs 50%)"},
      {"OneQuietUtilisationSampleDoesNotFreeIt", OneGpu().Util(0, {95, 95, 0}),
       MakeTask(1).Util(50),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 5% utilisation free, needs 50%)"},
      {"UtilisationFits", OneGpu().Util(0, {10, 50, 20}), MakeTask(1).Util(50), "n1[0]"},
      {"UtilisationUnknownRefusedWhenNeeded", OneGpu().UnknownUtil(0), MakeTask(1).Util(10),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: utilisation unknown)"},
      {"UtilisationUnknownFineWithoutANeed", OneGpu().UnknownUtil(0), MakeTask(1).Exclusive(),
       "n1[0]"},
      {"MemoryUnknownRefused", OneGpu().UnknownMem(0), MakeTask(1),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: memory unknown)"},
      {"FailingGpuRefused", OneGpu().Failing(0, "GPU is lost"), MakeTask(1),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: failing (GPU is lost))"},
      {"UnknownIndexRefused", OneGpu().Index(0, -1), MakeTask(1),
       "waiting: node n1: 0 of 1 GPUs free (gpu ?: index unknown)"},
      {"HeldGpuRefused", OneGpu().Held(0, MakeRun(7, 3)), MakeTask(1),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: held by run 7 of task 3)"},
      {"HeldGpuRefusedEvenIfMemoryFits",
       OneGpu().Held(0, MakeRun(7, 3).Mem(1 * kGiB).Seen(1 * kGiB)).MemUsed(0, {1 * kGiB}),
       MakeTask(1).Mem(1 * kGiB),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: held by run 7 of task 3)"},
      {"HeldByTwoRuns", OneGpu().Held(0, MakeRun(7, 3).Share(kGiB)).Held(0, MakeRun(8, 4)),
       MakeTask(1),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: held by run 7 of task 3 and 1 more)"},

      // Sharing.
      {"SharingTaskJoinsSharingRun",
       OneGpu().Held(0, MakeRun(7, 3).Share(40 * kGiB).Seen(20 * kGiB)).MemUsed(0, {20 * kGiB}),
       MakeTask(1).Share().Mem(30 * kGiB), "n1[0]"},
      {"SharingDeclaredMemoryMustFit",
       OneGpu().Held(0, MakeRun(7, 3).Share(60 * kGiB).Seen(10 * kGiB)).MemUsed(0, {10 * kGiB}),
       MakeTask(1).Share().Mem(30 * kGiB),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 30 GiB does not fit beside shared runs "
       "(60 GiB declared, 0 MiB other use, 80 GiB total))"},
      {"SharingCountsForeignUse",
       OneGpu()
           .Held(0, MakeRun(7, 3).Share(40 * kGiB).Seen(10 * kGiB))
           .MemUsed(0, {10 * kGiB})
           .Foreign(0, 20 * kGiB, 4121),
       MakeTask(1).Share().Mem(30 * kGiB),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 30 GiB does not fit beside shared runs "
       "(40 GiB declared, 20 GiB other use, 80 GiB total))"},
      {"SharingAlsoNeedsRealFreeMemory",
       OneGpu().Held(0, MakeRun(7, 3).Share(10 * kGiB).Seen(60 * kGiB)).MemUsed(0, {60 * kGiB}),
       MakeTask(1).Share().Mem(30 * kGiB),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 20 GiB free, needs 30 GiB)"},
      {"NonSharingTaskCannotJoinSharingRun", OneGpu().Held(0, MakeRun(7, 3).Share(10 * kGiB)),
       MakeTask(1).Mem(10 * kGiB),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: held by run 7 of task 3)"},
      {"SharingTaskCannotJoinNonSharingRun", OneGpu().Held(0, MakeRun(7, 3).Mem(10 * kGiB)),
       MakeTask(1).Share().Mem(10 * kGiB),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: held by run 7 of task 3, not shared)"},
      {"SharingWithoutMemoryNeedCannotShare", OneGpu().Held(0, MakeRun(7, 3).Share(10 * kGiB)),
       MakeTask(1).Share(),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: held by run 7 of task 3; a task without a "
       "memory need cannot share)"},
      {"ExclusiveTaskCannotShare", OneGpu().Held(0, MakeRun(7, 3).Share(10 * kGiB)),
       MakeTask(1).Share().Exclusive().Mem(kGiB),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: held by run 7 of task 3; an exclusive task "
       "cannot share)"},
      {"RunSharingWithoutMemoryIsNotShared", OneGpu().Held(0, MakeRun(7, 3).Share(0)),
       MakeTask(1).Share().Mem(kGiB),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: held by run 7 of task 3, not shared)"},

      // Promised memory: holder 7 overran its declaration (10 GiB declared, 40 GiB used), so
      // only the promise of the starting holder 8 (20 GiB) keeps task 1 off the GPU.
      {"PromisedMemoryCountsAsUsed",
       OneGpu()
           .Held(0, MakeRun(7, 3).Share(10 * kGiB).Seen(40 * kGiB))
           .Held(0, MakeRun(8, 4).Share(20 * kGiB).Unseen(10'000))
           .MemUsed(0, {40 * kGiB}),
       MakeTask(1).Share().Mem(30 * kGiB),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 20 GiB free (20 GiB promised to starting "
       "runs), needs 30 GiB)"},
      {"PromiseEndsWhenTheProcessIsSeen",
       OneGpu()
           .Held(0, MakeRun(7, 3).Share(10 * kGiB).Seen(40 * kGiB))
           .Held(0, MakeRun(8, 4).Share(20 * kGiB).Unseen(10'000).Seen(0))
           .MemUsed(0, {40 * kGiB}),
       MakeTask(1).Share().Mem(30 * kGiB), "n1[0]"},
      {"PromiseEndsAfterTheGracePeriod",
       OneGpu()
           .Held(0, MakeRun(7, 3).Share(10 * kGiB).Seen(40 * kGiB))
           .Held(0, MakeRun(8, 4).Share(20 * kGiB).Unseen(60'000))
           .MemUsed(0, {40 * kGiB}),
       MakeTask(1).Share().Mem(30 * kGiB), "n1[0]"},
      {"PromiseHoldsJustBeforeTheGracePeriodEnds",
       OneGpu()
           .Held(0, MakeRun(7, 3).Share(10 * kGiB).Seen(40 * kGiB))
           .Held(0, MakeRun(8, 4).Share(20 * kGiB).Unseen(59'999))
           .MemUsed(0, {40 * kGiB}),
       MakeTask(1).Share().Mem(30 * kGiB),
       "waiting: node n1: 0 of 1 GPUs free (gpu 0: 20 GiB free (20 GiB promised to starting "
       "runs), needs 30 GiB)"},
  };
  return cases;
}

class GpuRuleTest : public ::testing::TestWithParam<GpuRuleCase> {};

TEST_P(GpuRuleTest, Outcome) {
  const GpuRuleCase& c = GetParam();
  ClusterSnapshot snapshot = MakeCluster().Node(c.node);
  Decision d = Sched(snapshot, {c.task});
  // The reservation note has its own tests.
  EXPECT_EQ(StripReservationNotes(Outcome(snapshot, d, c.task.id.value)), c.want);
}

INSTANTIATE_TEST_SUITE_P(Policy, GpuRuleTest, ::testing::ValuesIn(GpuRuleCases()),
                         [](const ::testing::TestParamInfo<GpuRuleCase>& p) {
                           return std::string(p.param.name);
                         });

TEST(GpuRuleTest, MaxSamplesLimitsTheWindow) {
  ClusterSnapshot snapshot =
      MakeCluster().Node(OneGpu().MemUsed(0, {70 * kGiB, 0, 0, 0}).Util(0, {100, 0, 0, 0}));
  std::vector<TaskRequest> tasks = {MakeTask(1).Mem(20 * kGiB).Util(50)};
  PolicyOptions all;
  EXPECT_EQ(Outcome(snapshot, Sched(snapshot, tasks, all), 1),
            "waiting: node n1: 0 of 1 GPUs free (gpu 0: 10 GiB free, needs 20 GiB)");
  PolicyOptions last3;
  last3.max_samples = 3;
  EXPECT_EQ(Outcome(snapshot, Sched(snapshot, tasks, last3), 1), "n1[0]");
}

TEST(GpuRuleTest, ExclusiveThresholdIsAnOption) {
  ClusterSnapshot snapshot = MakeCluster().Node(OneGpu().MemUsed(0, {2 * kGiB}));
  std::vector<TaskRequest> tasks = {MakeTask(1).Exclusive()};
  EXPECT_EQ(Outcome(snapshot, Sched(snapshot, tasks), 1),
            "waiting: node n1: 0 of 1 GPUs free (gpu 0: 2 GiB in use, no process listed)");
  PolicyOptions lax;
  lax.exclusive_max_mem_used_mib = 4 * kGiB;
  EXPECT_EQ(Outcome(snapshot, Sched(snapshot, tasks, lax), 1), "n1[0]");
}

TEST(GpuRuleTest, PromiseGraceIsAnOption) {
  ClusterSnapshot snapshot =
      MakeCluster().Node(OneGpu()
                             .Held(0, MakeRun(7, 3).Share(10 * kGiB).Seen(40 * kGiB))
                             .Held(0, MakeRun(8, 4).Share(20 * kGiB).Unseen(2 * kMinuteMs))
                             .MemUsed(0, {40 * kGiB}));
  std::vector<TaskRequest> tasks = {MakeTask(1).Share().Mem(30 * kGiB)};
  EXPECT_EQ(Outcome(snapshot, Sched(snapshot, tasks), 1), "n1[0]");
  PolicyOptions patient;
  patient.promise_grace_ms = 5 * kMinuteMs;
  EXPECT_EQ(StripReservationNotes(Outcome(snapshot, Sched(snapshot, tasks, patient), 1)),
            "waiting: node n1: 0 of 1 GPUs free (gpu 0: 20 GiB free (20 GiB promised to "
            "starting runs), needs 30 GiB)");
}

TEST(MemTextTest, Units) {
  EXPECT_EQ(policy_internal::MemText(0), "0 MiB");
  EXPECT_EQ(policy_internal::MemText(512), "512 MiB");
  EXPECT_EQ(policy_internal::MemText(1023), "1023 MiB");
  EXPECT_EQ(policy_internal::MemText(1024), "1 GiB");
  EXPECT_EQ(policy_internal::MemText(30 * kGiB), "30 GiB");
  EXPECT_EQ(policy_internal::MemText(30000), "29.3 GiB");
  EXPECT_EQ(policy_internal::MemText(1536), "1.5 GiB");
}

}  // namespace
}  // namespace gpuq::testing
