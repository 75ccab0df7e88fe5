#include "common/policy_order.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gpuq {

std::vector<size_t> OrderQueue(const ClusterSnapshot& snapshot,
                               std::span<const TaskRequest> queue) {
  // Look each user up once, not once per comparison.
  std::vector<double> hours(queue.size(), 0.0);
  for (size_t i = 0; i < queue.size(); ++i) {
    auto it = snapshot.user_gpu_hours.find(queue[i].user);
    // NaN would break the strict weak ordering: count it as no usage.
    if (it != snapshot.user_gpu_hours.end() && !std::isnan(it->second)) hours[i] = it->second;
  }
  std::vector<size_t> order(queue.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const TaskRequest& x = queue[a];
    const TaskRequest& y = queue[b];
    if (x.priority != y.priority) return x.priority > y.priority;
    if (hours[a] != hours[b]) return hours[a] < hours[b];
    if (x.submitted_at != y.submitted_at) return x.submitted_at < y.submitted_at;
    if (x.id != y.id) return x.id < y.id;
    return a < b;
  });
  return order;
}

}  // namespace gpuq
