#include "web/api_json.h"

#include "web/json_values.h"

namespace gpuq {

nlohmann::json GpuJson(const std::string& node_name, const GpuStatus& gpu, UnixMs sampled_at) {
  nlohmann::json processes = nlohmann::json::array();
  for (const GpuProcess& p : gpu.processes) {
    processes.push_back({{"pid", p.pid},
                         {"mem_mib", OrNull(p.mem_mib)},
                         {"user", OrNull(p.user)},
                         {"name", p.name},
                         {"run_id", nullptr}});
  }
  return {{"node", node_name},
          {"index", gpu.index},
          {"uuid", gpu.uuid},
          {"model", gpu.model},
          {"mem_total_mib", OrNull(gpu.mem_total_mib)},
          {"mem_used_mib", OrNull(gpu.mem_used_mib)},
          {"util_pct", OrNull(gpu.util_pct)},
          {"temperature_c", OrNull(gpu.temperature_c)},
          {"error", OrNull(gpu.error)},
          {"processes", processes},
          {"run_ids", nlohmann::json::array()},
          {"sampled_at", TimeOrNull(sampled_at)}};
}

nlohmann::json NodeJson(const NodeRow& node, const std::optional<NodeLiveState>& live,
                        const std::vector<GpuRow>& inventory) {
  nlohmann::json gpus = nlohmann::json::array();
  if (live && live->last_sample_at > 0) {
    for (const GpuStatus& gpu : live->gpus) gpus.push_back(GpuJson(node.name, gpu, live->last_sample_at));
  } else {
    for (const GpuRow& row : inventory) {
      GpuStatus gpu;
      gpu.index = row.index;
      gpu.uuid = row.uuid;
      gpu.model = row.model;
      gpu.mem_total_mib = row.mem_total_mib;
      gpus.push_back(GpuJson(node.name, gpu, 0));
    }
  }
  bool available = live && live->available;
  return {{"id", node.id.value},
          {"name", node.name},
          {"host", node.host},
          {"port", node.port},
          {"probe", node.probe},
          {"schedulable", node.schedulable},
          {"available", available},
          {"last_error", live ? OrNull(live->last_error) : nlohmann::json(nullptr)},
          {"state_since", TimeOrNull(live ? live->since : 0)},
          {"last_sample_at", TimeOrNull(live ? live->last_sample_at : 0)},
          {"probe_rtt_ms", live && live->last_sample_at > 0 ? nlohmann::json(live->probe_rtt_ms)
                                                            : nlohmann::json(nullptr)},
          {"host_key_sha256", OrNull(node.host_key_sha256)},
          {"pending_host_key_sha256", OrNull(node.pending_host_key_sha256)},
          {"created_at", TimeOrNull(node.created_at)},
          {"gpus", gpus}};
}

nlohmann::json UserJson(const UserRow& user) {
  return {{"id", user.id.value},
          {"username", user.username},
          {"role", UserRoleName(user.role)},
          {"disabled", user.disabled},
          {"created_at", TimeOrNull(user.created_at)}};
}

}  // namespace gpuq
