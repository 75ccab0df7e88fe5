// Pages: /admin/nodes (list), /admin/nodes/new (add), /admin/nodes/{id} (card, GPU usage
// plots of the last hour, edit, schedulable on/off, accept a changed host key, delete).
// Viewing is for every user; changing is for admins.
#include <charconv>

#include "common/node_validation.h"
#include "master/store/audit_log.h"
#include "master/store/database.h"
#include "master/store/gpu_holders.h"
#include "web/panel.h"
#include "web/panel_gpus.h"
#include "web/panel_settings.h"

namespace gpuq {
namespace {

struct NodeForm {
  std::string name, host, port = "22", probe;
  bool schedulable = true;
  std::map<std::string, std::string> errors;  // by field
};

NodeForm FormFromRequest(const httplib::Request& req) {
  NodeForm f;
  f.name = FormValue(req, "name");
  f.host = FormValue(req, "host");
  f.port = FormValue(req, "port");
  f.probe = FormValue(req, "probe");
  f.schedulable = FormChecked(req, "schedulable");
  return f;
}

// Checks every field (all errors at once, so the admin fixes them in one go).
bool Validate(NodeForm& f, NodeSpec* spec) {
  auto check = [&](const char* field, const Status& s) {
    if (!s.ok()) f.errors[field] = s.message();
  };
  check("name", ValidateNodeName(f.name));
  check("host", ValidateNodeHost(f.host));
  int64_t port = 0;
  auto [ptr, ec] = std::from_chars(f.port.data(), f.port.data() + f.port.size(), port);
  if (f.port.empty() || ec != std::errc() || ptr != f.port.data() + f.port.size()) {
    f.errors["port"] = "must be a number from 1 to 65535";
  } else {
    check("port", ValidateNodePort(port));
  }
  check("probe", ValidateProbe(f.probe));
  spec->name = f.name;
  spec->host = f.host;
  spec->port = static_cast<int>(port);
  spec->probe = f.probe;
  spec->schedulable = f.schedulable;
  return f.errors.empty();
}

void Field(Html& h, const Translator& t, const NodeForm& f, const char* name, const char* label,
           const std::string& value, const char* extra = "") {
  auto err = f.errors.find(name);
  h.Raw("<label")
      .Raw(err != f.errors.end() ? " class=\"invalid\"" : "")
      .Raw(">")
      .Text(t(label))
      .Raw("<input name=\"")
      .Raw(name)
      .Raw("\" value=\"")
      .Text(value)
      .Raw("\" ")
      .Raw(extra)
      .Raw(">");
  FieldError(h, f.errors, name);
  h.Raw("</label>");
}

void NodeFormHtml(Html& h, const PanelRequest& pr, const NodeForm& f, const std::string& action,
                  const char* submit_key) {
  const Translator& t = pr.t;
  h.Raw("<form method=\"post\" action=\"")
      .Text(action)
      .Raw("\" class=\"card form\" id=\"node-form\">");
  CsrfField(h, pr);
  h.Hidden("action", "save");
  if (auto it = f.errors.find(""); it != f.errors.end())
    h.Raw("<p class=\"flash error\">").Text(it->second).Raw("</p>");
  Field(h, t, f, "name", "node.name", f.name, "required");
  Field(h, t, f, "host", "node.host", f.host, "required");
  Field(h, t, f, "port", "node.port", f.port, "inputmode=\"numeric\"");
  Field(h, t, f, "probe", "node.probe", f.probe, "list=\"probes\"");
  h.Raw(
       "<datalist id=\"probes\"><option value=\"nvidia-smi\"><option value=\"gpustat\"></datalist>")
      .Raw("<label class=\"check\"><input type=\"checkbox\" name=\"schedulable\"")
      .Raw(f.schedulable ? " checked" : "")
      .Raw("> ")
      .Text(t("node.schedulable"))
      .Raw("</label>")
      .Raw("<button type=\"submit\" class=\"primary\">")
      .Text(t(submit_key))
      .Raw("</button></form>");
}

void ListNodes(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
               PanelRequest& pr) {
  const UnixMs now = ctx->clock->NowUnixMs();
  Result<std::vector<NodeRow>> nodes = NodeStore(ctx->db, ctx->clock).List();
  if (!nodes.ok()) return ReplyPanelError(res, 500, nodes.status().message());
  const std::map<NodeId, NodeLiveState> live = ctx->cluster->All();
  const Translator& t = pr.t;
  Html h;
  h.Raw("<div class=\"bar-title\"><h1>").Text(t("nav.nodes")).Raw("</h1>");
  if (pr.admin())
    h.Raw("<a class=\"button primary\" href=\"/admin/nodes/new\">").Text(t("node.add")).Raw("</a>");
  h.Raw(
       "</div><div id=\"live-nodes\" data-live=\"3000\"><table class=\"list\" "
       "id=\"nodes\"><thead><tr><th>")
      .Text(t("node.name"))
      .Raw("</th><th>")
      .Text(t("node.host"))
      .Raw("</th><th>")
      .Text(t("node.state"))
      .Raw("</th><th>")
      .Text(t("node.gpus"))
      .Raw("</th><th>")
      .Text(t("node.probe"))
      .Raw("</th><th>")
      .Text(t("node.last_error"))
      .Raw("</th></tr></thead><tbody>");
  for (const NodeRow& node : *nodes) {
    auto it = live.find(node.id);
    const bool up = it != live.end() && it->second.available;
    h.Raw("<tr><td><a href=\"/admin/nodes/")
        .Num(node.id.value)
        .Raw("\">")
        .Text(node.name)
        .Raw("</a></td><td>")
        .Text(node.host)
        .Raw(":")
        .Num(node.port)
        .Raw("</td><td><span class=\"dot ")
        .Raw(!node.schedulable ? "off"
             : up              ? "ok"
                               : "down")
        .Raw("\"></span>")
        .Text(t(up ? "node.available" : "node.unavailable"));
    if (!node.schedulable)
      h.Raw(" <span class=\"tag\">").Text(t("node.not_schedulable")).Raw("</span>");
    h.Raw("</td><td class=\"num\">")
        .Num(it != live.end() ? static_cast<int64_t>(it->second.gpus.size()) : 0)
        .Raw("</td>")
        .Elem("td", node.probe)
        .Elem("td class=\"reason\"", it != live.end() ? it->second.last_error : "")
        .Raw("</tr>");
  }
  h.Raw("</tbody></table></div>");
  (void)now;
  ReplyPage(res, pr, req, t("nav.nodes"), "nodes", h.Take());
}

// One GPU's last hour as two polylines (utilisation, memory) in a 360x60 box.
void UsagePlot(Html& h, const std::vector<GpuPoint>& points, std::optional<int64_t> mem_total,
               UnixMs now) {
  constexpr double kW = 360, kH = 60, kSpanMs = 3'600'000;
  auto x_of = [&](UnixMs t) { return std::max(0.0, kW - (now - t) / kSpanMs * kW); };
  std::string util, mem;
  char buf[48];
  for (const GpuPoint& p : points) {
    if (now - p.t > kSpanMs) continue;
    if (p.util_pct >= 0) {
      std::snprintf(buf, sizeof(buf), "%.1f,%.1f ", x_of(p.t), kH - p.util_pct / 100.0 * kH);
      util += buf;
    }
    if (p.mem_used_mib >= 0 && mem_total && *mem_total > 0) {
      std::snprintf(
          buf, sizeof(buf), "%.1f,%.1f ", x_of(p.t),
          kH - static_cast<double>(p.mem_used_mib) / static_cast<double>(*mem_total) * kH);
      mem += buf;
    }
  }
  h.Raw(
       "<svg class=\"plot\" viewBox=\"0 0 360 60\" preserveAspectRatio=\"none\" role=\"img\">"
       "<rect class=\"plot-bg\" width=\"360\" height=\"60\"/>"
       "<polyline class=\"plot-mem\" points=\"")
      .Raw(mem)
      .Raw("\"/><polyline class=\"plot-util\" points=\"")
      .Raw(util)
      .Raw("\"/></svg>");
}

void ShowNode(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
              PanelRequest& pr, NodeForm* form) {
  Result<int64_t> id = PathId(req);
  if (!id.ok()) return ReplyPanelError(res, 400, id.status().message());
  Result<NodeRow> node = NodeStore(ctx->db, ctx->clock).Get(NodeId(*id));
  if (!node.ok())
    return ReplyPanelError(res, HttpStatusFor(node.status().code()), node.status().message());
  Result<std::vector<GpuHolder>> holders = ListGpuHolders(ctx->db);
  if (!holders.ok()) return ReplyPanelError(res, 500, holders.status().message());
  const UnixMs now = ctx->clock->NowUnixMs();
  const Translator& t = pr.t;
  NodeCardData d;
  d.node = &*node;
  d.live = ctx->cluster->Get(node->id);
  if (!d.live || d.live->last_sample_at == 0) {
    Result<std::vector<GpuRow>> inv = GpuInventoryStore(ctx->db, ctx->clock).List(node->id);
    if (inv.ok()) d.inventory = std::move(*inv);
  }
  const std::string self = "/admin/nodes/" + std::to_string(node->id.value);
  Html h;
  h.Raw("<div class=\"bar-title\"><h1>")
      .Text(node->name)
      .Raw("</h1></div><div id=\"live-node\" data-live=\"3000\">");
  NodeCard(h, d, *holders, pr, now);
  if (d.live && !d.live->gpus.empty()) {
    h.Raw("<section class=\"card\"><h2>")
        .Text(t("node.plots"))
        .Raw(
            "</h2><p class=\"muted legend\">"
            "<span class=\"key util\"></span>")
        .Text(t("gpu.util"))
        .Raw(" <span class=\"key mem\"></span>")
        .Text(t("gpu.mem"))
        .Raw("</p><div class=\"plots\">");
    for (const GpuStatus& gpu : d.live->gpus) {
      h.Raw("<figure><figcaption>GPU ").Num(gpu.index).Raw("</figcaption>");
      UsagePlot(h, ctx->cluster->Plot(node->id, gpu.index), gpu.mem_total_mib, now);
      h.Raw("</figure>");
    }
    h.Raw("</div></section>");
  }
  h.Raw("</div><section class=\"card\"><h2>")
      .Text(t("node.host_key"))
      .Raw("</h2><p><code id=\"host-key\">")
      .Text(node->host_key_sha256.value_or("—"))
      .Raw("</code></p>");
  if (node->pending_host_key_sha256) {
    h.Raw("<p class=\"flash error\">")
        .Text(t("node.key_changed"))
        .Raw(" <code id=\"pending-key\">")
        .Text(*node->pending_host_key_sha256)
        .Raw("</code></p>");
    if (pr.admin()) {
      h.Raw("<form method=\"post\" action=\"").Text(self).Raw("\">");
      CsrfField(h, pr);
      h.Hidden("action", "accept_key")
          .Hidden("fingerprint", *node->pending_host_key_sha256)
          .Raw("<button type=\"submit\" class=\"danger\">")
          .Text(t("node.accept_key"))
          .Raw("</button></form>");
    }
  }
  h.Raw("</section>");
  if (pr.admin()) {
    NodeForm f;
    if (form) {
      f = *form;
    } else {
      f.name = node->name;
      f.host = node->host;
      f.port = std::to_string(node->port);
      f.probe = node->probe;
      f.schedulable = node->schedulable;
    }
    h.Raw("<div class=\"two\"><div><h2>").Text(t("node.edit")).Raw("</h2>");
    NodeFormHtml(h, pr, f, self, "form.save");
    h.Raw("</div><div><h2>")
        .Text(t("node.actions"))
        .Raw("</h2><div class=\"card\"><form method=\"post\" action=\"")
        .Text(self)
        .Raw("\">");
    CsrfField(h, pr);
    h.Hidden("action", node->schedulable ? "disable" : "enable")
        .Raw("<button type=\"submit\">")
        .Text(t(node->schedulable ? "node.disable" : "node.enable"))
        .Raw("</button></form><form method=\"post\" action=\"")
        .Text(self)
        .Raw("\">");
    CsrfField(h, pr);
    h.Hidden("action", "delete")
        .Raw("<button type=\"submit\" class=\"danger\" data-confirm=\"")
        .Text(t("node.delete_confirm"))
        .Raw("\">")
        .Text(t("node.delete"))
        .Raw("</button></form></div></div></div>");
  }
  ReplyPage(res, pr, req, node->name, "nodes", h.Take(), form ? 400 : 200);
}

void NodeAction(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                PanelRequest& pr) {
  Result<int64_t> id = PathId(req);
  if (!id.ok()) return ReplyPanelError(res, 400, id.status().message());
  NodeStore nodes(ctx->db, ctx->clock);
  Result<NodeRow> node = nodes.Get(NodeId(*id));
  if (!node.ok())
    return ReplyPanelError(res, HttpStatusFor(node.status().code()), node.status().message());
  const std::string self = "/admin/nodes/" + std::to_string(*id);
  const std::string target = "node " + std::to_string(*id);
  AuditLog audit(ctx->db, ctx->clock);
  const std::string action = FormValue(req, "action");
  if (action == "save") {
    NodeForm f = FormFromRequest(req);
    NodeSpec spec;
    if (!Validate(f, &spec)) return ShowNode(ctx, req, res, pr, &f);
    NodeUpdate u{spec.name, spec.host, spec.port, spec.probe, spec.schedulable};
    if (Status s = nodes.Update(node->id, u); !s.ok()) {
      f.errors[s.field().empty() ? "" : s.field()] = s.message();
      return ShowNode(ctx, req, res, pr, &f);
    }
    audit.Record(pr.user.id, "node.update", target,
                 spec.name + " " + spec.host + ":" + std::to_string(spec.port));
    ctx->actions->NodeChanged(node->id);
    return RedirectTo(res, self, "msg.saved");
  }
  if (action == "enable" || action == "disable") {
    NodeUpdate u;
    u.schedulable = action == "enable";
    if (Status s = nodes.Update(node->id, u); !s.ok())
      return RedirectTo(res, self, {}, s.message());
    audit.Record(pr.user.id, "node.update", target,
                 "schedulable=" + std::string(action == "enable" ? "true" : "false"));
    ctx->actions->NodeChanged(node->id);
    return RedirectTo(res, self, "msg.saved");
  }
  if (action == "accept_key") {
    const std::string fp = FormValue(req, "fingerprint");
    if (!node->pending_host_key_sha256 || *node->pending_host_key_sha256 != fp) {
      return RedirectTo(res, self, {},
                        "The node's new key changed again; check it before accepting.");
    }
    if (Status s = nodes.AcceptPendingHostKey(node->id); !s.ok())
      return RedirectTo(res, self, {}, s.message());
    audit.Record(pr.user.id, "node.host_key.accept", target, fp);
    ctx->actions->NodeChanged(node->id);
    return RedirectTo(res, self, "msg.key_accepted");
  }
  if (action == "delete") {
    Result<int64_t> live = ctx->db->WithLock([&](Connection& conn) -> Result<int64_t> {
      Result<Statement> stmt = conn.Prepare(
          "SELECT COUNT(*) FROM runs WHERE node_id = ? AND status IN ('starting', 'running')");
      if (!stmt.ok()) return stmt.status();
      GPUQ_RETURN_IF_ERROR(stmt->BindInt64(1, node->id.value));
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      return stmt->ColumnInt64(0);
    });
    if (!live.ok()) return RedirectTo(res, self, {}, live.status().message());
    if (*live > 0) {
      return RedirectTo(res, self, {},
                        "node " + node->name + " has " + std::to_string(*live) +
                            " live run(s); cancel them or wait for them to end first");
    }
    if (Status s = nodes.Delete(node->id); !s.ok()) return RedirectTo(res, self, {}, s.message());
    audit.Record(pr.user.id, "node.delete", target, node->name);
    ctx->actions->NodeRemoved(node->id);
    return RedirectTo(res, "/admin/nodes", "msg.deleted");
  }
  ReplyPanelError(res, 400, "unknown action");
}

void NewNodePage(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                 PanelRequest& pr, NodeForm* form) {
  NodeForm f;
  if (form) {
    f = *form;
  } else {
    f.probe = SettingValue(ctx->db, ctx->clock, kSettingProbeDefault);
  }
  Html h;
  h.Raw("<h1>").Text(pr.t("node.add")).Raw("</h1>");
  NodeFormHtml(h, pr, f, "/admin/nodes/new", "node.add");
  ReplyPage(res, pr, req, pr.t("node.add"), "nodes", h.Take(), form ? 400 : 200);
}

void CreateNode(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                PanelRequest& pr) {
  NodeForm f = FormFromRequest(req);
  NodeSpec spec;
  if (!Validate(f, &spec)) return NewNodePage(ctx, req, res, pr, &f);
  Result<NodeId> id = NodeStore(ctx->db, ctx->clock).Create(spec);
  if (!id.ok()) {
    f.errors[id.status().field()] = id.status().message();
    return NewNodePage(ctx, req, res, pr, &f);
  }
  AuditLog(ctx->db, ctx->clock)
      .Record(pr.user.id, "node.create", "node " + std::to_string(id->value),
              spec.name + " " + spec.host + ":" + std::to_string(spec.port));
  ctx->actions->NodeChanged(*id);
  RedirectTo(res, "/admin/nodes/" + std::to_string(id->value), "msg.node_added");
}

}  // namespace

void RegisterPanelNodeRoutes(httplib::Server& server, WebContext* ctx) {
  server.Get("/admin/nodes", PanelPage(ctx, Role::kAnyUser, ListNodes));
  server.Get("/admin/nodes/new",
             PanelPage(ctx, Role::kAdmin, [ctx](const auto& req, auto& res, PanelRequest& pr) {
               NewNodePage(ctx, req, res, pr, nullptr);
             }));
  server.Post("/admin/nodes/new", PanelForm(ctx, Role::kAdmin, CreateNode));
  server.Get(R"(/admin/nodes/(\d+))",
             PanelPage(ctx, Role::kAnyUser, [ctx](const auto& req, auto& res, PanelRequest& pr) {
               ShowNode(ctx, req, res, pr, nullptr);
             }));
  server.Post(R"(/admin/nodes/(\d+))", PanelForm(ctx, Role::kAdmin, NodeAction));
}

}  // namespace gpuq
