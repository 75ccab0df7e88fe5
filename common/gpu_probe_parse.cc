#include "common/gpu_probe_parse.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace gpuq {
namespace {

constexpr size_t kMaxShownBytes = 120;  // of a line quoted in an error message
constexpr int kMaxGpuIndex = 4095;
constexpr int64_t kMaxMemMib = int64_t{1} << 40;  // 1 EiB: anything above is garbage
constexpr int64_t kMaxPid = INT32_MAX;
constexpr int kMaxTemperatureC = 300;
constexpr int kMaxJsonDepth = 64;

// ---- text helpers ----

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (ToLower(s[i]) != ToLower(prefix[i])) return false;
  }
  return true;
}

bool ContainsNoCase(std::string_view s, std::string_view needle) {
  if (needle.size() > s.size()) return false;
  for (size_t i = 0; i + needle.size() <= s.size(); ++i) {
    if (StartsWithNoCase(s.substr(i), needle)) return true;
  }
  return false;
}

bool HasControlByte(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Printable, valid UTF-8 rendering of untrusted bytes for an error message: printable
// ASCII is kept, everything else becomes \xNN; longer input is cut and ends in "...".
std::string Escape(std::string_view s, size_t max_bytes = kMaxShownBytes) {
  std::string out;
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i >= max_bytes) {
      out += "...";
      break;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// Yields the lines of `text`, numbered from 1, without "\n" or a trailing "\r". A final
// line without "\n" is yielded too.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : rest_(text) {}

  bool Next(std::string_view* line) {
    if (done_) return false;
    size_t end = rest_.find('\n');
    if (end == std::string_view::npos) {
      *line = rest_;
      done_ = true;
      if (line->empty()) return false;  // text ended with "\n"
    } else {
      *line = rest_.substr(0, end);
      rest_.remove_prefix(end + 1);
    }
    if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
    ++number_;
    return true;
  }
  size_t number() const { return number_; }

 private:
  std::string_view rest_;
  size_t number_ = 0;
  bool done_ = false;
};

Status LineError(size_t number, std::string_view why, std::string_view line) {
  return Status::Corruption("line " + std::to_string(number) + ": " + std::string(why) + ": \"" +
                            Escape(line) + "\"");
}

// Splits `s` at its first `max_parts - 1` commas; the last part keeps any further commas.
std::vector<std::string_view> SplitFields(std::string_view s, size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    size_t comma = s.find(',');
    if (comma == std::string_view::npos) break;
    parts.push_back(Trim(s.substr(0, comma)));
    s.remove_prefix(comma + 1);
  }
  parts.push_back(Trim(s));
  return parts;
}

size_t FieldCount(std::string_view s) { return 1 + std::count(s.begin(), s.end(), ','); }

// ---- field values ----

// A "[...]" value: nvidia-smi's way to say a field has no value, and sometimes why.
bool IsBracketed(std::string_view v) {
  return v.size() >= 2 && v.front() == '[' && v.back() == ']';
}

// True for bracketed values that say the GPU is failing rather than that the field is
// merely unsupported.
bool IsFailureMarker(std::string_view inner) {
  return ContainsNoCase(inner, "error") || ContainsNoCase(inner, "lost") ||
         ContainsNoCase(inner, "reset");
}

template <typename T>
std::optional<T> ParseInt(std::string_view s, int64_t min, int64_t max) {
  int64_t v = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || ptr != end || v < min || v > max) return std::nullopt;
  return static_cast<T>(v);
}

// Collects the distinct failure texts seen for one GPU, escaped like messages.
void AddError(std::string_view text, std::string* error) {
  std::string escaped = Escape(text, 200);
  if (error->size() > 500 || error->find(escaped) != std::string::npos) return;
  if (!error->empty()) *error += "; ";
  *error += escaped;
}

// True when `v` is bracketed (no value); a failure marker is added to `error`, if given.
bool TakeBracketed(std::string_view v, std::string* error) {
  if (!IsBracketed(v)) return false;
  std::string_view inner = v.substr(1, v.size() - 2);
  if (error != nullptr && IsFailureMarker(inner)) AddError(inner, error);
  return true;
}

// Parses a numeric field that may be bracketed. Returns false when it is neither.
template <typename T>
bool ParseNumberField(std::string_view v, int64_t min, int64_t max, std::optional<T>* out,
                      std::string* error) {
  *out = std::nullopt;
  if (TakeBracketed(v, error)) return true;
  *out = ParseInt<T>(v, min, max);
  return out->has_value();
}

bool IsGpuUuid(std::string_view v) {
  if (!(v.starts_with("GPU-") || v.starts_with("MIG-")) || v.size() > 96) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return IsHex(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '/';
  });
}

// Parses a PCI bus id "DDDD[DDDD]:BB:DD.F" and returns it in nvidia-smi's --query-gpu form
// (8-digit domain, upper-case hex), or nullopt.
std::optional<std::string> NormalizeBusId(std::string_view v) {
  size_t colon = v.find(':');
  if (colon == std::string_view::npos || colon < 4 || colon > 8) return std::nullopt;
  std::string_view domain = v.substr(0, colon);
  std::string_view rest = v.substr(colon + 1);  // "BB:DD.F"
  if (rest.size() != 7 || rest[2] != ':' || rest[5] != '.') return std::nullopt;
  std::string out(8 - domain.size(), '0');
  out += domain;
  out += ':';
  out += rest;
  for (char& c : out) {
    if (c == ':' || c == '.') continue;
    if (!IsHex(c)) return std::nullopt;
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// Recognises the driver's line about one GPU it cannot open (see the header).
bool ParseLostGpuLine(std::string_view line, std::string* bus_id, std::string* error) {
  constexpr std::string_view kPrefix = "Unable to determine the device handle for ";
  std::string_view s = line;
  if (StartsWithNoCase(s, kPrefix)) s.remove_prefix(kPrefix.size());
  if (!StartsWithNoCase(s, "GPU") || s.starts_with("GPU-")) return false;  // not a uuid
  s.remove_prefix(3);
  if (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  size_t sep = s.find(": ");
  if (sep == std::string_view::npos) return false;
  std::optional<std::string> bus = NormalizeBusId(s.substr(0, sep));
  std::string_view text = Trim(s.substr(sep + 2));
  if (!bus || text.empty()) return false;
  *bus_id = std::move(*bus);
  *error = Escape(text, 200);
  return true;
}

// Lines nvidia-smi prints instead of any data when it cannot reach the driver.
bool IsDriverFailureLine(std::string_view line) {
  return StartsWithNoCase(line, "NVIDIA-SMI has failed") ||
         StartsWithNoCase(line, "Failed to initialize NVML") ||
         StartsWithNoCase(line, "NVIDIA-SMI couldn't find libnvidia-ml.so") ||
         StartsWithNoCase(line, "Error on querying NVIDIA devices");  // gpustat
}

// kUnavailable carrying the tool's own words when any line is a driver failure.
// The message is the text's non-blank lines joined by spaces, cut near 400 bytes.
std::optional<Status> DriverFailure(std::string_view text) {
  LineReader lines(text);
  std::string_view line;
  bool failed = false;
  std::string message;
  while (lines.Next(&line)) {
    line = Trim(line);
    failed = failed || IsDriverFailureLine(line);
    if (line.empty() || message.size() >= 400) continue;
    if (!message.empty()) message += ' ';
    message += Escape(line, 400);
  }
  if (!failed) return std::nullopt;
  return Status::Unavailable(message);
}

// ---- --query-gpu ----

Result<GpuStatus> ParseQueryGpuRow(size_t number, std::string_view line) {
  std::vector<std::string_view> f = SplitFields(line, 9);
  if (f.size() != 8) {
    return LineError(number,
                     "expected 8 fields (" + std::string(kQueryGpuFields) + "), got " +
                         std::to_string(FieldCount(line)),
                     line);
  }
  GpuStatus gpu;
  std::optional<int> index = ParseInt<int>(f[0], 0, kMaxGpuIndex);
  if (!index) {
    return LineError(number, "index: expected a number 0.." + std::to_string(kMaxGpuIndex), line);
  }
  gpu.index = *index;
  if (!TakeBracketed(f[1], &gpu.error)) {
    if (!IsGpuUuid(f[1])) return LineError(number, "uuid: expected GPU-...", line);
    gpu.uuid = std::string(f[1]);
  }
  if (!TakeBracketed(f[2], &gpu.error)) {
    if (f[2].empty() || HasControlByte(f[2])) {
      return LineError(number, "name: expected a GPU model", line);
    }
    gpu.model = std::string(f[2]);
  }

  if (!ParseNumberField(f[3], 0, kMaxMemMib, &gpu.mem_total_mib, &gpu.error)) {
    return LineError(number, "memory.total: expected MiB", line);
  }
  if (!ParseNumberField(f[4], 0, kMaxMemMib, &gpu.mem_used_mib, &gpu.error)) {
    return LineError(number, "memory.used: expected MiB", line);
  }
  if (!ParseNumberField(f[5], 0, 100, &gpu.util_pct, &gpu.error)) {
    return LineError(number, "utilization.gpu: expected a percentage 0..100", line);
  }
  if (!ParseNumberField(f[6], 0, kMaxTemperatureC, &gpu.temperature_c, &gpu.error)) {
    return LineError(number, "temperature.gpu: expected degrees C", line);
  }
  if (!TakeBracketed(f[7], &gpu.error)) {
    std::optional<std::string> bus = NormalizeBusId(f[7]);
    if (!bus) return LineError(number, "pci.bus_id: expected DDDDDDDD:BB:DD.F", line);
    gpu.pci_bus_id = std::move(*bus);
  }
  return gpu;
}

// ---- gpustat --json ----

// Nesting depth of JSON text, counted outside strings. Checked before parsing so that
// hostile input cannot make the parser or the destructor recurse deeply.
int JsonDepth(std::string_view text) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

using Json = nlohmann::json;

const Json* Find(const Json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

Status TypeError(const std::string& path, const char* expected) {
  return Status::Corruption("gpustat --json: " + path + ": expected " + expected);
}

// Reads an optional integer; floats are truncated. Missing or null leaves `out` empty.
template <typename T>
Status GetNumber(const Json& object, const char* key, const std::string& path, int64_t min,
                 int64_t max, std::optional<T>* out) {
  *out = std::nullopt;
  const Json* v = Find(object, key);
  if (v == nullptr) return Status::Ok();
  std::string where = path + "." + key;
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) return TypeError(where, "a number in range");
    if (static_cast<int64_t>(u) < min) return TypeError(where, "a number in range");
    *out = static_cast<T>(u);
  } else if (v->is_number_integer()) {
    int64_t i = v->get<int64_t>();
    if (i < min || i > max) return TypeError(where, "a number in range");
    *out = static_cast<T>(i);
  } else if (v->is_number_float()) {
    double d = v->get<double>();
    if (!std::isfinite(d) || d < static_cast<double>(min) || d > static_cast<double>(max)) {
      return TypeError(where, "a number in range");
    }
    *out = static_cast<T>(d);
  } else {
    return TypeError(where, "a number or null");
  }
  return Status::Ok();
}

Status GetString(const Json& object, const char* key, const std::string& path, std::string* out) {
  out->clear();
  const Json* v = Find(object, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_string()) return TypeError(path + "." + key, "a string or null");
  *out = v->get<std::string>();
  return Status::Ok();
}

Status ParseGpustatProcess(const Json& p, const std::string& path, const std::string& gpu_uuid,
                           GpuProcess* process) {
  if (!p.is_object()) return TypeError(path, "an object");
  std::optional<int64_t> pid;
  GPUQ_RETURN_IF_ERROR(GetNumber(p, "pid", path, 1, kMaxPid, &pid));
  if (!pid) return TypeError(path + ".pid", "a pid");
  process->pid = *pid;
  process->gpu_uuid = gpu_uuid;
  GPUQ_RETURN_IF_ERROR(GetNumber(p, "gpu_memory_usage", path, 0, kMaxMemMib, &process->mem_mib));
  GPUQ_RETURN_IF_ERROR(GetString(p, "command", path, &process->name));
  GPUQ_RETURN_IF_ERROR(GetString(p, "username", path, &process->user));
  return Status::Ok();
}

Status ParseGpustatGpu(const Json& g, const std::string& path, GpuStatus* gpu) {
  if (!g.is_object()) return TypeError(path, "an object");
  std::optional<int> index;
  GPUQ_RETURN_IF_ERROR(GetNumber(g, "index", path, 0, kMaxGpuIndex, &index));
  if (!index) return TypeError(path + ".index", "a GPU index");
  gpu->index = *index;
  GPUQ_RETURN_IF_ERROR(GetString(g, "uuid", path, &gpu->uuid));
  GPUQ_RETURN_IF_ERROR(GetString(g, "name", path, &gpu->model));
  GPUQ_RETURN_IF_ERROR(GetNumber(g, "memory.total", path, 0, kMaxMemMib, &gpu->mem_total_mib));
  GPUQ_RETURN_IF_ERROR(GetNumber(g, "memory.used", path, 0, kMaxMemMib, &gpu->mem_used_mib));
  GPUQ_RETURN_IF_ERROR(GetNumber(g, "utilization.gpu", path, 0, 100, &gpu->util_pct));
  GPUQ_RETURN_IF_ERROR(
      GetNumber(g, "temperature.gpu", path, 0, kMaxTemperatureC, &gpu->temperature_c));
  const Json* processes = Find(g, "processes");
  if (processes == nullptr) return Status::Ok();
  if (!processes->is_array()) return TypeError(path + ".processes", "an array or null");
  for (size_t j = 0; j < processes->size(); ++j) {
    GpuProcess process;
    GPUQ_RETURN_IF_ERROR(ParseGpustatProcess(
        (*processes)[j], path + ".processes[" + std::to_string(j) + "]", gpu->uuid, &process));
    gpu->processes.push_back(std::move(process));
  }
  return Status::Ok();
}

Result<std::vector<GpuStatus>> ParseGpustatDocument(const Json& doc) {
  if (!doc.is_object()) return TypeError("top level", "an object");
  const Json* gpus_json = Find(doc, "gpus");
  if (gpus_json == nullptr || !gpus_json->is_array()) return TypeError("gpus", "an array");
  std::vector<GpuStatus> gpus;
  std::vector<bool> seen(kMaxGpuIndex + 1);
  for (size_t i = 0; i < gpus_json->size(); ++i) {
    GpuStatus gpu;
    GPUQ_RETURN_IF_ERROR(ParseGpustatGpu((*gpus_json)[i], "gpus[" + std::to_string(i) + "]", &gpu));
    if (seen[gpu.index]) {
      return Status::Corruption("gpustat --json: gpus[" + std::to_string(i) +
                                "].index: repeats index " + std::to_string(gpu.index));
    }
    seen[gpu.index] = true;
    gpus.push_back(std::move(gpu));
  }
  return gpus;
}

}  // namespace

Result<std::vector<GpuStatus>> ParseQueryGpuCsv(std::string_view text) {
  if (Trim(text).empty()) return Status::Corruption("empty output");
  if (std::optional<Status> failure = DriverFailure(text)) return *failure;

  std::vector<GpuStatus> gpus;
  std::vector<GpuStatus> lost;
  std::vector<bool> seen(kMaxGpuIndex + 1);
  LineReader lines(text);
  std::string_view raw;
  bool first = true;
  while (lines.Next(&raw)) {
    std::string_view line = Trim(raw);
    if (line.empty()) continue;
    if (first && StartsWithNoCase(line, "index,")) {
      first = false;
      continue;  // csv without noheader
    }
    first = false;
    if (StartsWithNoCase(line, "No devices were found")) continue;
    GpuStatus broken;
    if (ParseLostGpuLine(line, &broken.pci_bus_id, &broken.error)) {
      broken.index = kUnknownGpuIndex;
      lost.push_back(std::move(broken));
      continue;
    }
    Result<GpuStatus> gpu = ParseQueryGpuRow(lines.number(), line);
    if (!gpu.ok()) return gpu.status();
    if (seen[gpu->index]) {
      return LineError(lines.number(), "repeats index " + std::to_string(gpu->index), line);
    }
    seen[gpu->index] = true;
    gpus.push_back(std::move(gpu).value());
  }

  // A lost GPU's error goes on the row or earlier lost entry with its bus id, if any.
  std::unordered_map<std::string, size_t> by_bus;
  for (size_t i = 0; i < gpus.size(); ++i) {
    if (!gpus[i].pci_bus_id.empty()) by_bus.emplace(gpus[i].pci_bus_id, i);
  }
  for (GpuStatus& broken : lost) {
    auto [it, added] = by_bus.emplace(broken.pci_bus_id, gpus.size());
    if (added) {
      gpus.push_back(std::move(broken));
    } else {
      AddError(broken.error, &gpus[it->second].error);
    }
  }
  return gpus;
}

Result<std::vector<GpuProcess>> ParseComputeAppsCsv(std::string_view text) {
  if (std::optional<Status> failure = DriverFailure(text)) return *failure;
  std::vector<GpuProcess> processes;
  LineReader lines(text);
  std::string_view raw;
  bool first = true;
  while (lines.Next(&raw)) {
    std::string_view line = Trim(raw);
    if (line.empty()) continue;
    if (first && StartsWithNoCase(line, "gpu_uuid,")) {
      first = false;
      continue;
    }
    first = false;
    if (StartsWithNoCase(line, "No running processes found") ||
        StartsWithNoCase(line, "No devices were found")) {
      continue;
    }
    std::string bus_id;
    std::string error;
    if (ParseLostGpuLine(line, &bus_id, &error)) continue;

    std::vector<std::string_view> f = SplitFields(line, 4);
    if (f.size() != 4) {
      return LineError(lines.number(),
                       "expected 4 fields (" + std::string(kQueryComputeAppsFields) + "), got " +
                           std::to_string(FieldCount(line)),
                       line);
    }
    GpuProcess process;
    if (!IsGpuUuid(f[0])) return LineError(lines.number(), "gpu_uuid: expected GPU-...", line);
    process.gpu_uuid = std::string(f[0]);
    std::optional<int64_t> pid = ParseInt<int64_t>(f[1], 1, kMaxPid);
    if (!pid) return LineError(lines.number(), "pid: expected a positive number", line);
    process.pid = *pid;
    if (!ParseNumberField(f[2], 0, kMaxMemMib, &process.mem_mib, nullptr)) {
      return LineError(lines.number(), "used_memory: expected MiB", line);
    }
    if (!IsBracketed(f[3])) process.name = std::string(f[3]);
    processes.push_back(std::move(process));
  }
  return processes;
}

Result<std::vector<GpuStatus>> ParseGpustatJson(std::string_view text) {
  if (Trim(text).empty()) return Status::Corruption("empty output");
  if (JsonDepth(text) > kMaxJsonDepth) {
    return Status::Corruption("gpustat --json: nested deeper than " +
                              std::to_string(kMaxJsonDepth) + " levels");
  }
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    if (std::optional<Status> failure = DriverFailure(text)) return *failure;
    return Status::Corruption("gpustat --json: not JSON: " + Escape(e.what(), 200));
  } catch (const std::exception& e) {
    return Status::Corruption("gpustat --json: " + Escape(e.what(), 200));
  }
  try {
    return ParseGpustatDocument(doc);
  } catch (const std::exception& e) {  // a bug here, but never let it cross the edge
    return Status::Corruption("gpustat --json: " + Escape(e.what(), 200));
  }
}

void AttachProcessUsers(std::string_view ps_text, std::vector<GpuStatus>* gpus) {
  if (gpus == nullptr) return;
  std::unordered_map<int64_t, std::string> users;
  LineReader lines(ps_text);
  std::string_view line;
  while (lines.Next(&line)) {
    line = Trim(line);
    size_t gap = line.find_first_of(" \t");
    if (gap == std::string_view::npos) continue;
    std::optional<int64_t> pid = ParseInt<int64_t>(line.substr(0, gap), 1, kMaxPid);
    std::string_view user = Trim(line.substr(gap));
    if (!pid || user.empty() || user.find_first_of(" \t") != std::string_view::npos) continue;
    users[*pid] = std::string(user);
  }
  for (GpuStatus& gpu : *gpus) {
    for (GpuProcess& process : gpu.processes) {
      auto it = users.find(process.pid);
      if (it != users.end()) process.user = it->second;
    }
  }
}

void AttachProcesses(const std::vector<GpuProcess>& processes, std::vector<GpuStatus>* gpus) {
  if (gpus == nullptr) return;
  for (const GpuProcess& process : processes) {
    if (process.gpu_uuid.empty()) continue;
    auto gpu = std::find_if(gpus->begin(), gpus->end(),
                            [&](const GpuStatus& g) { return g.uuid == process.gpu_uuid; });
    if (gpu == gpus->end()) continue;
    auto same = std::find_if(gpu->processes.begin(), gpu->processes.end(),
                             [&](const GpuProcess& p) { return p.pid == process.pid; });
    if (same == gpu->processes.end()) {
      gpu->processes.push_back(process);
    } else if (same->mem_mib && process.mem_mib) {
      int64_t sum = 0;
      if (__builtin_add_overflow(*same->mem_mib, *process.mem_mib, &sum)) sum = INT64_MAX;
      same->mem_mib = sum;
    } else {
      same->mem_mib = std::nullopt;
    }
  }
}

}  // namespace gpuq
