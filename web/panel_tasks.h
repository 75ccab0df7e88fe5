#ifndef GPUQ_WEB_PANEL_TASKS_H_
#define GPUQ_WEB_PANEL_TASKS_H_

// What the task pages share: who may see a task, and the actions on one.

#include <string>

#include "master/store/task_store.h"
#include "master/store/user_store.h"
#include "web/web_context.h"

namespace gpuq {

// The task, if `user` may see it (an admin: any; a user: their own); NotFound otherwise,
// the same answer as for a task that does not exist.
Result<TaskRow> VisibleTask(WebContext* ctx, TaskId id, const UserRow& user);

// "cancel", "hold" or "release" one task the user may see, recorded in the audit trail, and
// the master told. Errors as TaskStore's (already ended, already started, not found).
Status ApplyTaskAction(WebContext* ctx, const UserRow& user, TaskId id, const std::string& action);

}  // namespace gpuq

#endif  // GPUQ_WEB_PANEL_TASKS_H_
