// GET /metrics: the Prometheus view of nodes, GPUs, the queue and the master's own timings.
#include <httplib.h>

#include "master/store/node_store.h"
#include "master/store/run_store.h"
#include "master/store/task_store.h"
#include "web/api_routes.h"
#include "web/http_util.h"
#include "web/metrics_text.h"

namespace gpuq {
namespace {

Result<MetricsInput> GatherMetrics(WebContext* ctx) {
  MetricsInput input;
  Result<std::vector<NodeRow>> nodes = NodeStore(ctx->db, ctx->clock).List();
  if (!nodes.ok()) return nodes.status();
  std::map<NodeId, NodeLiveState> live = ctx->cluster->All();
  for (const NodeRow& row : *nodes) {
    MetricsInput::Node& node = input.nodes.emplace_back();
    node.name = row.name;
    auto it = live.find(row.id);
    if (it == live.end()) continue;
    node.up = it->second.available;
    node.last_sample_unix_s = static_cast<double>(it->second.last_sample_at) / 1000.0;
    for (const GpuStatus& gpu : it->second.gpus) {
      node.gpus.push_back({gpu.index, gpu.model, gpu.mem_used_mib, gpu.mem_total_mib, gpu.util_pct,
                           gpu.temperature_c, static_cast<int>(gpu.processes.size())});
    }
  }
  Result<std::map<TaskStatus, int64_t>> tasks = TaskStore(ctx->db, ctx->clock).CountByStatus({});
  if (!tasks.ok()) return tasks.status();
  input.tasks_by_status = std::move(*tasks);
  Result<std::map<TaskStatus, int64_t>> ends = RunStore(ctx->db, ctx->clock).CountEndsByStatus();
  if (!ends.ok()) return ends.status();
  input.run_ends_by_status = std::move(*ends);
  if (ctx->metrics != nullptr) {
    input.schedule_pass = ctx->metrics->schedule_pass.Read();
    input.launch = ctx->metrics->launch.Read();
  }
  return input;
}

}  // namespace

void RegisterMetricsRoutes(httplib::Server& server, WebContext* ctx) {
  // Any user's API token may scrape (Prometheus: `authorization: {credentials: TOKEN}`):
  // GPU usage and queue sizes are what every user of the lab already sees in `gpuq nodes`.
  server.Get("/metrics",
             Authed(ctx, Role::kAnyUser,
                    [ctx](const httplib::Request&, httplib::Response& res, const UserRow&) {
                      Result<MetricsInput> input = GatherMetrics(ctx);
                      if (!input.ok()) return ReplyError(res, input.status());
                      res.set_content(RenderMetrics(*input),
                                      "text/plain; version=0.0.4; charset=utf-8");
                    }));
}

}  // namespace gpuq
