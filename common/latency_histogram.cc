#include "common/latency_histogram.h"

#include <algorithm>

namespace gpuq {

LatencyHistogram::LatencyHistogram(std::vector<double> bounds_s)
    : bounds_s_(std::move(bounds_s)), per_bucket_(bounds_s_.size(), 0) {}

LatencyHistogram LatencyHistogram::ForMilliseconds() {
  return LatencyHistogram(
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
}

void LatencyHistogram::Observe(double seconds) {
  // The first bound >= seconds holds it; past the last bound only count and sum see it.
  size_t i = std::lower_bound(bounds_s_.begin(), bounds_s_.end(), seconds) - bounds_s_.begin();
  std::lock_guard lock(mu_);
  if (i < per_bucket_.size()) ++per_bucket_[i];
  ++count_;
  sum_s_ += seconds;
}

LatencyHistogram::Snapshot LatencyHistogram::Read() const {
  Snapshot snap;
  snap.bounds_s = bounds_s_;
  std::lock_guard lock(mu_);
  uint64_t running = 0;
  for (uint64_t n : per_bucket_) {
    running += n;
    snap.cumulative.push_back(running);
  }
  snap.count = count_;
  snap.sum_s = sum_s_;
  return snap;
}

}  // namespace gpuq
