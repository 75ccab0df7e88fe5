#include "master/cli/tasks_view.h"

#include <time.h>

#include <cstdio>
#include <vector>

#include "common/units.h"

namespace gpuq::cli {
namespace {

using nlohmann::json;

constexpr size_t kMaxNameWidth = 24;

// The member `key` of an object, or nullptr. (Not through json::find: GCC's
// -Wnull-dereference misreads its iterators.)
const json* Member(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return nullptr;
  return &j.at(key);
}

std::string Str(const json& j, const char* key) {
  const json* v = Member(j, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : "";
}

std::optional<int64_t> Int(const json& j, const char* key) {
  const json* v = Member(j, key);
  if (v == nullptr || !v->is_number_integer()) return std::nullopt;
  return v->get<int64_t>();
}

bool Bool(const json& j, const char* key) {
  const json* v = Member(j, key);
  return v != nullptr && v->is_boolean() && v->get<bool>();
}

// Display width: UTF-8 code points, not bytes.
size_t Width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

// At most `max` code points, "..." marking a cut.
std::string Truncate(const std::string& s, size_t max) {
  if (Width(s) <= max) return s;
  size_t points = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80 && ++points > max - 3) break;
  }
  return s.substr(0, i) + "...";
}

// Columns separated by two spaces; the last column is not padded.
std::string RenderTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], Width(row[i]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - Width(row[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + '\n';
  }
  return out;
}

const json* LatestRun(const json& task) {
  const json* runs = Member(task, "runs");
  if (runs == nullptr || !runs->is_array() || runs->empty()) return nullptr;
  return &(*runs)[runs->size() - 1];
}

bool IsLiveStatus(const std::string& s) { return s == "starting" || s == "running"; }

std::string GpuList(const json& run) {
  std::string out;
  const json* gpus = Member(run, "gpu_indices");
  if (gpus == nullptr || !gpus->is_array()) return out;
  for (const json& g : *gpus) {
    if (!g.is_number_integer()) continue;
    if (!out.empty()) out += ',';
    out += std::to_string(g.get<int>());
  }
  return out;
}

// How long a run ran (until now while live); "-" before it started.
std::string RunTime(const json& run, UnixMs now) {
  std::optional<UnixMs> start = ParseRfc3339(Str(run, "started_at"));
  if (!start) start = ParseRfc3339(Str(run, "created_at"));
  if (!start) return "-";
  std::optional<UnixMs> end = ParseRfc3339(Str(run, "ended_at"));
  const UnixMs stop = end ? *end : now;
  return FormatDuration(std::max<int64_t>(0, (stop - *start) / 1000));
}

std::string HowRunEnded(const json& run) {
  std::string reason = Str(run, "end_reason");
  if (!reason.empty()) return reason;
  if (std::optional<int64_t> code = Int(run, "exit_code")) return "exit " + std::to_string(*code);
  return "";
}

std::string DisplayName(const json& task) {
  std::string name = Str(task, "name");
  if (name.empty()) {
    std::string command = Str(task, "command");
    size_t start = command.find_first_not_of(" \t\r\n");
    name = start == std::string::npos ? "" : command.substr(start);
    name = name.substr(0, name.find_first_of("\r\n"));
  }
  return Truncate(name, kMaxNameWidth);
}

std::string QueueReason(const json& task, const std::string& status, const json* run) {
  if (status == "queued" || status == "held") return Str(task, "waiting_reason");
  if (IsLiveStatus(status)) return Str(task, "cancel_requested_at").empty() ? "" : "cancelling";
  return run != nullptr ? HowRunEnded(*run) : "";
}

std::string OrText(const std::string& s, const char* none) { return s.empty() ? none : s; }

// "label:" padded, then the value; continuation lines of a multi-line value indented.
void AddField(std::string* out, const char* label, const std::string& value) {
  constexpr size_t kLabelWidth = 14;
  std::string head = std::string(label) + ":";
  head += std::string(kLabelWidth > head.size() ? kLabelWidth - head.size() : 1, ' ');
  std::string indent(kLabelWidth, ' ');
  size_t start = 0;
  bool first = true;
  while (start <= value.size()) {
    size_t nl = value.find('\n', start);
    std::string line = value.substr(start, nl == std::string::npos ? nl : nl - start);
    *out += (first ? head : indent) + line + "\n";
    first = false;
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
}

}  // namespace

std::optional<UnixMs> ParseRfc3339(std::string_view text) {
  if (text.size() < 20 || text.back() != 'Z') return std::nullopt;
  std::string s(text);
  int year, month, day, hour, minute, second, consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  int64_t ms = 0;
  std::string_view rest = text.substr(19, text.size() - 20);  // between seconds and 'Z'
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() < 2) return std::nullopt;
    int64_t scale = 100;
    for (char c : rest.substr(1)) {
      if (c < '0' || c > '9') return std::nullopt;
      ms += (c - '0') * scale;
      scale /= 10;
    }
  }
  struct tm tm {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<UnixMs>(timegm(&tm)) * 1000 + ms;
}

std::string RenderQueue(const json& tasks, UnixMs now) {
  std::vector<std::vector<std::string>> rows = {
      {"ID", "USER", "NAME", "STATE", "TIME", "GPUS", "NODE", "REASON"}};
  if (tasks.is_array()) {
    for (const json& task : tasks) {
      const std::string status = Str(task, "status");
      const json* run = LatestRun(task);
      // A queued task may have an earlier run (a retry): that run is not where it is now.
      const bool waiting = status == "queued" || status == "held";
      std::string node = "-";
      if (run != nullptr && !waiting && !Str(*run, "node").empty()) {
        node = Str(*run, "node");
        if (IsLiveStatus(status) && !GpuList(*run).empty()) node += ":" + GpuList(*run);
      }
      rows.push_back(
          {std::to_string(Int(task, "id").value_or(0)), Str(task, "user"), DisplayName(task),
           status, run != nullptr && !waiting ? RunTime(*run, now) : "-",
           std::to_string(Int(task, "gpus").value_or(0)), node, QueueReason(task, status, run)});
    }
  }
  return RenderTable(rows);
}

std::string RenderTask(const json& task, UnixMs now) {
  std::string out = "task " + std::to_string(Int(task, "id").value_or(0));
  if (!Str(task, "name").empty()) out += " \"" + Str(task, "name") + "\"";
  out += " (" + Str(task, "status") + ")\n";
  AddField(&out, "user", Str(task, "user"));
  AddField(&out, "command", Str(task, "command"));
  AddField(&out, "workdir", OrText(Str(task, "workdir"), "(the account's home)"));
  AddField(&out, "gpus", std::to_string(Int(task, "gpus").value_or(0)));
  const int64_t mem = Int(task, "mem_mib").value_or(0);
  AddField(&out, "memory/gpu", mem > 0 ? FormatMib(mem) + " free needed" : "(no need)");
  const int64_t util = Int(task, "util_pct").value_or(0);
  AddField(&out, "util/gpu", util > 0 ? std::to_string(util) + "% free needed" : "(no need)");
  AddField(&out, "exclusive", Bool(task, "exclusive") ? "yes" : "no");
  AddField(&out, "share", Bool(task, "share") ? "yes" : "no");
  AddField(&out, "node", OrText(Str(task, "node"), "(any)"));
  AddField(&out, "gpu model", OrText(Str(task, "gpu_model"), "(any)"));
  std::string env;
  if (const json* vars = Member(task, "env"); vars != nullptr && vars->is_object()) {
    for (const auto& item : vars->items()) {
      if (!env.empty()) env += '\n';
      env += item.key() + "=" + (item.value().is_string() ? item.value().get<std::string>() : "");
    }
  }
  AddField(&out, "env", OrText(env, "(none)"));
  AddField(&out, "priority", std::to_string(Int(task, "priority").value_or(0)));
  std::optional<int64_t> limit = Int(task, "time_limit_s");
  AddField(&out, "time limit", limit ? FormatDuration(*limit) : "(none)");
  AddField(&out, "retries",
           std::to_string(Int(task, "retries").value_or(0)) + " (" +
               std::to_string(Int(task, "retries_left").value_or(0)) + " left)");
  std::string after;
  if (const json* ids = Member(task, "after"); ids != nullptr && ids->is_array()) {
    for (const json& id : *ids) {
      if (!after.empty()) after += ", ";
      after += id.is_number_integer() ? std::to_string(id.get<int64_t>()) : "?";
    }
  }
  AddField(&out, "after", OrText(after, "(none)"));
  AddField(&out, "notify", Str(task, "notify"));
  auto gpu_list = [&](const char* key) {
    std::string list;
    if (const json* ids = Member(task, key); ids != nullptr && ids->is_array()) {
      for (const json& id : *ids) {
        if (id.is_number_integer())
          list += (list.empty() ? "" : ",") + std::to_string(id.get<int>());
      }
    }
    return list;
  };
  if (!gpu_list("gpu_ids").empty())
    AddField(&out, "gpu ids", gpu_list("gpu_ids") + " (only these)");
  if (!gpu_list("prefer_gpus").empty()) AddField(&out, "prefer gpus", gpu_list("prefer_gpus"));
  if (Str(task, "on_time_limit") == "requeue") AddField(&out, "at limit", "requeue (run again)");
  if (!Str(task, "conda").empty()) AddField(&out, "conda", Str(task, "conda"));
  if (!Str(task, "venv").empty()) AddField(&out, "venv", Str(task, "venv"));
  AddField(&out, "created", Str(task, "created_at"));
  if (!Str(task, "ended_at").empty()) AddField(&out, "ended", Str(task, "ended_at"));
  if (!Str(task, "cancel_requested_at").empty()) {
    AddField(&out, "cancel asked", Str(task, "cancel_requested_at"));
  }
  if (!Str(task, "waiting_reason").empty()) AddField(&out, "waiting", Str(task, "waiting_reason"));

  const json* runs = Member(task, "runs");
  if (runs == nullptr || !runs->is_array() || runs->empty()) return out + "runs: none yet\n";
  std::vector<std::vector<std::string>> rows = {
      {"RUN", "ATTEMPT", "NODE", "GPUS", "PID", "STATUS", "STARTED", "TIME", "END"}};
  for (const json& run : *runs) {
    std::optional<int64_t> pid = Int(run, "pid");
    rows.push_back({std::to_string(Int(run, "id").value_or(0)),
                    std::to_string(Int(run, "attempt").value_or(0)), OrText(Str(run, "node"), "-"),
                    OrText(GpuList(run), "-"), pid ? std::to_string(*pid) : "-", Str(run, "status"),
                    OrText(Str(run, "started_at"), "-"), RunTime(run, now), HowRunEnded(run)});
  }
  out += "runs:\n";
  const std::string table = RenderTable(rows);
  for (size_t start = 0; start < table.size();) {
    size_t end = table.find('\n', start) + 1;  // RenderTable ends every line with '\n'
    out += "  " + table.substr(start, end - start);
    start = end;
  }
  return out;
}

}  // namespace gpuq::cli
