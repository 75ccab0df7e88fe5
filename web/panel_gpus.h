#ifndef GPUQ_WEB_PANEL_GPUS_H_
#define GPUQ_WEB_PANEL_GPUS_H_

// A node's card with its GPUs (model, memory, utilisation, who holds each one), shared by
// the dashboard and the node pages.

#include <optional>
#include <vector>

#include "common/cluster_state.h"
#include "master/store/gpu_holders.h"
#include "master/store/gpu_inventory_store.h"
#include "master/store/node_store.h"
#include "web/html.h"
#include "web/panel.h"

namespace gpuq {

struct NodeCardData {
  const NodeRow* node = nullptr;
  std::optional<NodeLiveState> live;
  std::vector<GpuRow> inventory;  // used while the node has no sample yet
};

// Writes the card. `holders` are every live run (ListGpuHolders); a normal user sees other
// users' runs by owner only, without a link to the task.
void NodeCard(Html& h, const NodeCardData& data, const std::vector<GpuHolder>& holders,
              const PanelRequest& pr, UnixMs now);

}  // namespace gpuq

#endif  // GPUQ_WEB_PANEL_GPUS_H_
