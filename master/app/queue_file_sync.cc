#include "master/app/queue_file_sync.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "common/csv.h"
#include "common/csv_queue.h"
#include "common/task_status.h"
#include "master/store/audit_log.h"
#include "master/store/queue_file_store.h"
#include "master/store/run_store.h"
#include "master/store/task_store.h"

namespace gpuq {
namespace {

constexpr UnixMs kRecentRowMs = 60'000;

constexpr const char* kWriteBack[] = {"task_id", "status", "allocated_gpus", "start_time",
                                      "end_time"};
constexpr const char* kEditable[] = {"task_name", "command",   "notify",  "work_dir",
                                     "n_gpus",    "execution", "gpu_ids", "prefer_gpus"};

// FNV-1a, 64 bits, in hex: stable across builds and machines (std::hash is not).
std::string Digest(std::string_view text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// The spec's fields that the file's columns control.
std::string RowDigest(const TaskSpec& spec, const std::set<std::string>& columns) {
  nlohmann::json j = nlohmann::json::object();
  if (columns.count("task_name")) j["name"] = spec.name;
  if (columns.count("command")) j["command"] = spec.command;
  if (columns.count("work_dir")) j["workdir"] = spec.workdir;
  if (columns.count("n_gpus")) j["gpus"] = spec.gpus;
  if (columns.count("execution")) j["hold"] = spec.hold;
  if (columns.count("notify")) j["notify"] = spec.notify.value_or("off");
  if (columns.count("gpu_ids")) j["gpu_ids"] = spec.gpu_ids;
  if (columns.count("prefer_gpus")) j["prefer_gpus"] = spec.prefer_gpus;
  return Digest(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

TaskPatch PatchFrom(const TaskSpec& spec, const std::set<std::string>& columns) {
  TaskPatch p;
  if (columns.count("task_name")) p.name = spec.name;
  if (columns.count("command")) p.command = spec.command;
  if (columns.count("work_dir")) p.workdir = spec.workdir;
  if (columns.count("n_gpus")) p.gpus = spec.gpus;
  if (columns.count("execution")) p.hold = spec.hold;
  if (columns.count("notify")) p.notify = spec.notify;
  if (columns.count("gpu_ids")) p.gpu_ids = spec.gpu_ids;
  if (columns.count("prefer_gpus")) p.prefer_gpus = spec.prefer_gpus;
  return p;
}

std::optional<TaskId> ParseId(const std::string& text) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v <= 0) {
    return std::nullopt;
  }
  return TaskId(v);
}

// A status the old tools wrote for a task that is over.
bool SaysEnded(const std::string& status) {
  static const std::set<std::string> kEnded = {"succeeded", "failed",    "cancelled",
                                               "canceled",  "timed_out", "lost",
                                               "done",      "finished",  "completed"};
  return kEnded.count(LowerAscii(TrimCsvField(status))) > 0;
}

}  // namespace

Result<std::string> QueueFileSync::Fingerprint() { return QueueFileStore(db_).Fingerprint(file_); }

Result<QueueSyncResult> QueueFileSync::Sync(const std::string& text) {
  Result<std::vector<CsvQueueTask>> specs = ParseCsvQueue(text);
  if (!specs.ok()) return specs.status();
  if (specs->empty()) {
    return Status::FailedPrecondition(
        "holds no task rows; an empty or cut-short file is never taken for an empty queue "
        "(cancel tasks by removing their rows, or with gpuq cancel)");
  }
  Result<std::vector<CsvRecord>> parsed = ParseCsv(text);
  if (!parsed.ok()) return parsed.status();
  std::vector<CsvRecord>& records = *parsed;

  std::vector<std::string> header = records[0].fields;
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string name = LowerAscii(TrimCsvField(header[i]));
    if (!name.empty()) col.emplace(name, i);
  }
  std::set<std::string> editable;
  for (const char* name : kEditable) {
    if (col.count(name)) editable.insert(name);
  }
  for (const char* name : kWriteBack) {
    if (!col.count(name)) {
      col[name] = header.size();
      header.push_back(name);
    }
  }
  const size_t width = header.size();
  std::map<int, const TaskSpec*> spec_at_line;
  for (const CsvQueueTask& t : *specs) spec_at_line[t.line] = &t.spec;

  QueueFileStore store(db_);
  TaskStore tasks(db_, clock_);
  Result<std::map<TaskId, std::string>> mapped = store.List(file_);
  if (!mapped.ok()) return mapped.status();

  const UnixMs now = clock_->NowUnixMs();
  auto forget_recent = [&](std::optional<TaskId> id) {
    for (auto& [sig, ids] : recent_rows_) {
      std::erase_if(ids,
                    [&](const auto& e) { return e.first == id || now - e.second > kRecentRowMs; });
    }
    std::erase_if(recent_rows_, [](const auto& kv) { return kv.second.empty(); });
  };
  forget_recent(std::nullopt);

  QueueSyncResult result;
  std::set<TaskId> seen;
  std::map<size_t, TaskId> task_of_record;
  for (size_t r = 1; r < records.size(); ++r) {
    std::vector<std::string>& fields = records[r].fields;
    fields.resize(width);
    auto at = spec_at_line.find(records[r].line);
    if (at == spec_at_line.end()) continue;  // a record of empty fields
    const TaskSpec& spec = *at->second;
    const std::string digest = RowDigest(spec, editable);

    std::optional<TaskId> id = ParseId(TrimCsvField(fields[col["task_id"]]));
    if (id && !mapped->count(*id)) {
      // A row of a task from another queue file: the file was moved or renamed (or the
      // master started with another path to it). The task follows its row.
      Result<std::optional<std::pair<std::string, std::string>>> other = store.Find(*id);
      if (!other.ok()) return other.status();
      if (other->has_value()) {
        spdlog::info("queue file {}: task {} came from {}: it follows its row", file_, id->value,
                     (*other)->first);
        GPUQ_RETURN_IF_ERROR(store.Put(*id, file_, (*other)->second));
        (*mapped)[*id] = (*other)->second;
      }
    }
    if (id && mapped->count(*id) && !seen.count(*id)) {
      seen.insert(*id);
      task_of_record[r] = *id;
      if ((*mapped)[*id] == digest) continue;
      Result<TaskRow> row = tasks.Get(*id);
      if (!row.ok()) continue;  // deleted meanwhile: its entry goes with it
      if (IsPending(row->status)) {
        Status s = tasks.Update(*id, PatchFrom(spec, editable));
        if (s.ok()) {
          result.tasks_changed = true;
          AuditLog(db_, clock_)
              .Record(owner_, "task.update", "task " + std::to_string(id->value),
                      "queue file " + file_);
        } else if (warned_[*id] != digest) {
          spdlog::warn("queue file {}: line {}: task {}: {}", file_, records[r].line, id->value,
                       s.ToString());
        }
      } else if (warned_[*id] != digest) {
        spdlog::info("queue file {}: line {}: task {} has already started ({}); edit ignored",
                     file_, records[r].line, id->value, TaskStatusName(row->status));
      }
      warned_[*id] = digest;
      GPUQ_RETURN_IF_ERROR(store.Put(*id, file_, digest));
      (*mapped)[*id] = digest;
      continue;
    }

    // A new row, or one created earlier whose id has not reached the file yet.
    std::string signature;
    for (size_t i = 0; i < width; ++i) {
      bool write_back = false;
      for (const char* name : kWriteBack) write_back = write_back || col[name] == i;
      if (!write_back) signature += fields[i] + '\x1f';
    }
    if (auto u = recent_rows_.find(signature); u != recent_rows_.end()) {
      auto candidate = std::find_if(u->second.begin(), u->second.end(), [&](const auto& e) {
        return mapped->count(e.first) && !seen.count(e.first);
      });
      if (candidate != u->second.end()) {
        seen.insert(candidate->first);
        task_of_record[r] = candidate->first;
        continue;
      }
    }
    if (SaysEnded(fields[col["status"]])) continue;  // history, not a task to run
    Result<TaskId> created = tasks.Create(spec, owner_);
    if (!created.ok()) {
      if (failed_rows_.insert(signature).second) {  // once per row, not at every re-read
        spdlog::warn("queue file {}: line {}: not submitted: {}", file_, records[r].line,
                     created.status().ToString());
      }
      continue;
    }
    GPUQ_RETURN_IF_ERROR(store.Put(*created, file_, digest));
    (*mapped)[*created] = digest;
    seen.insert(*created);
    recent_rows_[signature].emplace_back(*created, now);
    task_of_record[r] = *created;
    result.tasks_changed = true;
    AuditLog(db_, clock_)
        .Record(owner_, "task.create", "task " + std::to_string(created->value),
                "queue file " + file_);
    spdlog::info("queue file {}: line {}: submitted as task {}", file_, records[r].line,
                 created->value);
  }

  // Rows gone from the file: their tasks, if not started, are cancelled.
  for (const auto& [id, digest] : *mapped) {
    if (seen.count(id)) continue;
    Result<TaskRow> row = tasks.Get(id);
    if (row.ok() && IsPending(row->status)) {
      Result<CancelOutcome> cancelled = tasks.Cancel(id);
      if (cancelled.ok()) {
        result.tasks_changed = true;
        AuditLog(db_, clock_)
            .Record(owner_, "task.cancel", "task " + std::to_string(id.value),
                    "row removed from queue file " + file_);
        spdlog::info("queue file {}: the row of task {} was removed: cancelled", file_, id.value);
      }
    }
    GPUQ_RETURN_IF_ERROR(store.Remove(id));
    forget_recent(id);
    warned_.erase(id);
  }

  // Write-back: the status columns from the store, everything else as read.
  std::vector<TaskId> ids;
  for (const auto& [r, id] : task_of_record) ids.push_back(id);
  Result<std::vector<RunRow>> runs = RunStore(db_, clock_).ListForTasks(ids);
  if (!runs.ok()) return runs.status();
  std::map<TaskId, const RunRow*> latest;
  for (const RunRow& run : *runs) {
    const RunRow*& l = latest[run.task_id];
    if (l == nullptr || run.attempt > l->attempt) l = &run;
  }
  const std::string line_end = text.find("\r\n") != std::string::npos ? "\r\n" : "\n";
  result.text = FormatCsvRecord(header, line_end);
  for (size_t r = 1; r < records.size(); ++r) {
    std::vector<std::string>& fields = records[r].fields;
    auto task = task_of_record.find(r);
    if (task != task_of_record.end()) {
      Result<TaskRow> row = tasks.Get(task->second);
      if (row.ok()) {
        fields[col["task_id"]] = std::to_string(task->second.value);
        fields[col["status"]] = TaskStatusName(row->status);
        const RunRow* run = latest.count(task->second) ? latest[task->second] : nullptr;
        std::string gpus, start;
        // A requeued or retried task waiting again holds no GPUs.
        if (run != nullptr && !IsPending(row->status)) {
          gpus = run->node_name;
          std::string list;
          for (int g : run->gpu_indices) list += (list.empty() ? "" : ",") + std::to_string(g);
          if (!list.empty()) gpus += ":" + list;
          if (run->started_at) start = FormatRfc3339(*run->started_at);
        }
        fields[col["allocated_gpus"]] = gpus;
        fields[col["start_time"]] = start;
        fields[col["end_time"]] = row->ended_at ? FormatRfc3339(*row->ended_at) : "";
      }
    }
    result.text += FormatCsvRecord(fields, line_end);
  }
  return result;
}

}  // namespace gpuq
