#include "web/metrics_text.h"

#include <charconv>

#include "common/task_status.h"

namespace gpuq {
namespace {

constexpr double kBytesPerMib = 1024.0 * 1024.0;

std::string Number(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

using Labels = std::vector<std::pair<std::string, std::string>>;

class Writer {
 public:
  void Family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void Sample(const std::string& name, const Labels& labels, double value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) out_ += ',';
        out_ += labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += Number(value);
    out_ += '\n';
  }

  void Histogram(const char* name, const char* help, const LatencyHistogram::Snapshot& h) {
    Family(name, "histogram", help);
    std::string base = name;
    for (size_t i = 0; i < h.bounds_s.size(); ++i) {
      Sample(base + "_bucket", {{"le", Number(h.bounds_s[i])}},
             static_cast<double>(h.cumulative[i]));
    }
    Sample(base + "_bucket", {{"le", "+Inf"}}, static_cast<double>(h.count));
    Sample(base + "_sum", {}, h.sum_s);
    Sample(base + "_count", {}, static_cast<double>(h.count));
  }

  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// One gauge family over every GPU; `value` returns nullopt where the driver had no figure.
template <typename Fn>
void GpuFamily(Writer& w, const MetricsInput& input, const char* name, const char* help, Fn value) {
  w.Family(name, "gauge", help);
  for (const MetricsInput::Node& node : input.nodes) {
    for (const MetricsInput::Gpu& gpu : node.gpus) {
      std::optional<double> v = value(gpu);
      if (!v) continue;
      w.Sample(name,
               {{"node", node.name}, {"gpu", std::to_string(gpu.index)}, {"model", gpu.model}}, *v);
    }
  }
}

}  // namespace

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string RenderMetrics(const MetricsInput& input) {
  Writer w;
  w.Family("gpuq_node_up", "gauge", "1 while the master reaches the node and its GPUs answer.");
  for (const MetricsInput::Node& node : input.nodes) {
    w.Sample("gpuq_node_up", {{"node", node.name}}, node.up ? 1 : 0);
  }
  w.Family("gpuq_node_last_sample_timestamp_seconds", "gauge",
           "When the node's GPUs were last sampled (Unix time).");
  for (const MetricsInput::Node& node : input.nodes) {
    if (node.last_sample_unix_s > 0) {
      w.Sample("gpuq_node_last_sample_timestamp_seconds", {{"node", node.name}},
               node.last_sample_unix_s);
    }
  }
  auto mib = [](const std::optional<int64_t>& v) -> std::optional<double> {
    if (!v) return std::nullopt;
    return static_cast<double>(*v) * kBytesPerMib;
  };
  GpuFamily(w, input, "gpuq_gpu_memory_used_bytes", "GPU memory in use, by any process.",
            [&](const MetricsInput::Gpu& g) { return mib(g.mem_used_mib); });
  GpuFamily(w, input, "gpuq_gpu_memory_total_bytes", "GPU memory in all.",
            [&](const MetricsInput::Gpu& g) { return mib(g.mem_total_mib); });
  GpuFamily(w, input, "gpuq_gpu_utilization_ratio", "GPU utilisation, 0 to 1.",
            [](const MetricsInput::Gpu& g) -> std::optional<double> {
              if (!g.util_pct) return std::nullopt;
              return *g.util_pct / 100.0;
            });
  GpuFamily(w, input, "gpuq_gpu_temperature_celsius", "GPU temperature.",
            [](const MetricsInput::Gpu& g) -> std::optional<double> {
              if (!g.temperature_c) return std::nullopt;
              return *g.temperature_c;
            });
  GpuFamily(w, input, "gpuq_gpu_processes", "Processes holding memory on the GPU.",
            [](const MetricsInput::Gpu& g) -> std::optional<double> { return g.processes; });

  // Every status is shown, 0 included, so a rate or an alert never sees a series vanish.
  w.Family("gpuq_tasks", "gauge", "Tasks by status.");
  for (TaskStatus s : {TaskStatus::kHeld, TaskStatus::kQueued, TaskStatus::kStarting,
                       TaskStatus::kRunning, TaskStatus::kSucceeded, TaskStatus::kFailed,
                       TaskStatus::kCancelled, TaskStatus::kTimedOut, TaskStatus::kLost}) {
    auto it = input.tasks_by_status.find(s);
    w.Sample("gpuq_tasks", {{"status", TaskStatusName(s)}},
             static_cast<double>(it == input.tasks_by_status.end() ? 0 : it->second));
  }
  w.Family("gpuq_run_ends_total", "counter", "Runs that ended, by result.");
  for (TaskStatus s : {TaskStatus::kSucceeded, TaskStatus::kFailed, TaskStatus::kCancelled,
                       TaskStatus::kTimedOut, TaskStatus::kLost}) {
    auto it = input.run_ends_by_status.find(s);
    w.Sample("gpuq_run_ends_total", {{"result", TaskStatusName(s)}},
             static_cast<double>(it == input.run_ends_by_status.end() ? 0 : it->second));
  }
  w.Histogram("gpuq_schedule_pass_seconds",
              "One scheduling pass: read the queue and the cluster, run the policy.",
              input.schedule_pass);
  w.Histogram("gpuq_launch_seconds", "From a placement to the task's process running on the node.",
              input.launch);
  return w.Take();
}

}  // namespace gpuq
