// Routes: /api/v1/nodes, /api/v1/nodes/{id}, /api/v1/gpus.
#include <map>

#include "common/gpu_indices.h"
#include "common/json_fields.h"
#include "common/node_validation.h"
#include "master/store/audit_log.h"
#include "master/store/gpu_inventory_store.h"
#include "master/store/node_store.h"
#include "web/api_json.h"
#include "web/api_routes.h"
#include "web/http_util.h"

namespace gpuq {
namespace {

// GPU index -> the gpuq runs (starting or running) that hold it on `node`.
std::map<int, std::vector<int64_t>> RunsHoldingGpus(WebContext* ctx, NodeId node) {
  std::map<int, std::vector<int64_t>> out;
  ctx->db->WithLock([&](Connection& conn) -> Status {
    Result<Statement> stmt = conn.Prepare(
        "SELECT id, gpu_indices FROM runs WHERE node_id = ? AND status IN ('starting', 'running')"
        " ORDER BY id");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindInt64(1, node.value));
    for (;;) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      Result<std::vector<int>> gpus = ParseGpuIndices(stmt->ColumnText(1));
      if (!gpus.ok()) continue;
      for (int g : *gpus) out[g].push_back(stmt->ColumnInt64(0));
    }
    return Status::Ok();
  });
  return out;
}

nlohmann::json NodeWithLiveState(WebContext* ctx, const NodeRow& node) {
  std::optional<NodeLiveState> live = ctx->cluster->Get(node.id);
  std::vector<GpuRow> inventory;
  if (!live || live->last_sample_at == 0) {
    Result<std::vector<GpuRow>> stored = GpuInventoryStore(ctx->db, ctx->clock).List(node.id);
    if (stored.ok()) inventory = std::move(*stored);
  }
  nlohmann::json out = NodeJson(node, live, inventory);
  // Holders: the runs that hold each GPU; a process on a GPU held by one run is that run's
  // (as the scheduler counts it); with several sharing runs it stays unattributed.
  std::map<int, std::vector<int64_t>> holders = RunsHoldingGpus(ctx, node.id);
  for (nlohmann::json& gpu : out["gpus"]) {
    auto it = holders.find(gpu.value("index", -1));
    if (it == holders.end()) continue;
    gpu["run_ids"] = it->second;
    if (it->second.size() != 1) continue;
    for (nlohmann::json& p : gpu["processes"]) p["run_id"] = it->second[0];
  }
  return out;
}

// Live runs pin a node: deleting it would orphan their processes and reservations.
Result<int64_t> LiveRunsOn(WebContext* ctx, NodeId node) {
  return ctx->db->WithLock([&](Connection& conn) -> Result<int64_t> {
    Result<Statement> stmt = conn.Prepare(
        "SELECT COUNT(*) FROM runs WHERE node_id = ? AND status IN ('starting', 'running')");
    if (!stmt.ok()) return stmt.status();
    GPUQ_RETURN_IF_ERROR(stmt->BindInt64(1, node.value));
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    return stmt->ColumnInt64(0);
  });
}

Status ReadNodeUpdate(const nlohmann::json& body, NodeUpdate* update,
                      std::optional<std::string>* accept_key) {
  JsonFields f(body);
  GPUQ_RETURN_IF_ERROR(
      f.RejectUnknown({"name", "host", "port", "probe", "schedulable", "accept_host_key"}));
  Result<std::optional<std::string>> name = f.String("name", 64);
  if (!name.ok()) return name.status();
  if (name->has_value()) GPUQ_RETURN_IF_ERROR(ValidateNodeName(**name));
  Result<std::optional<std::string>> host = f.String("host", 253);
  if (!host.ok()) return host.status();
  if (host->has_value()) GPUQ_RETURN_IF_ERROR(ValidateNodeHost(**host));
  Result<std::optional<int64_t>> port = f.Int("port", 1, 65535);
  if (!port.ok()) return port.status();
  Result<std::optional<std::string>> probe = f.String("probe", 1024);
  if (!probe.ok()) return probe.status();
  if (probe->has_value()) GPUQ_RETURN_IF_ERROR(ValidateProbe(**probe));
  Result<std::optional<bool>> schedulable = f.Bool("schedulable");
  if (!schedulable.ok()) return schedulable.status();
  Result<std::optional<std::string>> accept = f.String("accept_host_key", 128);
  if (!accept.ok()) return accept.status();

  update->name = *name;
  update->host = *host;
  if (port->has_value()) update->port = static_cast<int>(**port);
  update->probe = *probe;
  update->schedulable = *schedulable;
  *accept_key = *accept;
  return Status::Ok();
}

// A new node: the update's fields, with name and host required and the rest defaulted.
Status ReadNodeSpec(const nlohmann::json& body, NodeSpec* spec) {
  NodeUpdate fields;
  std::optional<std::string> accept_key;
  GPUQ_RETURN_IF_ERROR(ReadNodeUpdate(body, &fields, &accept_key));
  if (accept_key) return Status::InvalidArgument("only for an existing node", "accept_host_key");
  if (!fields.name) return Status::InvalidArgument("is required", "name");
  if (!fields.host) return Status::InvalidArgument("is required", "host");
  spec->name = *fields.name;
  spec->host = *fields.host;
  spec->port = fields.port.value_or(22);
  spec->probe = fields.probe.value_or("nvidia-smi");
  spec->schedulable = fields.schedulable.value_or(true);
  return Status::Ok();
}

// Accepting a new host key names the fingerprint the admin saw, so a key that changed
// again in between is not accepted blindly.
Status AcceptHostKey(WebContext* ctx, const NodeRow& node, const std::string& fingerprint) {
  if (!node.pending_host_key_sha256) {
    return Status::Error(ErrorCode::kFailedPrecondition,
                         "node " + node.name + " shows no new host key to accept",
                         "accept_host_key");
  }
  if (*node.pending_host_key_sha256 != fingerprint) {
    return Status::Error(ErrorCode::kFailedPrecondition,
                         "node " + node.name + " now shows " + *node.pending_host_key_sha256 +
                             ", not " + fingerprint,
                         "accept_host_key");
  }
  return NodeStore(ctx->db, ctx->clock).AcceptPendingHostKey(node.id);
}

}  // namespace

void RegisterNodeRoutes(httplib::Server& server, WebContext* ctx) {
  server.Get("/api/v1/nodes", Authed(ctx, Role::kAnyUser, [ctx](const auto&, auto& res, const UserRow&) {
    Result<std::vector<NodeRow>> nodes = NodeStore(ctx->db, ctx->clock).List();
    if (!nodes.ok()) return ReplyError(res, nodes.status());
    nlohmann::json out = nlohmann::json::array();
    for (const NodeRow& node : *nodes) out.push_back(NodeWithLiveState(ctx, node));
    ReplyJson(res, 200, out);
  }));

  server.Post("/api/v1/nodes", Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res,
                                                                const UserRow& user) {
    Result<nlohmann::json> body = JsonFields::ParseObject(req.body);
    if (!body.ok()) return ReplyError(res, body.status());
    NodeSpec spec;
    if (Status s = ReadNodeSpec(*body, &spec); !s.ok()) return ReplyError(res, s);
    NodeStore nodes(ctx->db, ctx->clock);
    Result<NodeId> id = nodes.Create(spec);
    if (!id.ok()) return ReplyError(res, id.status());
    AuditLog(ctx->db, ctx->clock)
        .Record(user.id, "node.create", "node " + std::to_string(id->value),
                spec.name + " " + spec.host + ":" + std::to_string(spec.port));
    ctx->actions->NodeChanged(*id);
    Result<NodeRow> row = nodes.Get(*id);
    if (!row.ok()) return ReplyError(res, row.status());
    ReplyJson(res, 201, NodeWithLiveState(ctx, *row));
  }));

  server.Get(R"(/api/v1/nodes/(\d+))", Authed(ctx, Role::kAnyUser, [ctx](const auto& req, auto& res,
                                                                         const UserRow&) {
    Result<int64_t> id = PathId(req);
    if (!id.ok()) return ReplyError(res, id.status());
    Result<NodeRow> row = NodeStore(ctx->db, ctx->clock).Get(NodeId(*id));
    if (!row.ok()) return ReplyError(res, row.status());
    ReplyJson(res, 200, NodeWithLiveState(ctx, *row));
  }));

  server.Patch(R"(/api/v1/nodes/(\d+))", Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res,
                                                                         const UserRow& user) {
    Result<int64_t> id = PathId(req);
    if (!id.ok()) return ReplyError(res, id.status());
    Result<nlohmann::json> body = JsonFields::ParseObject(req.body);
    if (!body.ok()) return ReplyError(res, body.status());
    NodeUpdate update;
    std::optional<std::string> accept_key;
    if (Status s = ReadNodeUpdate(*body, &update, &accept_key); !s.ok()) return ReplyError(res, s);
    NodeStore nodes(ctx->db, ctx->clock);
    Result<NodeRow> node = nodes.Get(NodeId(*id));
    if (!node.ok()) return ReplyError(res, node.status());
    if (accept_key) {
      if (Status s = AcceptHostKey(ctx, *node, *accept_key); !s.ok()) return ReplyError(res, s);
      AuditLog(ctx->db, ctx->clock)
          .Record(user.id, "node.host_key.accept", "node " + std::to_string(*id), *accept_key);
    }
    if (Status s = nodes.Update(NodeId(*id), update); !s.ok()) return ReplyError(res, s);
    AuditLog(ctx->db, ctx->clock).Record(user.id, "node.update", "node " + std::to_string(*id),
                                         body->dump());
    ctx->actions->NodeChanged(NodeId(*id));
    Result<NodeRow> row = nodes.Get(NodeId(*id));
    if (!row.ok()) return ReplyError(res, row.status());
    ReplyJson(res, 200, NodeWithLiveState(ctx, *row));
  }));

  server.Delete(R"(/api/v1/nodes/(\d+))", Authed(ctx, Role::kAdmin, [ctx](const auto& req, auto& res,
                                                                          const UserRow& user) {
    Result<int64_t> id = PathId(req);
    if (!id.ok()) return ReplyError(res, id.status());
    NodeStore nodes(ctx->db, ctx->clock);
    Result<NodeRow> node = nodes.Get(NodeId(*id));
    if (!node.ok()) return ReplyError(res, node.status());
    Result<int64_t> live_runs = LiveRunsOn(ctx, NodeId(*id));
    if (!live_runs.ok()) return ReplyError(res, live_runs.status());
    if (*live_runs > 0) {
      return ReplyError(res, Status::FailedPrecondition(
                                 "node " + node->name + " has " + std::to_string(*live_runs) +
                                 " live run(s); cancel them or wait for them to end first"));
    }
    if (Status s = nodes.Delete(NodeId(*id)); !s.ok()) return ReplyError(res, s);
    AuditLog(ctx->db, ctx->clock).Record(user.id, "node.delete", "node " + std::to_string(*id),
                                         node->name);
    ctx->actions->NodeRemoved(NodeId(*id));
    res.status = 204;
  }));

  server.Get("/api/v1/gpus", Authed(ctx, Role::kAnyUser, [ctx](const auto&, auto& res, const UserRow&) {
    Result<std::vector<NodeRow>> nodes = NodeStore(ctx->db, ctx->clock).List();
    if (!nodes.ok()) return ReplyError(res, nodes.status());
    nlohmann::json out = nlohmann::json::array();
    for (const NodeRow& node : *nodes) {
      nlohmann::json n = NodeWithLiveState(ctx, node);
      for (nlohmann::json& gpu : n["gpus"]) out.push_back(std::move(gpu));
    }
    ReplyJson(res, 200, out);
  }));
}

}  // namespace gpuq
