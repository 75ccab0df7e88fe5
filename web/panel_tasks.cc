// Pages: /admin/tasks (list with filters, paging and bulk cancel/hold/release),
// /admin/tasks/new (the form; ?from=ID clones a task), /admin/tasks/{id}/edit (the form for
// a task not yet started). A normal user sees and changes only their own tasks.
#include "web/panel_tasks.h"

#include <charconv>
#include <map>

#include "master/store/audit_log.h"
#include "master/store/run_store.h"
#include "master/store/task_store.h"
#include "web/panel.h"
#include "web/panel_task_form.h"

namespace gpuq {
namespace {

constexpr int kPageRows = 50;

void ListTasks(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
               PanelRequest& pr) {
  const Translator& t = pr.t;
  const UnixMs now = ctx->clock->NowUnixMs();
  TaskFilter filter;
  const std::string status = FormValue(req, "status");
  if (status == "active") {
    filter.statuses = {TaskStatus::kHeld, TaskStatus::kQueued, TaskStatus::kStarting,
                       TaskStatus::kRunning};
  } else if (!status.empty()) {
    std::optional<TaskStatus> s = ParseTaskStatus(status);
    if (!s) return ReplyPanelError(res, 400, "status: unknown status \"" + status + "\"");
    filter.statuses = {*s};
  }
  const std::string user = FormValue(req, "user");
  if (!pr.admin()) {
    filter.user = pr.user.id;
  } else if (!user.empty()) {
    Result<UserRow> owner = UserStore(ctx->db, ctx->clock).FindByName(user);
    if (!owner.ok())
      return RedirectTo(res, "/admin/tasks", {}, "user: no user named \"" + user + "\"");
    filter.user = owner->id;
  }
  filter.run_node = FormValue(req, "node");
  if (req.has_param("before")) {
    std::string b = FormValue(req, "before");
    int64_t id = 0;
    auto [ptr, ec] = std::from_chars(b.data(), b.data() + b.size(), id);
    if (ec != std::errc() || ptr != b.data() + b.size() || id <= 0) {
      return ReplyPanelError(res, 400, "before: not a task id");
    }
    filter.before_id = TaskId(id);
  }
  filter.limit = kPageRows + 1;  // one more tells whether there is a next page
  Result<std::vector<TaskRow>> tasks = TaskStore(ctx->db, ctx->clock).List(filter);
  if (!tasks.ok()) return ReplyPanelError(res, 500, tasks.status().message());
  const bool more = static_cast<int>(tasks->size()) > kPageRows;
  if (more) tasks->pop_back();
  std::vector<TaskId> ids;
  for (const TaskRow& task : *tasks) ids.push_back(task.id);
  Result<std::vector<RunRow>> runs = RunStore(ctx->db, ctx->clock).ListForTasks(ids);
  if (!runs.ok()) return ReplyPanelError(res, 500, runs.status().message());
  std::map<TaskId, const RunRow*> last_run;
  for (const RunRow& run : *runs) last_run[run.task_id] = &run;  // by attempt: the last wins

  Html h;
  h.Raw("<div class=\"bar-title\"><h1>")
      .Text(t("nav.tasks"))
      .Raw(
          "</h1><a class=\"button primary\" "
          "href=\"/admin/tasks/new\">")
      .Text(t("task.add"))
      .Raw("</a></div>")
      .Raw(
          "<form method=\"get\" action=\"/admin/tasks\" class=\"filters\"><select name=\"status\">"
          "<option value=\"\">")
      .Text(t("filter.any_status"))
      .Raw("</option><option value=\"active\"")
      .Raw(status == "active" ? " selected" : "")
      .Raw(">")
      .Text(t("filter.active"))
      .Raw("</option>");
  for (const char* s : {"held", "queued", "starting", "running", "succeeded", "failed", "cancelled",
                        "timed_out", "lost"}) {
    h.Raw("<option value=\"")
        .Raw(s)
        .Raw("\"")
        .Raw(status == s ? " selected" : "")
        .Raw(">")
        .Text(t(std::string("status.") + s))
        .Raw("</option>");
  }
  h.Raw("</select>");
  if (pr.admin())
    h.Raw("<input name=\"user\" placeholder=\"")
        .Text(t("task.user"))
        .Raw("\" value=\"")
        .Text(user)
        .Raw("\">");
  h.Raw("<input name=\"node\" placeholder=\"")
      .Text(t("task.node"))
      .Raw("\" value=\"")
      .Text(filter.run_node)
      .Raw("\"><button type=\"submit\">")
      .Text(t("filter.apply"))
      .Raw("</button></form>");

  h.Raw("<form method=\"post\" action=\"/admin/tasks\" id=\"bulk\">");
  CsrfField(h, pr);
  h.Raw(
       "<div id=\"live-tasks\" data-live=\"3000\"><table class=\"list\" id=\"tasks\"><thead><tr>"
       "<th><input type=\"checkbox\" data-check-all=\"id\" aria-label=\"all\"></th><th>#</th><th>")
      .Text(t("task.name"))
      .Raw("</th><th>")
      .Text(t("task.user"))
      .Raw("</th><th>")
      .Text(t("task.status"))
      .Raw("</th><th>")
      .Text(t("task.gpus"))
      .Raw("</th><th>")
      .Text(t("task.node"))
      .Raw("</th><th>")
      .Text(t("task.age"))
      .Raw("</th><th>")
      .Text(t("task.reason"))
      .Raw("</th></tr></thead><tbody>");
  for (const TaskRow& task : *tasks) {
    const RunRow* run = last_run.count(task.id) ? last_run[task.id] : nullptr;
    std::string reason;
    if (task.status == TaskStatus::kQueued) reason = ctx->actions->WaitingReason(task.id);
    h.Raw("<tr data-task=\"")
        .Num(task.id.value)
        .Raw("\"><td><input type=\"checkbox\" name=\"id\" value=\"")
        .Num(task.id.value)
        .Raw("\" aria-label=\"select\"></td><td><a href=\"/admin/tasks/")
        .Num(task.id.value)
        .Raw("\">")
        .Num(task.id.value)
        .Raw("</a></td><td class=\"name\"><a href=\"/admin/tasks/")
        .Num(task.id.value)
        .Raw("\">")
        .Text(task.spec.name.empty() ? task.spec.command.substr(0, 60) : task.spec.name)
        .Raw("</a></td>")
        .Elem("td", task.username)
        .Raw("<td>");
    StatusBadge(h, TaskStatusName(task.status), t);
    h.Raw("</td><td class=\"num\">")
        .Num(task.spec.gpus)
        .Raw("</td>")
        .Elem("td", run ? run->node_name : task.spec.node)
        .Elem("td class=\"muted\"", ShowAge(task.created_at, now))
        .Elem("td class=\"reason\"", reason)
        .Raw("</tr>");
  }
  if (tasks->empty())
    h.Raw("<tr><td colspan=\"9\" class=\"muted\">").Text(t("task.none")).Raw("</td></tr>");
  h.Raw("</tbody></table></div><div class=\"bulk\">");
  for (const char* a : {"cancel", "hold", "release"}) {
    h.Raw("<button type=\"submit\" name=\"action\" value=\"")
        .Raw(a)
        .Raw("\"")
        .Raw(std::string_view(a) == "cancel" ? " class=\"danger\"" : "")
        .Raw(">")
        .Text(t(std::string("task.bulk_") + a))
        .Raw("</button>");
  }
  if (more) {
    std::string next = "/admin/tasks?before=" + std::to_string(tasks->back().id.value);
    if (!status.empty()) next += "&status=" + UrlEncode(status);
    if (!user.empty()) next += "&user=" + UrlEncode(user);
    if (!filter.run_node.empty()) next += "&node=" + UrlEncode(filter.run_node);
    h.Raw("<a class=\"right\" id=\"next-page\" href=\"")
        .Text(next)
        .Raw("\">")
        .Text(t("page.older"))
        .Raw(" →</a>");
  }
  h.Raw("</div></form>");
  ReplyPage(res, pr, req, t("nav.tasks"), "tasks", h.Take());
}

void BulkAction(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                PanelRequest& pr) {
  const std::string action = FormValue(req, "action");
  if (action != "cancel" && action != "hold" && action != "release") {
    return RedirectTo(res, "/admin/tasks", {}, "action: must be cancel, hold or release");
  }
  std::vector<std::string> errors;
  int done = 0;
  const size_t n = req.get_param_value_count("id");
  for (size_t i = 0; i < n; ++i) {
    std::string text = req.get_param_value("id", i);
    int64_t id = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || ptr != text.data() + text.size() || id <= 0) {
      errors.push_back("\"" + text + "\" is not a task id");
      continue;
    }
    Status s = ApplyTaskAction(ctx, pr.user, TaskId(id), action);
    if (s.ok()) {
      ++done;
    } else {
      errors.push_back(s.message());
    }
  }
  if (n == 0) return RedirectTo(res, "/admin/tasks", {}, "Select at least one task.");
  std::string err;
  for (size_t i = 0; i < errors.size() && i < 5; ++i) err += (i ? "; " : "") + errors[i];
  RedirectTo(res, "/admin/tasks", done > 0 ? "msg.bulk_done" : "", err);
}

void FormPage(const httplib::Request& req, httplib::Response& res, PanelRequest& pr,
              const TaskForm& form, const std::string& action, const std::string& title,
              const char* submit_key, int status) {
  Html h;
  h.Raw("<h1>")
      .Text(title)
      .Raw("</h1><form method=\"post\" action=\"")
      .Text(action)
      .Raw("\" class=\"card form wide\" id=\"task-form\">");
  CsrfField(h, pr);
  TaskFormFields(h, form, pr.t);
  h.Raw("<button type=\"submit\" class=\"primary\">")
      .Text(pr.t(submit_key))
      .Raw("</button></form>");
  ReplyPage(res, pr, req, title, "tasks", h.Take(), status);
}

void NewTaskPage(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                 PanelRequest& pr) {
  TaskForm form;
  std::string title(pr.t("task.add"));
  if (req.has_param("from")) {  // "run again": the form filled from an earlier task
    int64_t id = 0;
    std::string text = FormValue(req, "from");
    std::from_chars(text.data(), text.data() + text.size(), id);
    Result<TaskRow> task = VisibleTask(ctx, TaskId(id), pr.user);
    if (!task.ok()) return ReplyPanelError(res, 404, task.status().message());
    form = TaskFormFromSpec(task->spec);
    form.hold = false;
  }
  FormPage(req, res, pr, form, "/admin/tasks/new", title, "task.submit", 200);
}

void CreateTask(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                PanelRequest& pr) {
  TaskForm form = TaskFormFrom([&](const char* n) { return FormValue(req, n); },
                               [&](const char* n) { return FormChecked(req, n); });
  TaskSpec spec;
  if (!ReadTaskForm(&form, &spec)) {
    return FormPage(req, res, pr, form, "/admin/tasks/new", std::string(pr.t("task.add")),
                    "task.submit", 400);
  }
  TaskStore tasks(ctx->db, ctx->clock);
  Result<TaskId> id = tasks.Create(spec, pr.user.id);
  if (!id.ok()) {
    form.errors[FormFieldFor(id.status().field())] = id.status().message();
    return FormPage(req, res, pr, form, "/admin/tasks/new", std::string(pr.t("task.add")),
                    "task.submit", 400);
  }
  AuditLog(ctx->db, ctx->clock)
      .Record(pr.user.id, "task.create", "task " + std::to_string(id->value), spec.name);
  ctx->actions->TasksChanged();
  std::string warning = ctx->actions->NeverFitsWarning(
      ToTaskRequest(spec, *id, pr.user.username, ctx->clock->NowUnixMs()));
  RedirectTo(res, "/admin/tasks/" + std::to_string(id->value), "msg.task_added", warning);
}

void EditTaskPage(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                  PanelRequest& pr) {
  Result<int64_t> id = PathId(req);
  if (!id.ok()) return ReplyPanelError(res, 400, id.status().message());
  Result<TaskRow> task = VisibleTask(ctx, TaskId(*id), pr.user);
  if (!task.ok()) return ReplyPanelError(res, 404, task.status().message());
  if (!IsPending(task->status)) {
    return RedirectTo(res, "/admin/tasks/" + std::to_string(*id), {},
                      "task " + std::to_string(*id) + " has already started (" +
                          TaskStatusName(task->status) + "); clone it to run it again");
  }
  FormPage(req, res, pr, TaskFormFromSpec(task->spec), req.path,
           std::string(pr.t("task.edit")) + " #" + std::to_string(*id), "form.save", 200);
}

void SaveTask(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
              PanelRequest& pr) {
  Result<int64_t> id = PathId(req);
  if (!id.ok()) return ReplyPanelError(res, 400, id.status().message());
  Result<TaskRow> task = VisibleTask(ctx, TaskId(*id), pr.user);
  if (!task.ok()) return ReplyPanelError(res, 404, task.status().message());
  const std::string title = std::string(pr.t("task.edit")) + " #" + std::to_string(*id);
  TaskForm form = TaskFormFrom([&](const char* n) { return FormValue(req, n); },
                               [&](const char* n) { return FormChecked(req, n); });
  TaskSpec spec;
  if (!ReadTaskForm(&form, &spec))
    return FormPage(req, res, pr, form, req.path, title, "form.save", 400);
  TaskPatch patch;
  patch.name = spec.name;
  patch.command = spec.command;
  patch.workdir = spec.workdir;
  patch.gpus = spec.gpus;
  patch.mem_mib = spec.mem_mib;
  patch.util_pct = spec.util_pct;
  patch.exclusive = spec.exclusive;
  patch.share = spec.share;
  patch.node = spec.node;
  patch.gpu_model = spec.gpu_model;
  patch.env = spec.env;
  patch.priority = spec.priority;
  patch.time_limit_s = spec.time_limit_s;
  patch.retries = spec.retries;
  patch.after = spec.after;
  patch.notify = spec.notify.value_or(task->spec.notify.value_or("off"));
  patch.hold = spec.hold;
  if (Status s = TaskStore(ctx->db, ctx->clock).Update(task->id, patch); !s.ok()) {
    form.errors[FormFieldFor(s.field())] = s.message();
    return FormPage(req, res, pr, form, req.path, title, "form.save", 400);
  }
  AuditLog(ctx->db, ctx->clock)
      .Record(pr.user.id, "task.update", "task " + std::to_string(*id), "panel form");
  ctx->actions->TasksChanged();
  RedirectTo(res, "/admin/tasks/" + std::to_string(*id), "msg.saved");
}

}  // namespace

Result<TaskRow> VisibleTask(WebContext* ctx, TaskId id, const UserRow& user) {
  Result<TaskRow> task = TaskStore(ctx->db, ctx->clock).Get(id);
  if (!task.ok()) return task.status();
  if (user.role != UserRole::kAdmin && task->user_id != user.id) {
    return Status::NotFound("task " + std::to_string(id.value) + " not found");
  }
  return task;
}

Status ApplyTaskAction(WebContext* ctx, const UserRow& user, TaskId id, const std::string& action) {
  Result<TaskRow> task = VisibleTask(ctx, id, user);
  if (!task.ok()) return task.status();
  TaskStore tasks(ctx->db, ctx->clock);
  const std::string target = "task " + std::to_string(id.value);
  if (action == "cancel") {
    Result<CancelOutcome> outcome = tasks.Cancel(id);
    if (!outcome.ok()) return outcome.status();
    AuditLog(ctx->db, ctx->clock)
        .Record(user.id, "task.cancel", target, TaskStatusName(task->status));
    if (*outcome == CancelOutcome::kKillRequested) {
      ctx->actions->CancelRequested(id);
    } else {
      ctx->actions->TasksChanged();
    }
    return Status::Ok();
  }
  if (action == "hold" || action == "release") {
    GPUQ_RETURN_IF_ERROR(tasks.SetHeld(id, action == "hold"));
    AuditLog(ctx->db, ctx->clock).Record(user.id, "task." + action, target, "");
    ctx->actions->TasksChanged();
    return Status::Ok();
  }
  return Status::InvalidArgument("must be cancel, hold or release", "action");
}

void RegisterPanelTaskRoutes(httplib::Server& server, WebContext* ctx) {
  server.Get("/admin/tasks", PanelPage(ctx, Role::kAnyUser, ListTasks));
  server.Post("/admin/tasks", PanelForm(ctx, Role::kAnyUser, BulkAction));
  server.Get("/admin/tasks/new", PanelPage(ctx, Role::kAnyUser, NewTaskPage));
  server.Post("/admin/tasks/new", PanelForm(ctx, Role::kAnyUser, CreateTask));
  server.Get(R"(/admin/tasks/(\d+)/edit)", PanelPage(ctx, Role::kAnyUser, EditTaskPage));
  server.Post(R"(/admin/tasks/(\d+)/edit)", PanelForm(ctx, Role::kAnyUser, SaveTask));
}

}  // namespace gpuq
