#ifndef GPUQ_WEB_PANEL_TASK_FORM_H_
#define GPUQ_WEB_PANEL_TASK_FORM_H_

// The task form: every field INTERFACE.md lists, as the browser sends it (text), read into a
// TaskSpec with an error per field, so the form can be shown again with what was typed.
// Pure; never throws.

#include <map>
#include <string>

#include "common/task_spec.h"
#include "web/html.h"
#include "web/i18n.h"

namespace gpuq {

// What the form holds, as typed.
struct TaskForm {
  std::string name, command, workdir, gpus = "1", mem, util_pct, node, gpu_model, env,
                                      priority = "0", time_limit, retries = "0", after, notify;
  bool exclusive = false, share = false, hold = false;
  std::map<std::string, std::string> errors;  // form field name -> message; "" = the form
};

// The form's field values from a request's parameters (a name -> value lookup).
template <typename Get, typename Checked>
TaskForm TaskFormFrom(Get get, Checked checked) {
  TaskForm f;
  f.name = get("name");
  f.command = get("command");
  f.workdir = get("workdir");
  f.gpus = get("gpus");
  f.mem = get("mem");
  f.util_pct = get("util_pct");
  f.node = get("node");
  f.gpu_model = get("gpu_model");
  f.env = get("env");
  f.priority = get("priority");
  f.time_limit = get("time_limit");
  f.retries = get("retries");
  f.after = get("after");
  f.notify = get("notify");
  f.exclusive = checked("exclusive");
  f.share = checked("share");
  f.hold = checked("hold");
  return f;
}

// The form showing an existing spec (edit, clone).
TaskForm TaskFormFromSpec(const TaskSpec& spec);

// Reads the form into *spec. Returns false and fills form->errors (every field that is
// wrong, by form field name) when anything is; the spec then must not be used.
bool ReadTaskForm(TaskForm* form, TaskSpec* spec);

// The form field that a TaskSpec JSON field is typed into ("mem_mib" -> "mem").
std::string FormFieldFor(const std::string& json_field);

// Writes the form's fields (not the <form> element: the caller adds action, CSRF, submit).
void TaskFormFields(Html& h, const TaskForm& form, const Translator& t);

}  // namespace gpuq

#endif  // GPUQ_WEB_PANEL_TASK_FORM_H_
