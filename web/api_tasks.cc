// Routes: /api/v1/tasks, /api/v1/tasks/{id}, /api/v1/tasks/{id}/cancel,
// /api/v1/tasks/{id}/runs, /api/v1/tasks/import, /api/v1/runs/{id}/log.
//
// A normal user sees and changes only their own tasks (another user's task answers 404, as
// if it did not exist); an admin sees and changes all of them.
#include <sys/stat.h>

#include <charconv>
#include <cstdint>
#include <fstream>
#include <map>
#include <span>

#include "common/csv_queue.h"
#include "common/json_fields.h"
#include "common/task_spec.h"
#include "master/store/audit_log.h"
#include "master/store/run_store.h"
#include "master/store/task_store.h"
#include "web/api_routes.h"
#include "web/http_util.h"
#include "web/task_json.h"

namespace gpuq {
namespace {

constexpr int64_t kMaxLogChunk = 1 << 20;  // bytes of log per answer

bool IsAdmin(const UserRow& user) { return user.role == UserRole::kAdmin; }

std::string Target(TaskId id) { return "task " + std::to_string(id.value); }

// The task, if `user` may see it; NotFound otherwise (the same answer as a missing task).
Result<TaskRow> VisibleTask(WebContext* ctx, TaskId id, const UserRow& user) {
  Result<TaskRow> task = TaskStore(ctx->db, ctx->clock).Get(id);
  if (!task.ok()) return task.status();
  if (!IsAdmin(user) && task->user_id != user.id) {
    return Status::NotFound("task " + std::to_string(id.value) + " not found");
  }
  return task;
}

// Task JSON with the given runs and, while the task waits, why.
nlohmann::json TaskJsonWithReason(WebContext* ctx, const TaskRow& task,
                                  std::span<const RunRow> runs) {
  nlohmann::json out = TaskJson(task, runs);
  if (task.status == TaskStatus::kQueued) {
    out["waiting_reason"] = ctx->actions->WaitingReason(task.id);
  } else if (task.status == TaskStatus::kHeld) {
    out["waiting_reason"] = "held: release it to let it run";
  }
  return out;
}

// Task JSON with its runs and, while it waits, why.
Result<nlohmann::json> FullTaskJson(WebContext* ctx, const TaskRow& task) {
  Result<std::vector<RunRow>> runs = RunStore(ctx->db, ctx->clock).ListForTask(task.id);
  if (!runs.ok()) return runs.status();
  return TaskJsonWithReason(ctx, task, *runs);
}

void ReplyTask(WebContext* ctx, httplib::Response& res, int status, TaskId id) {
  Result<TaskRow> task = TaskStore(ctx->db, ctx->clock).Get(id);
  if (!task.ok()) return ReplyError(res, task.status());
  Result<nlohmann::json> json = FullTaskJson(ctx, *task);
  if (!json.ok()) return ReplyError(res, json.status());
  ReplyJson(res, status, *json);
}

void AddWarning(WebContext* ctx, const TaskRow& task, nlohmann::json* json) {
  std::string warning = ctx->actions->NeverFitsWarning(
      ToTaskRequest(task.spec, task.id, task.username, task.created_at));
  if (!warning.empty()) (*json)["warning"] = warning;
}

void SubmitTask(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                const UserRow& user) {
  Result<nlohmann::json> body = JsonFields::ParseObject(req.body);
  if (!body.ok()) return ReplyError(res, body.status());
  Result<TaskSpec> spec = ParseTaskSpec(*body);
  if (!spec.ok()) return ReplyError(res, spec.status());
  TaskStore tasks(ctx->db, ctx->clock);
  Result<TaskId> id = tasks.Create(*spec, user.id);
  if (!id.ok()) return ReplyError(res, id.status());
  AuditLog(ctx->db, ctx->clock).Record(user.id, "task.create", Target(*id), spec->name);
  ctx->actions->TasksChanged();
  Result<TaskRow> task = tasks.Get(*id);
  if (!task.ok()) return ReplyError(res, task.status());
  nlohmann::json out = TaskJson(*task, {});
  AddWarning(ctx, *task, &out);
  ReplyJson(res, 201, out);
}

// Reads ?status=a,b&user=NAME&limit=N&before_id=ID into a filter.
Status ReadFilter(WebContext* ctx, const httplib::Request& req, const UserRow& user,
                  TaskFilter* filter) {
  if (req.has_param("status")) {
    std::string list = req.get_param_value("status");
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = std::min(list.find(',', start), list.size());
      std::string name = list.substr(start, comma - start);
      if (!name.empty()) {
        std::optional<TaskStatus> status = ParseTaskStatus(name);
        if (!status) {
          return Status::InvalidArgument(
              "unknown status \"" + name +
                  "\" (held, queued, starting, running, succeeded, failed, cancelled, "
                  "timed_out, lost)",
              "status");
        }
        filter->statuses.push_back(*status);
      }
      start = comma + 1;
    }
  }
  auto read_int = [&](const char* name, int64_t min,
                      int64_t max) -> Result<std::optional<int64_t>> {
    if (!req.has_param(name)) return std::optional<int64_t>();
    std::string s = req.get_param_value(name);
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || v < min || v > max) {
      return Status::InvalidArgument(
          "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max),
          name);
    }
    return std::optional<int64_t>(v);
  };
  Result<std::optional<int64_t>> limit = read_int("limit", 1, TaskStore::kMaxListLimit);
  if (!limit.ok()) return limit.status();
  if (*limit) filter->limit = static_cast<int>(**limit);
  Result<std::optional<int64_t>> before = read_int("before_id", 1, INT64_MAX);
  if (!before.ok()) return before.status();
  if (*before) filter->before_id = TaskId(**before);

  std::string name = req.has_param("user") ? req.get_param_value("user") : "";
  if (!IsAdmin(user)) {
    if (!name.empty() && name != user.username) {
      return Status::PermissionDenied("only an admin may list other users' tasks");
    }
    filter->user = user.id;
  } else if (!name.empty()) {
    Result<UserRow> owner = UserStore(ctx->db, ctx->clock).FindByName(name);
    if (!owner.ok()) {
      if (owner.status().code() != ErrorCode::kNotFound) return owner.status();
      return Status::InvalidArgument("no user named \"" + name + "\"", "user");
    }
    filter->user = owner->id;
  }
  return Status::Ok();
}

void ListTasks(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
               const UserRow& user) {
  TaskFilter filter;
  if (Status s = ReadFilter(ctx, req, user, &filter); !s.ok()) return ReplyError(res, s);
  Result<std::vector<TaskRow>> tasks = TaskStore(ctx->db, ctx->clock).List(filter);
  if (!tasks.ok()) return ReplyError(res, tasks.status());
  std::vector<TaskId> ids;
  for (const TaskRow& t : *tasks) ids.push_back(t.id);
  Result<std::vector<RunRow>> runs = RunStore(ctx->db, ctx->clock).ListForTasks(ids);
  if (!runs.ok()) return ReplyError(res, runs.status());
  std::map<TaskId, std::vector<RunRow>> runs_of;
  for (RunRow& run : *runs) runs_of[run.task_id].push_back(std::move(run));
  // Written task by task rather than as one document: a list of 10 000 tasks would
  // otherwise hold every task's JSON tree at once (tens of MB) only to print it.
  std::string body = "[";
  body.reserve(tasks->size() * 768);  // a task's JSON is 500-700 bytes: no regrowing copies
  for (const TaskRow& task : *tasks) {
    if (body.size() > 1) body += ',';
    body += TaskJsonWithReason(ctx, task, runs_of[task.id])
                .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  body += ']';
  res.status = 200;
  res.set_content(std::move(body), "application/json");
}

void PatchTask(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
               const UserRow& user) {
  Result<int64_t> id = PathId(req);
  if (!id.ok()) return ReplyError(res, id.status());
  Result<TaskRow> task = VisibleTask(ctx, TaskId(*id), user);
  if (!task.ok()) return ReplyError(res, task.status());
  Result<nlohmann::json> body = JsonFields::ParseObject(req.body);
  if (!body.ok()) return ReplyError(res, body.status());
  Result<TaskPatch> patch = ParseTaskPatch(*body);
  if (!patch.ok()) return ReplyError(res, patch.status());
  TaskStore tasks(ctx->db, ctx->clock);
  // Only "hold": hold or release (whose refusal says so); anything else is an edit.
  Status s = !patch->ChangesSpec() && patch->hold ? tasks.SetHeld(task->id, *patch->hold)
                                                  : tasks.Update(task->id, *patch);
  if (!s.ok()) return ReplyError(res, s);
  AuditLog(ctx->db, ctx->clock).Record(user.id, "task.update", Target(task->id), body->dump());
  ctx->actions->TasksChanged();
  ReplyTask(ctx, res, 200, task->id);
}

void CancelTask(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                const UserRow& user) {
  Result<int64_t> id = PathId(req);
  if (!id.ok()) return ReplyError(res, id.status());
  Result<TaskRow> task = VisibleTask(ctx, TaskId(*id), user);
  if (!task.ok()) return ReplyError(res, task.status());
  Result<CancelOutcome> outcome = TaskStore(ctx->db, ctx->clock).Cancel(task->id);
  if (!outcome.ok()) return ReplyError(res, outcome.status());
  AuditLog(ctx->db, ctx->clock)
      .Record(user.id, "task.cancel", Target(task->id), TaskStatusName(task->status));
  if (*outcome == CancelOutcome::kKillRequested) {
    ctx->actions->CancelRequested(task->id);
  } else {
    ctx->actions->TasksChanged();  // dependents of a cancelled task may change state
  }
  ReplyTask(ctx, res, 200, task->id);
}

void ImportTasks(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
                 const UserRow& user) {
  auto reply_line_error = [&](const Status& s, int line) {
    nlohmann::json body = {{"error", s.message()}};
    if (!s.field().empty()) body["field"] = s.field();
    if (line > 0) body["line"] = line;
    ReplyJson(res, HttpStatusFor(s.code()), body);
  };
  int error_line = 0;
  Result<std::vector<CsvQueueTask>> rows = ParseCsvQueue(req.body, &error_line);
  if (!rows.ok()) return reply_line_error(rows.status(), error_line);
  if (rows->empty()) {
    return ReplyError(res, Status::InvalidArgument(
                               "the file holds no tasks (a header line, then one line per task)"));
  }
  std::vector<TaskSpec> specs;
  specs.reserve(rows->size());
  for (const CsvQueueTask& row : *rows) specs.push_back(row.spec);
  size_t failed = 0;
  TaskStore tasks(ctx->db, ctx->clock);
  Result<std::vector<TaskId>> ids = tasks.CreateMany(specs, user.id, &failed);
  if (!ids.ok()) {
    if (failed >= rows->size()) return ReplyError(res, ids.status());
    const int line = (*rows)[failed].line;
    return reply_line_error(ids.status().WithPrefix("line " + std::to_string(line)), line);
  }
  AuditLog(ctx->db, ctx->clock)
      .Record(
          user.id, "task.import",
          "tasks " + std::to_string(ids->front().value) + "-" + std::to_string(ids->back().value),
          std::to_string(ids->size()) + " tasks from CSV");
  ctx->actions->TasksChanged();
  TaskFilter filter;  // the new tasks are the newest of this user: read them in one query
  filter.user = user.id;
  filter.before_id = TaskId(ids->back().value + 1);
  filter.limit = static_cast<int>(ids->size());
  Result<std::vector<TaskRow>> created = tasks.List(filter);
  if (!created.ok()) return ReplyError(res, created.status());
  nlohmann::json out = nlohmann::json::array();
  for (auto it = created->rbegin(); it != created->rend(); ++it) {
    if (it->id < ids->front()) continue;
    nlohmann::json j = TaskJson(*it, {});
    AddWarning(ctx, *it, &j);
    out.push_back(std::move(j));
  }
  ReplyJson(res, 201, out);
}

// GET /api/v1/runs/{id}/log?offset=N: bytes N.. of DATA/logs/<id>.log, at most kMaxLogChunk.
void RunLog(WebContext* ctx, const httplib::Request& req, httplib::Response& res,
            const UserRow& user) {
  Result<int64_t> id = PathId(req);
  if (!id.ok()) return ReplyError(res, id.status());
  Result<RunRow> run = RunStore(ctx->db, ctx->clock).Get(RunId(*id));
  if (!run.ok()) return ReplyError(res, run.status());
  Result<TaskRow> task = VisibleTask(ctx, run->task_id, user);
  if (!task.ok()) {
    if (task.status().code() == ErrorCode::kNotFound) {
      return ReplyError(res, Status::NotFound("run " + std::to_string(*id) + " not found"));
    }
    return ReplyError(res, task.status());
  }
  int64_t offset = 0;
  if (req.has_param("offset")) {
    std::string s = req.get_param_value("offset");
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), offset);
    if (ec != std::errc() || ptr != s.data() + s.size() || offset < 0) {
      return ReplyError(res,
                        Status::InvalidArgument("must be a byte offset (0 or more)", "offset"));
    }
  }
  std::string body;
  int64_t size = 0;
  if (!ctx->data_dir.empty()) {
    const std::string path = ctx->data_dir + "/logs/" + std::to_string(*id) + ".log";
    std::ifstream in(path, std::ios::binary);
    struct stat st {};
    if (in && ::stat(path.c_str(), &st) == 0) {
      size = st.st_size;
      if (offset < size) {
        body.resize(static_cast<size_t>(std::min(size - offset, kMaxLogChunk)));
        in.seekg(offset);
        in.read(body.data(), static_cast<std::streamsize>(body.size()));
        body.resize(static_cast<size_t>(in.gcount()));
      }
    }
  }
  res.status = 200;
  res.set_header("X-Log-Size", std::to_string(size));
  res.set_header("X-Run-Status", TaskStatusName(run->status));
  res.set_content(body, "text/plain; charset=utf-8");
}

}  // namespace

void RegisterTaskRoutes(httplib::Server& server, WebContext* ctx) {
  using Req = httplib::Request;
  using Res = httplib::Response;
  server.Post("/api/v1/tasks",
              Authed(ctx, Role::kAnyUser, [ctx](const Req& req, Res& res, const UserRow& user) {
                SubmitTask(ctx, req, res, user);
              }));
  server.Get("/api/v1/tasks",
             Authed(ctx, Role::kAnyUser, [ctx](const Req& req, Res& res, const UserRow& user) {
               ListTasks(ctx, req, res, user);
             }));
  server.Post("/api/v1/tasks/import",
              Authed(ctx, Role::kAnyUser, [ctx](const Req& req, Res& res, const UserRow& user) {
                ImportTasks(ctx, req, res, user);
              }));
  server.Get(R"(/api/v1/tasks/(\d+))",
             Authed(ctx, Role::kAnyUser, [ctx](const Req& req, Res& res, const UserRow& user) {
               Result<int64_t> id = PathId(req);
               if (!id.ok()) return ReplyError(res, id.status());
               Result<TaskRow> task = VisibleTask(ctx, TaskId(*id), user);
               if (!task.ok()) return ReplyError(res, task.status());
               Result<nlohmann::json> json = FullTaskJson(ctx, *task);
               if (!json.ok()) return ReplyError(res, json.status());
               ReplyJson(res, 200, *json);
             }));
  server.Patch(R"(/api/v1/tasks/(\d+))",
               Authed(ctx, Role::kAnyUser, [ctx](const Req& req, Res& res, const UserRow& user) {
                 PatchTask(ctx, req, res, user);
               }));
  server.Post(R"(/api/v1/tasks/(\d+)/cancel)",
              Authed(ctx, Role::kAnyUser, [ctx](const Req& req, Res& res, const UserRow& user) {
                CancelTask(ctx, req, res, user);
              }));
  server.Get(R"(/api/v1/tasks/(\d+)/runs)",
             Authed(ctx, Role::kAnyUser, [ctx](const Req& req, Res& res, const UserRow& user) {
               Result<int64_t> id = PathId(req);
               if (!id.ok()) return ReplyError(res, id.status());
               Result<TaskRow> task = VisibleTask(ctx, TaskId(*id), user);
               if (!task.ok()) return ReplyError(res, task.status());
               Result<std::vector<RunRow>> runs =
                   RunStore(ctx->db, ctx->clock).ListForTask(task->id);
               if (!runs.ok()) return ReplyError(res, runs.status());
               nlohmann::json out = nlohmann::json::array();
               for (const RunRow& run : *runs) out.push_back(RunJson(run));
               ReplyJson(res, 200, out);
             }));
  server.Get(R"(/api/v1/runs/(\d+)/log)",
             Authed(ctx, Role::kAnyUser, [ctx](const Req& req, Res& res, const UserRow& user) {
               RunLog(ctx, req, res, user);
             }));
}

}  // namespace gpuq
