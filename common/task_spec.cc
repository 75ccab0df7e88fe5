#include "common/task_spec.h"

#include <algorithm>

#include "common/json_fields.h"
#include "common/node_validation.h"

namespace gpuq {
namespace {

using nlohmann::json;

const std::vector<const char*> kFieldNames = {
    "name",         "command", "workdir", "gpus",      "mem_mib", "util_pct",
    "exclusive",    "share",   "node",    "gpu_model", "env",     "priority",
    "time_limit_s", "retries", "after",   "notify",    "hold"};
// Where and how it runs (issue 7).
const std::vector<const char*> kPlacementFieldNames = {"gpu_ids", "prefer_gpus", "on_time_limit",
                                                       "conda", "venv"};

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

// Text that is shown in one line: no control characters, valid UTF-8, at most max bytes.
Status CheckLineText(std::string_view s, size_t max_bytes, const char* field) {
  if (s.size() > max_bytes) {
    return Status::InvalidArgument("must be at most " + std::to_string(max_bytes) + " bytes",
                                   field);
  }
  for (unsigned char c : s) {
    if (IsControl(c)) {
      return Status::InvalidArgument("must not contain control characters (newlines, tabs, NUL)",
                                     field);
    }
  }
  if (!IsValidUtf8(s)) return Status::InvalidArgument("is not valid UTF-8 text", field);
  return Status::Ok();
}

bool IsEnvNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

Status CheckEnv(const std::map<std::string, std::string>& env) {
  if (env.size() > kMaxEnvEntries) {
    return Status::InvalidArgument(
        "may hold at most " + std::to_string(kMaxEnvEntries) + " variables", "env");
  }
  for (const auto& [name, value] : env) {
    bool ok = !name.empty() && name.size() <= kMaxEnvNameBytes && IsEnvNameStart(name[0]);
    for (char c : name) ok = ok && (IsEnvNameStart(c) || (c >= '0' && c <= '9'));
    if (!ok) {
      return Status::InvalidArgument(
          "\"" + name.substr(0, 64) +
              "\" is not a variable name (letters, digits and '_', not starting with a digit)",
          "env");
    }
    if (name == "CUDA_VISIBLE_DEVICES" || name == "CUDA_DEVICE_ORDER" ||
        name.rfind("GPUQ_", 0) == 0) {
      return Status::InvalidArgument(
          name +
              " is set by gpuq (CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER and GPUQ_*) and "
              "cannot be given",
          "env");
    }
    if (value.size() > kMaxEnvValueBytes) {
      return Status::InvalidArgument("the value of " + name + " is longer than " +
                                         std::to_string(kMaxEnvValueBytes) + " bytes",
                                     "env");
    }
    if (value.find('\0') != std::string::npos || !IsValidUtf8(value)) {
      return Status::InvalidArgument(
          "the value of " + name + " must be UTF-8 text without NUL bytes", "env");
    }
  }
  return Status::Ok();
}

Status CheckRange(int64_t v, int64_t min, int64_t max, const char* field) {
  if (v < min || v > max) {
    return Status::InvalidArgument(
        "must be between " + std::to_string(min) + " and " + std::to_string(max), field);
  }
  return Status::Ok();
}

// Copies a JsonFields answer into `out` (narrowing integers to T).
template <typename T, typename U>
Status Take(Result<std::optional<U>> r, std::optional<T>* out) {
  if (!r.ok()) return r.status();
  if (r->has_value()) *out = static_cast<T>(**r);
  return Status::Ok();
}

bool IsNull(const json& body, const char* name) {
  auto it = body.find(name);
  return it != body.end() && it->is_null();
}

Result<std::optional<std::map<std::string, std::string>>> ReadEnv(const json& body) {
  auto it = body.find("env");
  if (it == body.end() || it->is_null()) return std::optional<std::map<std::string, std::string>>();
  if (!it->is_object()) {
    return Status::InvalidArgument("must be an object of name: value strings", "env");
  }
  std::map<std::string, std::string> env;
  const json& object = *it;
  for (const auto& item : object.items()) {
    if (!item.value().is_string()) {
      return Status::InvalidArgument("the value of " + item.key() + " must be a string", "env");
    }
    env[item.key()] = item.value().get<std::string>();
  }
  return std::optional(std::move(env));
}

Result<std::optional<std::vector<TaskId>>> ReadAfter(const json& body) {
  auto it = body.find("after");
  if (it == body.end() || it->is_null()) return std::optional<std::vector<TaskId>>();
  if (!it->is_array()) return Status::InvalidArgument("must be an array of task ids", "after");
  std::vector<TaskId> ids;
  for (const json& v : *it) {
    if (!v.is_number_integer() || v.get<int64_t>() <= 0) {
      return Status::InvalidArgument("must be an array of task ids", "after");
    }
    TaskId id(v.get<int64_t>());
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  return std::optional(std::move(ids));
}

Result<std::optional<std::string>> ReadNotify(const json& body) {
  auto it = body.find("notify");
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (it->is_boolean()) return std::optional<std::string>(it->get<bool>() ? "end" : "off");
  if (it->is_string()) {
    std::string v = it->get<std::string>();
    if (v == "end" || v == "failure" || v == "off") return std::optional(v);
  }
  return Status::InvalidArgument("must be \"end\", \"failure\", \"off\", true or false", "notify");
}

// A list of GPU indices: a JSON array of integers, or text "0,2" (what the CLI and the CSV
// file write). Range and duplicates are ValidateTaskSpec's to check.
Result<std::optional<std::vector<int>>> ReadGpuList(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<std::vector<int>>();
  const std::string kShape = "must be GPU indices, like [0, 2] or \"0,2\"";
  std::vector<int> ids;
  if (it->is_string()) {
    std::string text = it->get<std::string>();
    if (text.size() > 1000) return Status::InvalidArgument(kShape, name);
    size_t start = 0;
    while (start < text.size()) {
      size_t comma = std::min(text.find(',', start), text.size());
      std::string part = text.substr(start, comma - start);
      while (!part.empty() && part.front() == ' ') part.erase(part.begin());
      while (!part.empty() && part.back() == ' ') part.pop_back();
      if (part.empty() || part.size() > 5 ||
          part.find_first_not_of("0123456789") != std::string::npos) {
        return Status::InvalidArgument(kShape, name);
      }
      ids.push_back(std::stoi(part));
      start = comma + 1;
    }
    return std::optional(std::move(ids));
  }
  if (!it->is_array()) return Status::InvalidArgument(kShape, name);
  for (const json& v : *it) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > kMaxGpuIndex) {
      return Status::InvalidArgument(
          "must be GPU indices from 0 to " + std::to_string(kMaxGpuIndex), name);
    }
    ids.push_back(static_cast<int>(v.get<int64_t>()));
  }
  return std::optional(std::move(ids));
}

Status CheckGpuList(const std::vector<int>& ids, const char* name) {
  if (ids.size() > static_cast<size_t>(kMaxTaskGpus)) {
    return Status::InvalidArgument("may name at most " + std::to_string(kMaxTaskGpus) + " GPUs",
                                   name);
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] > kMaxGpuIndex) {
      return Status::InvalidArgument(
          "must be GPU indices from 0 to " + std::to_string(kMaxGpuIndex), name);
    }
    if (std::find(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(i), ids[i]) !=
        ids.begin() + static_cast<std::ptrdiff_t>(i)) {
      return Status::InvalidArgument("names GPU " + std::to_string(ids[i]) + " twice", name);
    }
  }
  return Status::Ok();
}

}  // namespace

bool TaskPatch::ChangesSpec() const {
  return name || command || workdir || gpus || mem_mib || util_pct || exclusive || share || node ||
         gpu_model || env || priority || time_limit_s || retries || after || notify || gpu_ids ||
         prefer_gpus || on_time_limit || conda || venv;
}

Result<TaskPatch> ParseTaskPatch(const json& body) {
  if (!body.is_object()) return Status::InvalidArgument("the request body must be a JSON object");
  for (auto it = body.begin(); it != body.end(); ++it) {
    bool known = false;
    for (const char* name : kFieldNames) known = known || it.key() == name;
    for (const char* name : kPlacementFieldNames) known = known || it.key() == name;
    if (!known) return Status::InvalidArgument("unknown field", it.key());
  }
  JsonFields f(body);
  TaskPatch p;
  GPUQ_RETURN_IF_ERROR(Take(f.String("name", kMaxTaskNameBytes), &p.name));
  GPUQ_RETURN_IF_ERROR(Take(f.String("command", kMaxCommandBytes), &p.command));
  GPUQ_RETURN_IF_ERROR(Take(f.String("workdir", kMaxWorkdirBytes), &p.workdir));
  if (IsNull(body, "workdir")) p.workdir = "";
  GPUQ_RETURN_IF_ERROR(Take(f.Int("gpus", 0, kMaxTaskGpus), &p.gpus));
  GPUQ_RETURN_IF_ERROR(Take(f.Int("mem_mib", 0, kMaxTaskMemMib), &p.mem_mib));
  GPUQ_RETURN_IF_ERROR(Take(f.Int("util_pct", 0, 100), &p.util_pct));
  GPUQ_RETURN_IF_ERROR(Take(f.Bool("exclusive"), &p.exclusive));
  GPUQ_RETURN_IF_ERROR(Take(f.Bool("share"), &p.share));
  GPUQ_RETURN_IF_ERROR(Take(f.String("node", 64), &p.node));
  if (IsNull(body, "node")) p.node = "";
  GPUQ_RETURN_IF_ERROR(Take(f.String("gpu_model", kMaxGpuModelBytes), &p.gpu_model));
  if (IsNull(body, "gpu_model")) p.gpu_model = "";
  Result<std::optional<std::map<std::string, std::string>>> env = ReadEnv(body);
  if (!env.ok()) return env.status();
  p.env = std::move(*env);
  GPUQ_RETURN_IF_ERROR(Take(f.Int("priority", -kMaxTaskPriority, kMaxTaskPriority), &p.priority));
  std::optional<int64_t> limit;
  GPUQ_RETURN_IF_ERROR(Take(f.Int("time_limit_s", 1, kMaxTimeLimitS), &limit));
  if (limit) p.time_limit_s = limit;
  if (IsNull(body, "time_limit_s")) p.time_limit_s = std::optional<int64_t>();
  GPUQ_RETURN_IF_ERROR(Take(f.Int("retries", 0, kMaxTaskRetries), &p.retries));
  Result<std::optional<std::vector<TaskId>>> after = ReadAfter(body);
  if (!after.ok()) return after.status();
  p.after = std::move(*after);
  Result<std::optional<std::string>> notify = ReadNotify(body);
  if (!notify.ok()) return notify.status();
  p.notify = std::move(*notify);
  GPUQ_RETURN_IF_ERROR(Take(f.Bool("hold"), &p.hold));
  for (auto [name, out] :
       {std::pair{"gpu_ids", &p.gpu_ids}, std::pair{"prefer_gpus", &p.prefer_gpus}}) {
    Result<std::optional<std::vector<int>>> ids = ReadGpuList(body, name);
    if (!ids.ok()) return ids.status();
    *out = std::move(*ids);
    if (IsNull(body, name)) *out = std::vector<int>();
  }
  GPUQ_RETURN_IF_ERROR(Take(f.String("on_time_limit", 16), &p.on_time_limit));
  GPUQ_RETURN_IF_ERROR(Take(f.String("conda", kMaxEnvPathBytes), &p.conda));
  if (IsNull(body, "conda")) p.conda = "";
  GPUQ_RETURN_IF_ERROR(Take(f.String("venv", kMaxEnvPathBytes), &p.venv));
  if (IsNull(body, "venv")) p.venv = "";
  return p;
}

void ApplyTaskPatch(const TaskPatch& p, TaskSpec* spec) {
  if (p.name) spec->name = *p.name;
  if (p.command) spec->command = *p.command;
  if (p.workdir) spec->workdir = *p.workdir;
  if (p.gpus) spec->gpus = *p.gpus;
  if (p.mem_mib) spec->mem_mib = *p.mem_mib;
  if (p.util_pct) spec->util_pct = *p.util_pct;
  if (p.exclusive) spec->exclusive = *p.exclusive;
  if (p.share) spec->share = *p.share;
  if (p.node) spec->node = *p.node;
  if (p.gpu_model) spec->gpu_model = *p.gpu_model;
  if (p.env) spec->env = *p.env;
  if (p.priority) spec->priority = *p.priority;
  if (p.time_limit_s) spec->time_limit_s = *p.time_limit_s;
  if (p.retries) spec->retries = *p.retries;
  if (p.after) spec->after = *p.after;
  if (p.notify) spec->notify = *p.notify;
  if (p.hold) spec->hold = *p.hold;
  if (p.gpu_ids) spec->gpu_ids = *p.gpu_ids;
  if (p.prefer_gpus) spec->prefer_gpus = *p.prefer_gpus;
  if (p.on_time_limit) spec->on_time_limit = *p.on_time_limit;
  if (p.conda) spec->conda = *p.conda;
  if (p.venv) spec->venv = *p.venv;
}

Result<TaskSpec> ParseTaskSpec(const json& body) {
  Result<TaskPatch> patch = ParseTaskPatch(body);
  if (!patch.ok()) return patch.status();
  if (!patch->command) return Status::InvalidArgument("is required", "command");
  TaskSpec spec;
  ApplyTaskPatch(*patch, &spec);
  GPUQ_RETURN_IF_ERROR(ValidateTaskSpec(spec));
  return spec;
}

Status ValidateTaskSpec(const TaskSpec& s) {
  // command: kept byte for byte, so only what no shell script can hold is refused.
  if (s.command.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status::InvalidArgument(s.command.empty() ? "is required" : "must not be only spaces",
                                   "command");
  }
  if (s.command.size() > kMaxCommandBytes) {
    return Status::InvalidArgument(
        "must be at most " + std::to_string(kMaxCommandBytes) + " bytes (64 KiB)", "command");
  }
  if (s.command.find('\0') != std::string::npos) {
    return Status::InvalidArgument("must not contain NUL bytes", "command");
  }
  if (!IsValidUtf8(s.command)) return Status::InvalidArgument("is not valid UTF-8 text", "command");
  GPUQ_RETURN_IF_ERROR(CheckLineText(s.name, kMaxTaskNameBytes, "name"));
  GPUQ_RETURN_IF_ERROR(CheckLineText(s.workdir, kMaxWorkdirBytes, "workdir"));
  GPUQ_RETURN_IF_ERROR(CheckRange(s.gpus, 0, kMaxTaskGpus, "gpus"));
  GPUQ_RETURN_IF_ERROR(CheckRange(s.mem_mib, 0, kMaxTaskMemMib, "mem_mib"));
  GPUQ_RETURN_IF_ERROR(CheckRange(s.util_pct, 0, 100, "util_pct"));
  if (!s.node.empty()) {
    Status node = ValidateNodeName(s.node);
    if (!node.ok()) return Status::InvalidArgument(node.message(), "node");
  }
  GPUQ_RETURN_IF_ERROR(CheckLineText(s.gpu_model, kMaxGpuModelBytes, "gpu_model"));
  GPUQ_RETURN_IF_ERROR(CheckEnv(s.env));
  GPUQ_RETURN_IF_ERROR(CheckRange(s.priority, -kMaxTaskPriority, kMaxTaskPriority, "priority"));
  if (s.time_limit_s)
    GPUQ_RETURN_IF_ERROR(CheckRange(*s.time_limit_s, 1, kMaxTimeLimitS, "time_limit_s"));
  GPUQ_RETURN_IF_ERROR(CheckRange(s.retries, 0, kMaxTaskRetries, "retries"));
  if (s.after.size() > kMaxAfter) {
    return Status::InvalidArgument("may name at most " + std::to_string(kMaxAfter) + " tasks",
                                   "after");
  }
  for (TaskId id : s.after) {
    if (!id.valid()) return Status::InvalidArgument("must be an array of task ids", "after");
  }
  if (s.notify && *s.notify != "end" && *s.notify != "failure" && *s.notify != "off") {
    return Status::InvalidArgument("must be \"end\", \"failure\" or \"off\"", "notify");
  }
  GPUQ_RETURN_IF_ERROR(CheckGpuList(s.gpu_ids, "gpu_ids"));
  GPUQ_RETURN_IF_ERROR(CheckGpuList(s.prefer_gpus, "prefer_gpus"));
  if (!s.gpu_ids.empty() && static_cast<int>(s.gpu_ids.size()) < s.gpus) {
    return Status::InvalidArgument("names " + std::to_string(s.gpu_ids.size()) +
                                       " GPUs, and the task needs " + std::to_string(s.gpus) +
                                       " (gpus)",
                                   "gpu_ids");
  }
  if (s.on_time_limit != "kill" && s.on_time_limit != "requeue") {
    return Status::InvalidArgument("must be \"kill\" or \"requeue\"", "on_time_limit");
  }
  GPUQ_RETURN_IF_ERROR(CheckLineText(s.conda, kMaxEnvPathBytes, "conda"));
  GPUQ_RETURN_IF_ERROR(CheckLineText(s.venv, kMaxEnvPathBytes, "venv"));
  if (!s.conda.empty() && !s.venv.empty()) {
    return Status::InvalidArgument("cannot be combined with venv: activate one environment",
                                   "conda");
  }
  if (s.share && s.exclusive) {
    return Status::InvalidArgument("cannot be combined with exclusive", "share");
  }
  if (s.share && s.mem_mib <= 0) {
    return Status::InvalidArgument(
        "needs mem_mib: sharing tasks fit together by the memory each declares", "share");
  }
  if (s.gpus == 0) {
    const char* kCpuOnly = "has no meaning for a CPU-only task (gpus 0)";
    if (s.mem_mib > 0) return Status::InvalidArgument(kCpuOnly, "mem_mib");
    if (s.util_pct > 0) return Status::InvalidArgument(kCpuOnly, "util_pct");
    if (s.exclusive) return Status::InvalidArgument(kCpuOnly, "exclusive");
    if (s.share) return Status::InvalidArgument(kCpuOnly, "share");
    if (!s.gpu_model.empty()) return Status::InvalidArgument(kCpuOnly, "gpu_model");
    if (!s.gpu_ids.empty()) return Status::InvalidArgument(kCpuOnly, "gpu_ids");
    if (!s.prefer_gpus.empty()) return Status::InvalidArgument(kCpuOnly, "prefer_gpus");
  }
  return Status::Ok();
}

TaskRequest ToTaskRequest(const TaskSpec& spec, TaskId id, const std::string& user,
                          UnixMs submitted_at) {
  TaskRequest r;
  r.id = id;
  r.user = user;
  r.gpus = spec.gpus;
  r.mem_mib = spec.mem_mib;
  r.util_pct = spec.util_pct;
  r.exclusive = spec.exclusive;
  r.share = spec.share;
  r.node = spec.node;
  r.gpu_model = spec.gpu_model;
  r.priority = spec.priority;
  r.time_limit_s = spec.time_limit_s.value_or(0);
  r.submitted_at = submitted_at;
  r.gpu_ids = spec.gpu_ids;
  r.prefer_gpus = spec.prefer_gpus;
  return r;
}

}  // namespace gpuq
