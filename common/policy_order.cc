#include "common/policy_order.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace gpuq {

std::vector<size_t> OrderQueue(const ClusterSnapshot& snapshot,
                               std::span<const TaskRequest> queue) {
  // Fair share turns into a small integer per user: the rank of the user's hours among all
  // users' (NaN would break the strict weak ordering: it counts as no usage, like a user
  // without an entry). Sorting then compares plain integers, not doubles looked up by name.
  std::vector<double> hours_values = {0.0};
  for (const auto& [user, hours] : snapshot.user_gpu_hours) {
    if (!std::isnan(hours)) hours_values.push_back(hours);
  }
  std::sort(hours_values.begin(), hours_values.end());
  hours_values.erase(std::unique(hours_values.begin(), hours_values.end()), hours_values.end());
  auto rank_of = [&](double hours) {
    return static_cast<uint32_t>(std::lower_bound(hours_values.begin(), hours_values.end(), hours) -
                                 hours_values.begin());
  };
  const uint32_t no_usage = rank_of(0.0);
  std::unordered_map<std::string_view, uint32_t> user_rank;
  for (const auto& [user, hours] : snapshot.user_gpu_hours) {
    user_rank[user] = std::isnan(hours) ? no_usage : rank_of(hours);
  }

  // The sort keys side by side: priority (higher first) and fair share packed in `first`.
  struct Key {
    uint64_t first;
    UnixMs submitted_at;
    int64_t id;
    size_t pos;
  };
  std::vector<Key> keys;
  keys.reserve(queue.size());
  for (size_t i = 0; i < queue.size(); ++i) {
    const TaskRequest& t = queue[i];
    auto it = user_rank.find(t.user);
    uint32_t rank = it == user_rank.end() ? no_usage : it->second;
    // INT32_MAX - priority maps every int priority, highest first, onto 0..UINT32_MAX.
    uint64_t priority = static_cast<uint32_t>(int64_t{INT32_MAX} - t.priority);
    keys.push_back({priority << 32 | rank, t.submitted_at, t.id.value, i});
  }
  std::vector<size_t> order;
  order.reserve(keys.size());
  auto later = [](const Key& x, const Key& y) {
    return std::tie(x.submitted_at, x.id) < std::tie(y.submitted_at, y.id);
  };
  if (std::is_sorted(keys.begin(), keys.end(), later)) {
    // The queue usually comes in submission order: then grouping by `first`, keeping that
    // order within each group (a counting sort over the few distinct values), is the order.
    std::unordered_map<uint64_t, size_t> start;
    for (const Key& k : keys) ++start[k.first];
    std::vector<std::pair<uint64_t, size_t*>> groups;
    for (auto& [first, count] : start) groups.emplace_back(first, &count);
    std::sort(groups.begin(), groups.end());
    size_t at = 0;
    for (auto& [first, count] : groups) at += std::exchange(*count, at);
    order.resize(keys.size());
    for (const Key& k : keys) order[start[k.first]++] = k.pos;
    return order;
  }
  std::sort(keys.begin(), keys.end(), [](const Key& x, const Key& y) {
    return std::tie(x.first, x.submitted_at, x.id, x.pos) <
           std::tie(y.first, y.submitted_at, y.id, y.pos);
  });
  for (const Key& k : keys) order.push_back(k.pos);
  return order;
}

}  // namespace gpuq
