#include "common/task_status.h"

namespace gpuq {
namespace {

constexpr struct {
  TaskStatus status;
  const char* name;
} kNames[] = {
    {TaskStatus::kHeld, "held"},           {TaskStatus::kQueued, "queued"},
    {TaskStatus::kStarting, "starting"},   {TaskStatus::kRunning, "running"},
    {TaskStatus::kSucceeded, "succeeded"}, {TaskStatus::kFailed, "failed"},
    {TaskStatus::kCancelled, "cancelled"}, {TaskStatus::kTimedOut, "timed_out"},
    {TaskStatus::kLost, "lost"},
};

}  // namespace

const char* TaskStatusName(TaskStatus status) {
  for (const auto& entry : kNames) {
    if (entry.status == status) return entry.name;
  }
  return "unknown";
}

std::optional<TaskStatus> ParseTaskStatus(std::string_view name) {
  for (const auto& entry : kNames) {
    if (name == entry.name) return entry.status;
  }
  return std::nullopt;
}

}  // namespace gpuq
