#ifndef GPUQ_COMMON_WAITING_REASONS_H_
#define GPUQ_COMMON_WAITING_REASONS_H_

// Why each queued task that was not placed waits (policy.h, WAITING REASON), by task id.
// A pass over a big queue explains thousands of tasks with a few hundred distinct texts
// (identical tasks behind one that does not fit), so each text is stored once and tasks
// point at it. Immutable once built; copying copies the texts.

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/ids.h"

namespace gpuq {

class WaitingReasons {
 public:
  WaitingReasons() = default;
  // `by_task` pairs a task id with a position in `texts`, in any order.
  // REQUIRES: task ids are distinct and positions are within `texts`.
  WaitingReasons(std::vector<std::string> texts, std::vector<std::pair<TaskId, size_t>> by_task);

  // nullptr when `task` is not waiting.
  const std::string* Find(TaskId task) const;
  bool contains(TaskId task) const { return Find(task) != nullptr; }
  size_t size() const { return by_task_.size(); }
  bool empty() const { return by_task_.empty(); }

  // Every task and its text, in id order (tests and tools; copies every text).
  std::map<TaskId, std::string> ToMap() const;

  friend bool operator==(const WaitingReasons& a, const WaitingReasons& b) {
    return a.ToMap() == b.ToMap();
  }

 private:
  std::vector<std::string> texts_;
  std::vector<std::pair<TaskId, size_t>> by_task_;  // ascending ids
};

}  // namespace gpuq

#endif  // GPUQ_COMMON_WAITING_REASONS_H_
