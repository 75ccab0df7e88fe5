#ifndef GPUQ_MASTER_CLI_NODES_VIEW_H_
#define GPUQ_MASTER_CLI_NODES_VIEW_H_

#include <nlohmann/json.hpp>
#include <string>

namespace gpuq::cli {

// Renders GET /api/v1/nodes as a gpustat-like text view: one line per node (address,
// availability, last error), one per GPU (model, temperature, utilisation, memory, holders).
// Pure, so tests can pin the layout.
std::string RenderNodes(const nlohmann::json& nodes);

}  // namespace gpuq::cli

#endif  // GPUQ_MASTER_CLI_NODES_VIEW_H_
