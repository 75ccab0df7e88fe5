#ifndef GPUQ_COMMON_TASK_STATUS_H_
#define GPUQ_COMMON_TASK_STATUS_H_

#include <optional>
#include <string_view>

namespace gpuq {

// A task's life (INTERFACE.md): held/queued until a run starts, starting/running while one
// is live, then one of the five ends. A run's status is one of starting..lost (never held
// or queued); the runs table stores the same names.
enum class TaskStatus {
  kHeld,
  kQueued,
  kStarting,
  kRunning,
  kSucceeded,
  kFailed,
  kCancelled,
  kTimedOut,
  kLost,
};

// "held", "queued", "starting", "running", "succeeded", "failed", "cancelled", "timed_out",
// "lost".
const char* TaskStatusName(TaskStatus status);
// The inverse of TaskStatusName; nullopt for any other text.
std::optional<TaskStatus> ParseTaskStatus(std::string_view name);

// Not started yet: held or queued (a task may be edited only then).
inline bool IsPending(TaskStatus s) { return s == TaskStatus::kHeld || s == TaskStatus::kQueued; }
// A run is live: starting or running.
inline bool IsLive(TaskStatus s) { return s == TaskStatus::kStarting || s == TaskStatus::kRunning; }
// One of the five ends.
inline bool IsEnded(TaskStatus s) { return !IsPending(s) && !IsLive(s); }

}  // namespace gpuq

#endif  // GPUQ_COMMON_TASK_STATUS_H_
