#ifndef GPUQ_MASTER_CLI_TASKS_VIEW_H_
#define GPUQ_MASTER_CLI_TASKS_VIEW_H_

// Text views of Task JSON for `gpuq queue` and `gpuq show`. Pure (the time is an argument),
// so tests can pin the layout.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace gpuq::cli {

// "2026-11-21T22:56:43.123Z" (what FormatRfc3339 writes; the fraction is optional) -> Unix
// ms; nullopt for anything else.
std::optional<UnixMs> ParseRfc3339(std::string_view text);

// squeue-like table, one line per task in the given order, under a header:
//   ID  USER  NAME  STATE  TIME  GPUS  NODE  REASON
// NAME is the task's name, or the start of its command's first line; TIME is how long the
// latest run has run (until `now` while live); NODE is the latest run's node, with its GPU
// indices while live ("node1:0,1"); REASON is why a queued or held task waits, "cancelling"
// for a live task asked to stop, and how an ended task ended ("exit 1").
std::string RenderQueue(const nlohmann::json& tasks, UnixMs now);

// Every field of one task as "label: value" lines, why it waits, and a table of its runs.
std::string RenderTask(const nlohmann::json& task, UnixMs now);

}  // namespace gpuq::cli

#endif  // GPUQ_MASTER_CLI_TASKS_VIEW_H_
