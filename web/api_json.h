#ifndef GPUQ_WEB_API_JSON_H_
#define GPUQ_WEB_API_JSON_H_

// The JSON shapes of INTERFACE.md, built from store rows and the live cluster state.

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "common/cluster_state.h"
#include "master/store/gpu_inventory_store.h"
#include "master/store/node_store.h"
#include "master/store/user_store.h"

namespace gpuq {

// GPU JSON: node, index, uuid, model, mem_total_mib, mem_used_mib, util_pct, processes,
// run_ids, sampled_at (plus temperature_c and error). Unknown values are null.
nlohmann::json GpuJson(const std::string& node_name, const GpuStatus& gpu, UnixMs sampled_at);

// Node JSON with its GPUs: from the live state when the node has been probed, else from the
// stored inventory (usage then null).
nlohmann::json NodeJson(const NodeRow& node, const std::optional<NodeLiveState>& live,
                        const std::vector<GpuRow>& inventory);

nlohmann::json UserJson(const UserRow& user);

}  // namespace gpuq

#endif  // GPUQ_WEB_API_JSON_H_
