#ifndef GPUQ_COMMON_GPU_HISTORY_H_
#define GPUQ_COMMON_GPU_HISTORY_H_

#include <cstdint>
#include <deque>
#include <vector>

#include "common/clock.h"

namespace gpuq {

struct GpuPoint {
  UnixMs t = 0;
  int32_t mem_used_mib = -1;  // -1: unknown
  int16_t util_pct = -1;      // -1: unknown
};

// Recent samples of one GPU, kept in memory: the last `recent_capacity` raw samples (the
// policy judges memory and utilisation over these, not one sample) and one point per
// `bucket_ms` for the last `plot_span_ms` (the panel's usage plots), averaged per bucket.
// Memory stays bounded: 100 nodes x 8 GPUs cost about 2.5 MB with the defaults.
// Not thread-safe; ClusterState guards it.
class GpuHistory {
 public:
  explicit GpuHistory(size_t recent_capacity = 60, UnixMs bucket_ms = 10'000,
                      UnixMs plot_span_ms = 3'600'000);

  void Add(const GpuPoint& point);
  // Oldest first.
  const std::deque<GpuPoint>& recent() const { return recent_; }
  // The plot series, oldest first, the current partial bucket included.
  std::vector<GpuPoint> Plot() const;

 private:
  size_t recent_capacity_;
  UnixMs bucket_ms_;
  size_t plot_capacity_;
  std::deque<GpuPoint> recent_;
  std::deque<GpuPoint> plot_;
  // The bucket being filled: sums of known values and their counts.
  UnixMs bucket_start_ = -1;
  int64_t mem_sum_ = 0, mem_n_ = 0, util_sum_ = 0, util_n_ = 0;
  GpuPoint BucketPoint() const;
};

}  // namespace gpuq

#endif  // GPUQ_COMMON_GPU_HISTORY_H_
