#include "common/policy_order.h"

#include <algorithm>
#include <cmath>

namespace gpuq {

std::vector<size_t> OrderQueue(const ClusterSnapshot& snapshot,
                               std::span<const TaskRequest> queue) {
  // The sort keys side by side, each user looked up once: sorting compares these, not the
  // (large) requests.
  struct Key {
    int priority;
    double hours;
    UnixMs submitted_at;
    TaskId id;
    size_t pos;
  };
  std::vector<Key> keys;
  keys.reserve(queue.size());
  for (size_t i = 0; i < queue.size(); ++i) {
    const TaskRequest& t = queue[i];
    double hours = 0.0;
    auto it = snapshot.user_gpu_hours.find(t.user);
    // NaN would break the strict weak ordering: count it as no usage.
    if (it != snapshot.user_gpu_hours.end() && !std::isnan(it->second)) hours = it->second;
    keys.push_back({t.priority, hours, t.submitted_at, t.id, i});
  }
  std::sort(keys.begin(), keys.end(), [](const Key& x, const Key& y) {
    if (x.priority != y.priority) return x.priority > y.priority;
    if (x.hours != y.hours) return x.hours < y.hours;
    if (x.submitted_at != y.submitted_at) return x.submitted_at < y.submitted_at;
    if (x.id != y.id) return x.id < y.id;
    return x.pos < y.pos;
  });
  std::vector<size_t> order;
  order.reserve(keys.size());
  for (const Key& k : keys) order.push_back(k.pos);
  return order;
}

}  // namespace gpuq
