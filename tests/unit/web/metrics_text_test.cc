#include "web/metrics_text.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

bool HasLine(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(MetricsTextTest, RendersGpusNodesAndQueueWithHelpAndType) {
  MetricsInput in;
  MetricsInput::Node up;
  up.name = "a100-box";
  up.up = true;
  up.last_sample_unix_s = 1700000000.5;
  MetricsInput::Gpu gpu;
  gpu.index = 3;
  gpu.model = "NVIDIA A100-SXM4-80GB";
  gpu.mem_used_mib = 1024;
  gpu.mem_total_mib = 81920;
  gpu.util_pct = 45;
  gpu.temperature_c = 61;
  gpu.processes = 2;
  up.gpus.push_back(gpu);
  MetricsInput::Node down;
  down.name = "old-box";
  in.nodes = {up, down};
  in.tasks_by_status = {{TaskStatus::kQueued, 7}, {TaskStatus::kRunning, 2}};
  in.run_ends_by_status = {{TaskStatus::kFailed, 1}};

  std::string text = RenderMetrics(in);
  const std::string labels = "{node=\"a100-box\",gpu=\"3\",model=\"NVIDIA A100-SXM4-80GB\"}";
  EXPECT_TRUE(HasLine(text, "# TYPE gpuq_gpu_memory_used_bytes gauge")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_gpu_memory_used_bytes" + labels + " 1073741824")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_gpu_memory_total_bytes" + labels + " 85899345920")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_gpu_utilization_ratio" + labels + " 0.45")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_gpu_temperature_celsius" + labels + " 61")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_gpu_processes" + labels + " 2")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_node_up{node=\"a100-box\"} 1")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_node_up{node=\"old-box\"} 0")) << text;
  EXPECT_TRUE(HasLine(text,
                      "gpuq_node_last_sample_timestamp_seconds{node=\"a100-box\"} "
                      "1700000000.5"))
      << text;
  // Every status shows, zeros included, so series never vanish.
  EXPECT_TRUE(HasLine(text, "gpuq_tasks{status=\"queued\"} 7")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_tasks{status=\"held\"} 0")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_run_ends_total{result=\"failed\"} 1")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_run_ends_total{result=\"lost\"} 0")) << text;
  EXPECT_TRUE(HasLine(text, "# TYPE gpuq_run_ends_total counter")) << text;
}

TEST(MetricsTextTest, UnknownFiguresAreLeftOutNotShownAsZero) {
  MetricsInput in;
  MetricsInput::Node node;
  node.name = "mig";
  node.up = true;
  MetricsInput::Gpu gpu;  // [N/A] memory, utilisation and temperature
  gpu.model = "A100 MIG";
  node.gpus.push_back(gpu);
  in.nodes = {node};
  std::string text = RenderMetrics(in);
  EXPECT_EQ(text.find("gpuq_gpu_memory_used_bytes{"), std::string::npos) << text;
  EXPECT_EQ(text.find("gpuq_gpu_utilization_ratio{"), std::string::npos) << text;
  EXPECT_EQ(text.find("gpuq_gpu_temperature_celsius{"), std::string::npos) << text;
  EXPECT_NE(text.find("gpuq_gpu_processes{node=\"mig\""), std::string::npos) << text;
}

TEST(MetricsTextTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  LatencyHistogram h({0.25, 0.5, 1});  // binary fractions: the sum is exact
  h.Observe(0.125);
  h.Observe(0.25);  // on a bound: counts in that bucket (le means <=)
  h.Observe(0.75);
  h.Observe(4.0);  // past the last bound: only +Inf, sum and count
  MetricsInput in;
  in.launch = h.Read();
  std::string text = RenderMetrics(in);
  EXPECT_TRUE(HasLine(text, "# TYPE gpuq_launch_seconds histogram")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_launch_seconds_bucket{le=\"0.25\"} 2")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_launch_seconds_bucket{le=\"0.5\"} 2")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_launch_seconds_bucket{le=\"1\"} 3")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_launch_seconds_bucket{le=\"+Inf\"} 4")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_launch_seconds_count 4")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_launch_seconds_sum 5.125")) << text;
  // An empty histogram still has its +Inf bucket.
  EXPECT_TRUE(HasLine(text, "gpuq_schedule_pass_seconds_bucket{le=\"+Inf\"} 0")) << text;
}

TEST(MetricsTextTest, LabelValuesAreEscaped) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  MetricsInput in;
  MetricsInput::Node node;
  node.name = "evil\"} 1\nfake_metric 9";
  in.nodes = {node};
  std::string text = RenderMetrics(in);
  EXPECT_FALSE(HasLine(text, "fake_metric 9")) << text;
  EXPECT_TRUE(HasLine(text, "gpuq_node_up{node=\"evil\\\"} 1\\nfake_metric 9\"} 0")) << text;
}

}  // namespace
}  // namespace gpuq
