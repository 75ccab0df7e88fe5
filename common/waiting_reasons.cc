#include "common/waiting_reasons.h"

#include <algorithm>

namespace gpuq {

WaitingReasons::WaitingReasons(std::vector<std::string> texts,
                               std::vector<std::pair<TaskId, size_t>> by_task)
    : texts_(std::move(texts)), by_task_(std::move(by_task)) {
  // The queue usually arrives in id order already.
  if (!std::is_sorted(by_task_.begin(), by_task_.end()))
    std::sort(by_task_.begin(), by_task_.end());
}

const std::string* WaitingReasons::Find(TaskId task) const {
  auto it = std::lower_bound(by_task_.begin(), by_task_.end(), task,
                             [](const auto& entry, TaskId id) { return entry.first < id; });
  if (it == by_task_.end() || it->first != task) return nullptr;
  return &texts_[it->second];
}

std::map<TaskId, std::string> WaitingReasons::ToMap() const {
  std::map<TaskId, std::string> out;
  for (const auto& [task, text] : by_task_) out.emplace_hint(out.end(), task, texts_[text]);
  return out;
}

}  // namespace gpuq
