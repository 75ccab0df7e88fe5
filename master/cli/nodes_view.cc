#include "master/cli/nodes_view.h"

#include <fmt/format.h>

namespace gpuq::cli {
namespace {

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string NumOr(const nlohmann::json& j, const char* key, const char* unknown) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return unknown;
  return std::to_string(it->get<int64_t>());
}

std::string Holders(const nlohmann::json& gpu) {
  std::string out;
  auto procs = gpu.find("processes");
  if (procs == gpu.end() || !procs->is_array()) return out;
  for (const nlohmann::json& p : *procs) {
    if (!out.empty()) out += ' ';
    std::string user = Str(p, "user");
    out += (user.empty() ? "?" : user) + ":" + NumOr(p, "pid", "?");
    out += "(" + NumOr(p, "mem_mib", "?") + "M";
    if (p.contains("run_id") && p["run_id"].is_number()) {
      out += " run " + std::to_string(p["run_id"].get<int64_t>());
    }
    out += ")";
  }
  return out;
}

}  // namespace

std::string RenderNodes(const nlohmann::json& nodes) {
  if (!nodes.is_array() || nodes.empty()) return "no nodes registered\n";
  std::string out;
  for (const nlohmann::json& node : nodes) {
    std::string state = node.value("available", false) ? "available" : "UNAVAILABLE";
    if (!node.value("schedulable", true)) state += ", not schedulable";
    out += fmt::format("{}  {}:{}  {}", Str(node, "name"), Str(node, "host"),
                       NumOr(node, "port", "?"), state);
    if (!node.value("available", false) && !Str(node, "last_error").empty()) {
      out += ": " + Str(node, "last_error");
    }
    out += '\n';
    auto gpus = node.find("gpus");
    if (gpus == node.end() || !gpus->is_array()) continue;
    for (const nlohmann::json& gpu : *gpus) {
      std::string temp = NumOr(gpu, "temperature_c", "--");
      out += fmt::format("  [{}] {:<24} | {:>3}°C, {:>3} % | {:>6} / {:>6} MiB |", NumOr(gpu, "index", "?"),
                         Str(gpu, "model"), temp, NumOr(gpu, "util_pct", "--"),
                         NumOr(gpu, "mem_used_mib", "?"), NumOr(gpu, "mem_total_mib", "?"));
      std::string holders = Holders(gpu);
      if (!holders.empty()) out += " " + holders;
      if (!Str(gpu, "error").empty()) out += " ERROR: " + Str(gpu, "error");
      out += '\n';
    }
  }
  return out;
}

}  // namespace gpuq::cli
