// Page: /admin, the dashboard: every node with its GPUs, the queue's head with why each
// task waits, and the latest ends. A fixed number of bounded queries, whatever the queue's
// length (the benchmark renders it with 10 000 tasks and 16 nodes).
#include "master/store/gpu_holders.h"
#include "master/store/task_store.h"
#include "web/panel.h"
#include "web/panel_gpus.h"

namespace gpuq {
namespace {

constexpr int kQueueHeadRows = 15;
constexpr int kRecentEndRows = 10;

void Counts(Html& h, const std::map<TaskStatus, int64_t>& counts, const Translator& t) {
  h.Raw("<div class=\"counts\">");
  for (TaskStatus s : {TaskStatus::kQueued, TaskStatus::kHeld, TaskStatus::kStarting,
                       TaskStatus::kRunning, TaskStatus::kSucceeded, TaskStatus::kFailed,
                       TaskStatus::kCancelled, TaskStatus::kTimedOut, TaskStatus::kLost}) {
    auto it = counts.find(s);
    const std::string name = TaskStatusName(s);
    h.Raw("<a class=\"count\" href=\"/admin/tasks?status=")
        .Raw(name)
        .Raw("\"><b id=\"count-")
        .Raw(name)
        .Raw("\">")
        .Num(it == counts.end() ? 0 : it->second)
        .Raw("</b> ");
    StatusBadge(h, name, t);
    h.Raw("</a>");
  }
  h.Raw("</div>");
}

void QueueHead(Html& h, WebContext* ctx, const std::vector<TaskRow>& tasks, const PanelRequest& pr,
               UnixMs now) {
  const Translator& t = pr.t;
  h.Raw("<section class=\"card\"><h2>").Text(t("dash.queue")).Raw("</h2>");
  if (tasks.empty()) {
    h.Raw("<p class=\"muted\">").Text(t("dash.queue_empty")).Raw("</p></section>");
    return;
  }
  h.Raw("<table class=\"list\" id=\"queue-head\"><thead><tr><th>#</th><th>")
      .Text(t("task.name"))
      .Raw("</th><th>")
      .Text(t("task.user"))
      .Raw("</th><th>")
      .Text(t("task.gpus"))
      .Raw("</th><th>")
      .Text(t("task.priority"))
      .Raw("</th><th>")
      .Text(t("task.waited"))
      .Raw("</th><th>")
      .Text(t("task.reason"))
      .Raw("</th></tr></thead><tbody>");
  for (const TaskRow& task : tasks) {
    std::string reason = task.status == TaskStatus::kHeld ? std::string(t("task.held_reason"))
                                                          : ctx->actions->WaitingReason(task.id);
    h.Raw("<tr><td><a href=\"/admin/tasks/")
        .Num(task.id.value)
        .Raw("\">")
        .Num(task.id.value)
        .Raw("</a></td><td>")
        .Text(task.spec.name)
        .Raw(" ");
    if (task.status == TaskStatus::kHeld) StatusBadge(h, "held", t);
    h.Raw("</td>")
        .Elem("td", task.username)
        .Raw("<td class=\"num\">")
        .Num(task.spec.gpus)
        .Raw("</td><td class=\"num\">")
        .Num(task.spec.priority)
        .Raw("</td>")
        .Elem("td", ShowAge(task.created_at, now))
        .Elem("td class=\"reason\"", reason)
        .Raw("</tr>");
  }
  h.Raw("</tbody></table></section>");
}

void RecentEnds(Html& h, const std::vector<TaskRow>& tasks, const PanelRequest& pr, UnixMs now) {
  const Translator& t = pr.t;
  h.Raw("<section class=\"card\"><h2>").Text(t("dash.recent")).Raw("</h2>");
  if (tasks.empty()) {
    h.Raw("<p class=\"muted\">").Text(t("dash.recent_empty")).Raw("</p></section>");
    return;
  }
  h.Raw("<table class=\"list\" id=\"recent-ends\"><tbody>");
  for (const TaskRow& task : tasks) {
    h.Raw("<tr><td><a href=\"/admin/tasks/")
        .Num(task.id.value)
        .Raw("\">")
        .Num(task.id.value)
        .Raw("</a></td>")
        .Elem("td", task.spec.name)
        .Elem("td", task.username)
        .Raw("<td>");
    StatusBadge(h, TaskStatusName(task.status), t);
    h.Raw("</td>").Elem("td class=\"muted\"", ShowAge(task.ended_at.value_or(0), now)).Raw("</tr>");
  }
  h.Raw("</tbody></table></section>");
}

void Dashboard(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
               PanelRequest& pr) {
  const UnixMs now = ctx->clock->NowUnixMs();
  // A normal user sees every node but only their own tasks.
  const std::optional<UserId> only = pr.admin() ? std::nullopt : std::optional<UserId>(pr.user.id);
  TaskStore tasks(ctx->db, ctx->clock);
  Result<std::vector<NodeRow>> nodes = NodeStore(ctx->db, ctx->clock).List();
  Result<std::vector<GpuHolder>> holders = ListGpuHolders(ctx->db);
  Result<std::map<TaskStatus, int64_t>> counts = tasks.CountByStatus(only);
  Result<std::vector<TaskRow>> head = tasks.QueueHead(kQueueHeadRows, only);
  Result<std::vector<TaskRow>> ends = tasks.RecentEnds(kRecentEndRows, only);
  for (const Status& s :
       {nodes.status(), holders.status(), counts.status(), head.status(), ends.status()}) {
    if (!s.ok()) return ReplyPanelError(res, 500, s.message());
  }
  const std::map<NodeId, NodeLiveState> live = ctx->cluster->All();

  Html h;
  h.Raw("<div id=\"live-dashboard\" data-live=\"3000\">");
  Counts(h, *counts, pr.t);
  h.Raw("<div class=\"grid\">");
  if (nodes->empty()) {
    h.Raw("<p class=\"muted\">").Text(pr.t("dash.no_nodes"));
    if (pr.admin()) h.Raw(" <a href=\"/admin/nodes/new\">").Text(pr.t("node.add")).Raw("</a>");
    h.Raw("</p>");
  }
  for (const NodeRow& node : *nodes) {
    NodeCardData d;
    d.node = &node;
    if (auto it = live.find(node.id); it != live.end()) d.live = it->second;
    if (!d.live || d.live->last_sample_at == 0) {
      Result<std::vector<GpuRow>> inv = GpuInventoryStore(ctx->db, ctx->clock).List(node.id);
      if (inv.ok()) d.inventory = std::move(*inv);
    }
    NodeCard(h, d, *holders, pr, now);
  }
  h.Raw("</div><div class=\"two\">");
  QueueHead(h, ctx, *head, pr, now);
  RecentEnds(h, *ends, pr, now);
  h.Raw("</div></div>");
  ReplyPage(res, pr, req, pr.t("nav.dashboard"), "dashboard", h.Take());
}

}  // namespace

void RegisterPanelDashboardRoutes(httplib::Server& server, WebContext* ctx) {
  server.Get("/admin", PanelPage(ctx, Role::kAnyUser, Dashboard));
  server.Get("/admin/",
             [](const httplib::Request&, httplib::Response& res) { RedirectTo(res, "/admin"); });
}

}  // namespace gpuq
