// Which queued task goes first (policy.h, ORDER).

#include "common/policy_order.h"

#include <gtest/gtest.h>

#include <ostream>

#include "common/policy.h"
#include "tests/unit/policy/policy_builders.h"

namespace gpuq::testing {
namespace {

// Two tasks compete for the only GPU; `winner` gets it.
struct OrderCase {
  const char* name;
  std::vector<std::pair<std::string, double>> usage;
  TaskRequest a;
  TaskRequest b;
  int64_t winner;
};

// gtest prints the case by name when it fails.
void PrintTo(const OrderCase& c, std::ostream* os) { *os << c.name; }

const std::vector<OrderCase>& OrderCases() {
  static const std::vector<OrderCase> cases = {
      {"HigherPriorityFirst", {}, MakeTask(1).Submitted(kNow - 10), MakeTask(2).Priority(1), 2},
      {"PriorityBeatsFairShare",
       {{"alice", 100.0}, {"bob", 0.0}},
       MakeTask(1).User("alice").Priority(5),
       MakeTask(2).User("bob"),
       1},
      {"FewerGpuHoursFirst",
       {{"alice", 10.0}, {"bob", 2.5}},
       MakeTask(1).User("alice").Submitted(kNow - kHourMs),
       MakeTask(2).User("bob").Submitted(kNow - 1),
       2},
      {"UserWithoutUsageCountsAsZero",
       {{"alice", 0.5}},
       MakeTask(1).User("alice").Submitted(kNow - kHourMs),
       MakeTask(2).User("carol"),
       2},
      {"FairShareBeatsSubmitTime",
       {{"alice", 1.0}, {"bob", 1.5}},
       MakeTask(1).User("bob").Submitted(kNow - kHourMs),
       MakeTask(2).User("alice").Submitted(kNow - 1),
       2},
      {"EarlierSubmitFirst",
       {},
       MakeTask(1).Submitted(kNow - 10),
       MakeTask(2).Submitted(kNow - 20),
       2},
      {"LowerIdBreaksTies", {}, MakeTask(2).Submitted(kNow), MakeTask(1).Submitted(kNow), 1},
  };
  return cases;
}

class OrderTest : public ::testing::TestWithParam<OrderCase> {};

TEST_P(OrderTest, WinnerGetsTheGpu) {
  const OrderCase& c = GetParam();
  ClusterBuilder cluster = MakeCluster().Node(MakeNode("n1").Gpus(1));
  for (const auto& [user, hours] : c.usage) cluster.Usage(user, hours);
  ClusterSnapshot snapshot = cluster;
  for (const auto& queue :
       {std::vector<TaskRequest>{c.a, c.b}, std::vector<TaskRequest>{c.b, c.a}}) {
    Decision d = Sched(snapshot, queue);
    ASSERT_EQ(d.placements.size(), 1u);
    EXPECT_EQ(d.placements[0].task, TaskId(c.winner));
  }
}

INSTANTIATE_TEST_SUITE_P(Policy, OrderTest, ::testing::ValuesIn(OrderCases()),
                         [](const ::testing::TestParamInfo<OrderCase>& p) {
                           return std::string(p.param.name);
                         });

TEST(OrderQueueTest, FullOrder) {
  ClusterSnapshot snapshot = MakeCluster().Usage("alice", 3.0).Usage("bob", 1.0);
  std::vector<TaskRequest> queue = {
      MakeTask(10).User("alice").Submitted(kNow - 5),  // 0
      MakeTask(11).User("bob").Submitted(kNow - 1),    // 1
      MakeTask(12).User("alice").Priority(2),          // 2
      MakeTask(13).User("bob").Submitted(kNow - 9),    // 3
      MakeTask(9).User("alice").Submitted(kNow - 5),   // 4
      MakeTask(14).User("bob").Priority(-1),           // 5
  };
  EXPECT_EQ(OrderQueue(snapshot, queue), (std::vector<size_t>{2, 3, 1, 4, 0, 5}));
}

TEST(OrderQueueTest, EmptyQueue) { EXPECT_TRUE(OrderQueue(MakeCluster(), {}).empty()); }

}  // namespace
}  // namespace gpuq::testing
