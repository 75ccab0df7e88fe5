#include "common/gpu_history.h"

namespace gpuq {

GpuHistory::GpuHistory(size_t recent_capacity, UnixMs bucket_ms, UnixMs plot_span_ms)
    : recent_capacity_(recent_capacity),
      bucket_ms_(bucket_ms),
      plot_capacity_(static_cast<size_t>(plot_span_ms / bucket_ms)) {}

GpuPoint GpuHistory::BucketPoint() const {
  GpuPoint p;
  p.t = bucket_start_;
  if (mem_n_ > 0) p.mem_used_mib = static_cast<int32_t>(mem_sum_ / mem_n_);
  if (util_n_ > 0) p.util_pct = static_cast<int16_t>(util_sum_ / util_n_);
  return p;
}

void GpuHistory::Add(const GpuPoint& point) {
  recent_.push_back(point);
  while (recent_.size() > recent_capacity_) recent_.pop_front();

  UnixMs bucket = point.t - point.t % bucket_ms_;
  if (bucket != bucket_start_) {
    if (bucket_start_ >= 0) {
      plot_.push_back(BucketPoint());
      while (plot_.size() > plot_capacity_) plot_.pop_front();
    }
    bucket_start_ = bucket;
    mem_sum_ = mem_n_ = util_sum_ = util_n_ = 0;
  }
  if (point.mem_used_mib >= 0) {
    mem_sum_ += point.mem_used_mib;
    ++mem_n_;
  }
  if (point.util_pct >= 0) {
    util_sum_ += point.util_pct;
    ++util_n_;
  }
}

std::vector<GpuPoint> GpuHistory::Plot() const {
  std::vector<GpuPoint> out(plot_.begin(), plot_.end());
  if (bucket_start_ >= 0) out.push_back(BucketPoint());
  return out;
}

}  // namespace gpuq
