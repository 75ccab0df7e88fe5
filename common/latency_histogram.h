#ifndef GPUQ_COMMON_LATENCY_HISTOGRAM_H_
#define GPUQ_COMMON_LATENCY_HISTOGRAM_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

namespace gpuq {

// A cumulative latency histogram with fixed upper bounds, in the shape Prometheus exposes
// (DESIGN.md, observability): each bucket counts observations <= its bound, plus a count and
// a sum. Thread-safe; Observe is a short critical section, cheap enough for the scheduler's
// hot path.
class LatencyHistogram {
 public:
  // Upper bounds in seconds, ascending; +Inf is implied.
  explicit LatencyHistogram(std::vector<double> bounds_s);

  // 0.5 ms .. 10 s: scheduling passes and launches both live in this range.
  static LatencyHistogram ForMilliseconds();

  void Observe(double seconds);
  void Observe(std::chrono::steady_clock::duration elapsed) {
    Observe(std::chrono::duration<double>(elapsed).count());
  }

  struct Snapshot {
    std::vector<double> bounds_s;
    std::vector<uint64_t> cumulative;  // per bound: observations <= bound
    uint64_t count = 0;                // all observations (the +Inf bucket)
    double sum_s = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double> bounds_s_;
  mutable std::mutex mu_;
  std::vector<uint64_t> per_bucket_;  // not cumulative: observations in (bound[i-1], bound[i]]
  uint64_t count_ = 0;
  double sum_s_ = 0;
};

// The master's own timings, shown on /metrics.
struct MasterMetrics {
  LatencyHistogram schedule_pass = LatencyHistogram::ForMilliseconds();  // one policy cycle
  LatencyHistogram launch = LatencyHistogram::ForMilliseconds();         // placement -> pid on node
};

}  // namespace gpuq

#endif  // GPUQ_COMMON_LATENCY_HISTOGRAM_H_
