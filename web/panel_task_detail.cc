// Pages: /admin/tasks/{id} (fields, actions, every run, the chosen run's log with live
// follow) and /admin/runs/{id}/log (the whole log as a download).
#include <sys/stat.h>

#include <charconv>
#include <fstream>

#include "common/units.h"
#include "master/store/run_store.h"
#include "web/panel.h"
#include "web/panel_tasks.h"

namespace gpuq {
namespace {

constexpr int64_t kLogViewBytes = 64 * 1024;  // the page shows at most the log's last 64 KiB

std::string LogPath(WebContext* ctx, RunId run) {
  return ctx->data_dir + "/logs/" + std::to_string(run.value) + ".log";
}

// The log's size and its last `max_bytes` (cut at a line start when it is cut).
std::pair<int64_t, std::string> LogTail(const std::string& path, int64_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {0, ""};
  const int64_t size = st.st_size;
  const int64_t from = std::max<int64_t>(0, size - max_bytes);
  std::ifstream in(path, std::ios::binary);
  std::string text(static_cast<size_t>(size - from), '\0');
  in.seekg(from);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  const int64_t end = from + static_cast<int64_t>(text.size());  // where live follow goes on
  if (from > 0) {
    size_t nl = text.find('\n');
    if (nl != std::string::npos) text.erase(0, nl + 1);
  }
  return {end, text};
}

void Field(Html& h, std::string_view label, std::string_view value, const char* cls = "") {
  h.Raw("<tr><th>")
      .Text(label)
      .Raw("</th><td class=\"")
      .Raw(cls)
      .Raw("\">")
      .Text(value)
      .Raw("</td></tr>");
}

void ActionButton(Html& h, const PanelRequest& pr, const std::string& self, const char* action,
                  const char* label_key, const char* cls = "") {
  h.Raw("<form method=\"post\" action=\"").Text(self).Raw("\" class=\"inline\">");
  CsrfField(h, pr);
  h.Hidden("action", action)
      .Raw("<button type=\"submit\" id=\"action-")
      .Raw(action)
      .Raw("\" class=\"")
      .Raw(cls)
      .Raw("\">")
      .Text(pr.t(label_key))
      .Raw("</button></form>");
}

void ShowTask(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
              PanelRequest& pr) {
  Result<int64_t> id = PathId(req);
  if (!id.ok()) return ReplyPanelError(res, 400, id.status().message());
  Result<TaskRow> task = VisibleTask(ctx, TaskId(*id), pr.user);
  if (!task.ok()) return ReplyPanelError(res, 404, task.status().message());
  Result<std::vector<RunRow>> runs = RunStore(ctx->db, ctx->clock).ListForTask(task->id);
  if (!runs.ok()) return ReplyPanelError(res, 500, runs.status().message());
  const Translator& t = pr.t;
  const TaskSpec& s = task->spec;
  const std::string self = "/admin/tasks/" + std::to_string(*id);

  Html h;
  // The title, actions, fields and runs refresh themselves; the log follows on its own.
  h.Raw("<div id=\"live-task\" data-live=\"2000\"><div class=\"bar-title\"><h1>#")
      .Num(*id)
      .Raw(" ")
      .Text(s.name)
      .Raw("</h1><div class=\"actions\">");
  if (IsPending(task->status)) {
    h.Raw("<a class=\"button\" href=\"")
        .Text(self)
        .Raw("/edit\">")
        .Text(t("task.edit"))
        .Raw("</a>");
    ActionButton(h, pr, self, task->status == TaskStatus::kHeld ? "release" : "hold",
                 task->status == TaskStatus::kHeld ? "task.bulk_release" : "task.bulk_hold");
  }
  if (!IsEnded(task->status)) ActionButton(h, pr, self, "cancel", "task.bulk_cancel", "danger");
  h.Raw("<a class=\"button\" id=\"clone\" href=\"/admin/tasks/new?from=")
      .Num(*id)
      .Raw("\">")
      .Text(t("task.clone"))
      .Raw("</a></div></div>");

  h.Raw("<div class=\"two\"><section class=\"card\"><table class=\"fields\">");
  h.Raw("<tr><th>").Text(t("task.status")).Raw("</th><td id=\"task-status\">");
  StatusBadge(h, TaskStatusName(task->status), t);
  h.Raw("</td></tr>");
  if (task->status == TaskStatus::kQueued)
    Field(h, t("task.reason"), ctx->actions->WaitingReason(task->id));
  Field(h, t("task.user"), task->username);
  Field(h, t("task.command"), s.command, "mono pre");
  Field(h, t("task.workdir"), s.workdir.empty() ? "~" : s.workdir, "mono");
  Field(h, t("task.gpus"), std::to_string(s.gpus));
  Field(h, t("task.mem"), s.mem_mib ? FormatMib(s.mem_mib) : "—");
  Field(h, t("task.util"), s.util_pct ? std::to_string(s.util_pct) + "%" : "—");
  std::string flags = std::string(s.exclusive ? "exclusive " : "") + (s.share ? "share" : "");
  Field(h, t("task.flags"), flags.empty() ? "—" : flags);
  Field(h, t("task.node"), s.node.empty() ? "—" : s.node);
  Field(h, t("task.gpu_model"), s.gpu_model.empty() ? "—" : s.gpu_model);
  std::string env;
  for (const auto& [k, v] : s.env) env += k + "=" + v + "\n";
  Field(h, t("task.env"), env.empty() ? "—" : env, "mono pre");
  Field(h, t("task.priority"), std::to_string(s.priority));
  Field(h, t("task.time_limit"), s.time_limit_s ? FormatDuration(*s.time_limit_s) : "—");
  Field(h, t("task.retries"),
        std::to_string(s.retries) + " (" + std::to_string(task->retries_left) + " left)");
  std::string after;
  for (TaskId a : s.after) after += (after.empty() ? "#" : ", #") + std::to_string(a.value);
  Field(h, t("task.after"), after.empty() ? "—" : after);
  Field(h, t("task.notify"), s.notify.value_or("off"));
  Field(h, t("task.created"), ShowTime(task->created_at));
  Field(h, t("task.ended"), ShowTime(task->ended_at.value_or(0)));
  h.Raw("</table></section><section class=\"card\"><h2>").Text(t("task.runs")).Raw("</h2>");
  if (runs->empty()) {
    h.Raw("<p class=\"muted\">").Text(t("task.no_runs")).Raw("</p>");
  } else {
    h.Raw("<table class=\"list\" id=\"runs\"><thead><tr><th>#</th><th>")
        .Text(t("task.node"))
        .Raw("</th><th>GPUs</th><th>pid</th><th>")
        .Text(t("run.start"))
        .Raw("</th><th>")
        .Text(t("run.end"))
        .Raw("</th><th>")
        .Text(t("run.exit"))
        .Raw("</th><th>")
        .Text(t("task.status"))
        .Raw("</th></tr></thead><tbody>");
    for (const RunRow& run : *runs) {
      std::string gpus;
      for (int g : run.gpu_indices) gpus += (gpus.empty() ? "" : ",") + std::to_string(g);
      h.Raw("<tr><td><a href=\"")
          .Text(self)
          .Raw("?run=")
          .Num(run.id.value)
          .Raw("#log\">")
          .Num(run.id.value)
          .Raw("</a></td>")
          .Elem("td", run.node_name)
          .Elem("td", gpus.empty() ? "—" : gpus)
          .Elem("td", run.pid ? std::to_string(*run.pid) : "—")
          .Elem("td", ShowTime(run.started_at.value_or(0)))
          .Elem("td", ShowTime(run.ended_at.value_or(0)))
          .Elem("td", run.exit_code ? std::to_string(*run.exit_code) : "—")
          .Raw("<td>");
      StatusBadge(h, TaskStatusName(run.status), t);
      if (run.end_reason) h.Raw(" <span class=\"muted\">").Text(*run.end_reason).Raw("</span>");
      h.Raw("</td></tr>");
    }
    h.Raw("</tbody></table>");
  }
  h.Raw("</section></div></div>");

  // The chosen run's log (the latest by default).
  const RunRow* shown = runs->empty() ? nullptr : &runs->back();
  if (req.has_param("run")) {
    std::string r = FormValue(req, "run");
    int64_t rid = 0;
    std::from_chars(r.data(), r.data() + r.size(), rid);
    for (const RunRow& run : *runs)
      if (run.id.value == rid) shown = &run;
  }
  if (shown) {
    auto [size, text] = LogTail(LogPath(ctx, shown->id), kLogViewBytes);
    h.Raw("<section class=\"card\" id=\"log\"><div class=\"bar-title\"><h2>")
        .Text(t("run.log"))
        .Raw(" · run ")
        .Num(shown->id.value)
        .Raw("</h2><span class=\"muted\" id=\"log-size\">")
        .Num(size)
        .Raw(" bytes</span><a class=\"button\" href=\"/admin/runs/")
        .Num(shown->id.value)
        .Raw("/log\" download>")
        .Text(t("run.download"))
        .Raw("</a></div>");
    if (size > static_cast<int64_t>(text.size())) {
      h.Raw("<p class=\"muted\">")
          .Text(t("run.log_cut"))
          .Raw(" (")
          .Num(static_cast<int64_t>(text.size()))
          .Raw(" / ")
          .Num(size)
          .Raw(" bytes)</p>");
    }
    h.Raw("<pre class=\"log\" id=\"log-text\" data-run=\"")
        .Num(shown->id.value)
        .Raw("\" data-offset=\"")
        .Num(size)
        .Raw("\" data-follow=\"")
        .Raw(IsLive(shown->status) ? "1" : "0")
        .Raw("\">")
        .Text(text)
        .Raw("</pre></section>");
  }
  ReplyPage(res, pr, req, "#" + std::to_string(*id) + " " + s.name, "tasks", h.Take());
}

void TaskAction(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                PanelRequest& pr) {
  Result<int64_t> id = PathId(req);
  if (!id.ok()) return ReplyPanelError(res, 400, id.status().message());
  const std::string self = "/admin/tasks/" + std::to_string(*id);
  Status s = ApplyTaskAction(ctx, pr.user, TaskId(*id), FormValue(req, "action"));
  if (s.code() == ErrorCode::kNotFound) return ReplyPanelError(res, 404, s.message());
  if (!s.ok()) return RedirectTo(res, self, {}, s.message());
  RedirectTo(res, self, "msg.saved");
}

void DownloadLog(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                 PanelRequest& pr) {
  Result<int64_t> id = PathId(req);
  if (!id.ok()) return ReplyPanelError(res, 400, id.status().message());
  Result<RunRow> run = RunStore(ctx->db, ctx->clock).Get(RunId(*id));
  if (!run.ok()) return ReplyPanelError(res, 404, "run " + std::to_string(*id) + " not found");
  if (!VisibleTask(ctx, run->task_id, pr.user).ok()) {
    return ReplyPanelError(res, 404, "run " + std::to_string(*id) + " not found");
  }
  const std::string path = LogPath(ctx, run->id);
  struct stat st {};
  const size_t size = ::stat(path.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
  res.set_header("Content-Disposition",
                 "attachment; filename=\"gpuq-run-" + std::to_string(*id) + ".log\"");
  // Streamed in chunks: a log of gigabytes never sits in memory.
  res.set_content_provider(size, "text/plain; charset=utf-8",
                           [path](size_t offset, size_t length, httplib::DataSink& sink) {
                             std::ifstream in(path, std::ios::binary);
                             in.seekg(static_cast<std::streamoff>(offset));
                             std::string buf(std::min<size_t>(length, 1 << 16), '\0');
                             in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
                             if (in.gcount() <= 0) return false;
                             sink.write(buf.data(), static_cast<size_t>(in.gcount()));
                             return true;
                           });
}

}  // namespace

void RegisterPanelTaskDetailRoutes(httplib::Server& server, WebContext* ctx) {
  server.Get(R"(/admin/tasks/(\d+))", PanelPage(ctx, Role::kAnyUser, ShowTask));
  server.Post(R"(/admin/tasks/(\d+))", PanelForm(ctx, Role::kAnyUser, TaskAction));
  server.Get(R"(/admin/runs/(\d+)/log)", PanelPage(ctx, Role::kAnyUser, DownloadLog));
}

}  // namespace gpuq
