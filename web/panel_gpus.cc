#include "web/panel_gpus.h"

#include <algorithm>

#include "common/units.h"

namespace gpuq {
namespace {

void Availability(Html& h, const NodeCardData& d, const Translator& t) {
  const bool up = d.live && d.live->available;
  const char* cls = !d.node->schedulable ? "off" : up ? "ok" : "down";
  h.Raw("<span class=\"dot ")
      .Raw(cls)
      .Raw("\"></span><span class=\"state\">")
      .Text(t(up ? "node.available" : "node.unavailable"))
      .Raw("</span>");
  if (!d.node->schedulable)
    h.Raw(" <span class=\"tag\">").Text(t("node.not_schedulable")).Raw("</span>");
}

void Holders(Html& h, const NodeCardData& d, const GpuStatus& gpu,
             const std::vector<GpuHolder>& holders, const PanelRequest& pr) {
  std::vector<std::string> gpuq_users;
  bool any = false;
  for (const GpuHolder& holder : holders) {
    if (holder.run.node_id != d.node->id) continue;
    if (std::find(holder.run.gpu_indices.begin(), holder.run.gpu_indices.end(), gpu.index) ==
        holder.run.gpu_indices.end()) {
      continue;
    }
    any = true;
    gpuq_users.push_back(holder.run.remote_user);
    h.Raw("<div class=\"holder gpuq\">gpuq ");
    if (pr.admin() || holder.user_id == pr.user.id) {
      h.Raw("<a href=\"/admin/tasks/")
          .Num(holder.run.task_id.value)
          .Raw("\">#")
          .Num(holder.run.task_id.value)
          .Raw(" ")
          .Text(holder.task_name)
          .Raw("</a>");
    }
    h.Raw(" <span class=\"muted\">").Text(holder.username).Raw("</span></div>");
  }
  for (const GpuProcess& p : gpu.processes) {
    if (std::find(gpuq_users.begin(), gpuq_users.end(), p.user) != gpuq_users.end()) continue;
    any = true;
    h.Raw("<div class=\"holder foreign\">")
        .Text(pr.t("gpu.foreign"))
        .Raw(" ")
        .Text(p.user.empty() ? "?" : p.user)
        .Raw(" <span class=\"muted\">pid ")
        .Num(p.pid);
    if (p.mem_mib) h.Raw(" · ").Text(FormatMib(*p.mem_mib));
    h.Raw("</span></div>");
  }
  if (!any) h.Raw("<span class=\"muted\">").Text(pr.t("gpu.free")).Raw("</span>");
}

}  // namespace

void NodeCard(Html& h, const NodeCardData& d, const std::vector<GpuHolder>& holders,
              const PanelRequest& pr, UnixMs now) {
  const Translator& t = pr.t;
  h.Raw("<section class=\"card node\" id=\"node-")
      .Num(d.node->id.value)
      .Raw("\"><header>")
      .Raw("<a class=\"node-name\" href=\"/admin/nodes/")
      .Num(d.node->id.value)
      .Raw("\">")
      .Text(d.node->name)
      .Raw("</a> ");
  Availability(h, d, t);
  h.Raw("<span class=\"muted right\">").Text(d.node->host).Raw(":").Num(d.node->port);
  if (d.live && d.live->last_sample_at > 0) {
    h.Raw(" · ").Text(t("node.sampled")).Raw(" ").Text(ShowAge(d.live->last_sample_at, now));
  }
  h.Raw("</span></header>");
  if (d.live && !d.live->last_error.empty()) {
    h.Raw("<p class=\"node-error\">")
        .Text(t("node.last_error"))
        .Raw(": ")
        .Text(d.live->last_error)
        .Raw("</p>");
  }
  if (d.node->pending_host_key_sha256) {
    h.Raw("<p class=\"node-error\">").Text(t("node.key_changed")).Raw("</p>");
  }
  std::vector<GpuStatus> gpus;
  if (d.live && d.live->last_sample_at > 0) {
    gpus = d.live->gpus;
  } else {
    for (const GpuRow& row : d.inventory) {
      GpuStatus g;
      g.index = row.index;
      g.model = row.model;
      g.mem_total_mib = row.mem_total_mib;
      gpus.push_back(std::move(g));
    }
  }
  if (gpus.empty()) {
    h.Raw("<p class=\"muted\">").Text(t("node.no_gpus")).Raw("</p></section>");
    return;
  }
  h.Raw("<table class=\"gpus\"><tbody>");
  for (const GpuStatus& gpu : gpus) {
    h.Raw("<tr><td class=\"idx\">").Num(gpu.index).Raw("</td><td class=\"model\">").Text(gpu.model);
    if (!gpu.error.empty()) h.Raw("<div class=\"node-error\">").Text(gpu.error).Raw("</div>");
    h.Raw("</td><td class=\"mem\">");
    if (gpu.mem_used_mib && gpu.mem_total_mib && *gpu.mem_total_mib > 0) {
      Bar(h, static_cast<double>(*gpu.mem_used_mib) / static_cast<double>(*gpu.mem_total_mib),
          FormatMib(*gpu.mem_used_mib) + " / " + FormatMib(*gpu.mem_total_mib));
    } else {
      Bar(h, -1, gpu.mem_total_mib ? "? / " + FormatMib(*gpu.mem_total_mib) : "?");
    }
    h.Raw("</td><td class=\"util\">");
    if (gpu.util_pct) {
      Bar(h, *gpu.util_pct / 100.0, std::to_string(*gpu.util_pct) + "%");
    } else {
      Bar(h, -1, "?");
    }
    h.Raw("</td><td class=\"holders\">");
    Holders(h, d, gpu, holders, pr);
    h.Raw("</td></tr>");
  }
  h.Raw("</tbody></table></section>");
}

}  // namespace gpuq
