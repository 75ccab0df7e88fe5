#include "common/cluster_state.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

NodeSample SampleAt(UnixMs t, int64_t mem_used, int util) {
  NodeSample s;
  s.sampled_at = t;
  GpuStatus gpu;
  gpu.index = 0;
  gpu.mem_used_mib = mem_used;
  gpu.util_pct = util;
  s.gpus.push_back(gpu);
  return s;
}

TEST(ClusterStateTest, AvailabilityChangesKeepSinceAndError) {
  ClusterState state;
  NodeId n(1);
  state.RecordUnavailable(n, "connection refused", 1000);
  state.RecordUnavailable(n, "connection refused", 2000);
  EXPECT_EQ(state.Get(n)->since, 1000);
  EXPECT_FALSE(state.Get(n)->available);

  state.RecordSample(n, SampleAt(3000, 10, 5), 0.5);
  EXPECT_TRUE(state.Get(n)->available);
  EXPECT_EQ(state.Get(n)->since, 3000);
  EXPECT_EQ(state.Get(n)->last_error, "connection refused");  // kept for the panel

  state.RecordUnavailable(n, "probe: timeout", 4000);
  EXPECT_EQ(state.Get(n)->since, 4000);
  EXPECT_EQ(state.Get(n)->last_error, "probe: timeout");
}

TEST(ClusterStateTest, KeepsRecentPointsPerGpu) {
  ClusterState state;
  NodeId n(1);
  for (int i = 0; i < 70; ++i) state.RecordSample(n, SampleAt(1000 * i, i, i % 100), 0.1);
  auto recent = state.Recent(n, 0);
  ASSERT_EQ(recent.size(), 60u);
  EXPECT_EQ(recent.front().mem_used_mib, 10);
  EXPECT_EQ(recent.back().mem_used_mib, 69);
  EXPECT_TRUE(state.Recent(n, 5).empty());
}

TEST(ClusterStateTest, WaitForChangeSeesNewVersions) {
  ClusterState state;
  uint64_t v = state.version();
  state.RecordSample(NodeId(2), SampleAt(1, 1, 1), 0.1);
  EXPECT_NE(state.WaitForChange(v, std::chrono::milliseconds(0)), v);
}

TEST(GpuHistoryTest, PlotAveragesPerBucketAndDropsOldBuckets) {
  GpuHistory h(/*recent_capacity=*/5, /*bucket_ms=*/10, /*plot_span_ms=*/30);
  for (UnixMs t = 0; t < 50; t += 5) h.Add({t, static_cast<int32_t>(t), 50});
  auto plot = h.Plot();
  // Buckets 10, 20, 30 kept (span 30 ms = 3 buckets) plus the open bucket 40.
  ASSERT_EQ(plot.size(), 4u);
  EXPECT_EQ(plot[0].t, 10);
  EXPECT_EQ(plot[0].mem_used_mib, 12);  // (10 + 15) / 2
  EXPECT_EQ(plot.back().t, 40);
  EXPECT_EQ(h.recent().size(), 5u);
}

TEST(GpuHistoryTest, UnknownValuesDoNotCountInAverages) {
  GpuHistory h(5, 10, 100);
  h.Add({0, 100, -1});
  h.Add({1, -1, 40});
  auto plot = h.Plot();
  ASSERT_EQ(plot.size(), 1u);
  EXPECT_EQ(plot[0].mem_used_mib, 100);
  EXPECT_EQ(plot[0].util_pct, 40);
}

}  // namespace
}  // namespace gpuq
