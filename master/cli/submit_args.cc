#include "master/cli/submit_args.h"

#include <charconv>
#include <optional>
#include <tuple>

#include "common/shell_quote.h"
#include "common/units.h"

namespace gpuq::cli {
namespace {

// Characters that never need quoting in a POSIX shell word.
bool IsPlain(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("_-+=/.,:@%").find(c) != std::string_view::npos;
}

std::string QuoteIfNeeded(const std::string& word) {
  bool plain = !word.empty();
  for (char c : word) plain = plain && IsPlain(c);
  return plain ? word : ShellQuote(word);
}

Status BadFlag(const char* flag, const std::string& message) {
  return Status::InvalidArgument(message, flag);
}

// "0,2" -> [0, 2]; nullopt unless it is indices separated by commas.
std::optional<nlohmann::json> GpuList(const std::string& text) {
  nlohmann::json ids = nlohmann::json::array();
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = std::min(text.find(',', start), text.size());
    std::string part = text.substr(start, comma - start);
    int id = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), id);
    if (part.empty() || ec != std::errc() || ptr != part.data() + part.size() || id < 0) {
      return std::nullopt;
    }
    ids.push_back(id);
    start = comma + 1;
  }
  return ids;
}

}  // namespace

std::string JoinCommandWords(const std::vector<std::string>& words) {
  if (words.size() == 1) return words[0];
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out += ' ';
    std::string quoted = QuoteIfNeeded(w);
    // A plain first word with '=' would be read as an assignment (A=1 cmd): quote it.
    if (out.empty() && quoted == w && w.find('=') != std::string::npos) quoted = ShellQuote(w);
    out += quoted;
  }
  return out;
}

Result<nlohmann::json> BuildSubmitBody(const SubmitOptions& o, const std::string& command) {
  nlohmann::json body = {{"command", command}};
  if (!o.name.empty()) body["name"] = o.name;
  if (!o.workdir.empty()) body["workdir"] = o.workdir;
  if (o.gpus) body["gpus"] = *o.gpus;
  if (!o.mem.empty()) {
    Result<int64_t> mib = ParseMemMib(o.mem);
    if (!mib.ok()) return BadFlag("--mem", mib.status().message());
    body["mem_mib"] = *mib;
  }
  if (o.util_pct) body["util_pct"] = *o.util_pct;
  if (o.exclusive) body["exclusive"] = true;
  if (o.share) body["share"] = true;
  if (!o.node.empty()) body["node"] = o.node;
  if (!o.gpu_model.empty()) body["gpu_model"] = o.gpu_model;
  if (!o.env.empty()) {
    nlohmann::json env = nlohmann::json::object();
    for (const std::string& kv : o.env) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        return BadFlag("--env", "must be NAME=VALUE (found \"" + kv + "\")");
      }
      env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    body["env"] = env;
  }
  if (o.priority) body["priority"] = *o.priority;
  if (!o.time_limit.empty()) {
    Result<int64_t> seconds = ParseDurationSeconds(o.time_limit);
    if (!seconds.ok()) return BadFlag("--time-limit", seconds.status().message());
    body["time_limit_s"] = *seconds;
  }
  if (o.retries) body["retries"] = *o.retries;
  if (!o.after.empty()) {
    nlohmann::json ids = nlohmann::json::array();
    size_t start = 0;
    while (start <= o.after.size()) {
      size_t comma = std::min(o.after.find(',', start), o.after.size());
      std::string part = o.after.substr(start, comma - start);
      int64_t id = 0;
      auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), id);
      if (part.empty() || ec != std::errc() || ptr != part.data() + part.size() || id <= 0) {
        return BadFlag("--after", "must be task ids separated by commas, like 12 or 12,13");
      }
      ids.push_back(id);
      start = comma + 1;
    }
    body["after"] = ids;
  }
  if (o.hold) body["hold"] = true;
  for (auto [flag, text, field] : {std::tuple{"--gpu-ids", &o.gpu_ids, "gpu_ids"},
                                   std::tuple{"--prefer-gpus", &o.prefer_gpus, "prefer_gpus"}}) {
    if (text->empty()) continue;
    std::optional<nlohmann::json> ids = GpuList(*text);
    if (!ids) return BadFlag(flag, "must be GPU indices separated by commas, like 0,2");
    body[field] = *ids;
  }
  if (!o.on_time_limit.empty()) {
    if (o.on_time_limit != "kill" && o.on_time_limit != "requeue") {
      return BadFlag("--on-time-limit", "must be kill or requeue");
    }
    body["on_time_limit"] = o.on_time_limit;
  }
  if (!o.conda.empty()) body["conda"] = o.conda;
  if (!o.venv.empty()) body["venv"] = o.venv;
  if (o.notify) {
    if (*o.notify != "end" && *o.notify != "failure" && *o.notify != "off") {
      return BadFlag("--notify", "must be end, failure or off (--notify alone means end)");
    }
    body["notify"] = *o.notify;
  }
  return body;
}

}  // namespace gpuq::cli
