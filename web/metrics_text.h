#ifndef GPUQ_WEB_METRICS_TEXT_H_
#define GPUQ_WEB_METRICS_TEXT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/latency_histogram.h"
#include "common/task_status.h"

namespace gpuq {

// Everything /metrics shows, gathered by the route; rendering it is pure.
struct MetricsInput {
  struct Gpu {
    int index = 0;
    std::string model;
    std::optional<int64_t> mem_used_mib;
    std::optional<int64_t> mem_total_mib;
    std::optional<int> util_pct;
    std::optional<int> temperature_c;
    int processes = 0;
  };
  struct Node {
    std::string name;
    bool up = false;
    double last_sample_unix_s = 0;  // 0: never sampled
    std::vector<Gpu> gpus;
  };
  std::vector<Node> nodes;
  std::map<TaskStatus, int64_t> tasks_by_status;  // missing statuses count 0
  std::map<TaskStatus, int64_t> run_ends_by_status;
  LatencyHistogram::Snapshot schedule_pass;
  LatencyHistogram::Snapshot launch;
};

// The Prometheus text exposition format (version 0.0.4): HELP and TYPE lines, one sample per
// line, label values escaped. Fields the driver does not report ([N/A]) are left out rather
// than shown as 0, so a dashboard never mistakes "unknown" for "idle".
std::string RenderMetrics(const MetricsInput& input);

// A label value with backslash, double quote and newline escaped, as the format requires.
std::string EscapeLabelValue(const std::string& value);

}  // namespace gpuq

#endif  // GPUQ_WEB_METRICS_TEXT_H_
