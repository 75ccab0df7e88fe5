#include "web/panel_task_form.h"

#include <algorithm>
#include <charconv>

#include "common/units.h"

namespace gpuq {
namespace {

std::string Trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// A whole number, or an error on `field`.
bool ReadInt(TaskForm* f, const char* field, const std::string& text, int64_t* out) {
  std::string s = Trimmed(text);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
    f->errors[field] = "must be a whole number";
    return false;
  }
  return true;
}

}  // namespace

std::string FormFieldFor(const std::string& json_field) {
  if (json_field == "mem_mib") return "mem";
  if (json_field == "time_limit_s") return "time_limit";
  return json_field;
}

TaskForm TaskFormFromSpec(const TaskSpec& s) {
  TaskForm f;
  f.name = s.name;
  f.command = s.command;
  f.workdir = s.workdir;
  f.gpus = std::to_string(s.gpus);
  f.mem = s.mem_mib > 0 ? FormatMib(s.mem_mib) : "";
  f.util_pct = s.util_pct > 0 ? std::to_string(s.util_pct) : "";
  f.node = s.node;
  f.gpu_model = s.gpu_model;
  for (const auto& [k, v] : s.env) f.env += k + "=" + v + "\n";
  f.priority = std::to_string(s.priority);
  f.time_limit = s.time_limit_s ? FormatDuration(*s.time_limit_s) : "";
  f.retries = std::to_string(s.retries);
  for (size_t i = 0; i < s.after.size(); ++i) {
    f.after += (i ? "," : "") + std::to_string(s.after[i].value);
  }
  f.notify = s.notify.value_or("");
  f.exclusive = s.exclusive;
  f.share = s.share;
  f.hold = s.hold;
  return f;
}

bool ReadTaskForm(TaskForm* f, TaskSpec* spec) {
  f->errors.clear();
  TaskSpec s;
  s.name = f->name;
  s.command = f->command;
  s.workdir = Trimmed(f->workdir);
  s.node = Trimmed(f->node);
  s.gpu_model = Trimmed(f->gpu_model);
  int64_t n = 0;
  if (ReadInt(f, "gpus", f->gpus, &n))
    s.gpus = static_cast<int>(std::clamp<int64_t>(n, -1, 1 << 20));
  if (!Trimmed(f->mem).empty()) {
    Result<int64_t> mem = ParseMemMib(Trimmed(f->mem));
    if (mem.ok()) {
      s.mem_mib = *mem;
    } else {
      f->errors["mem"] = mem.status().message();
    }
  }
  if (!Trimmed(f->util_pct).empty() && ReadInt(f, "util_pct", f->util_pct, &n)) {
    s.util_pct = static_cast<int>(std::clamp<int64_t>(n, -1, 1000));
  }
  if (ReadInt(f, "priority", f->priority.empty() ? "0" : f->priority, &n)) {
    s.priority = static_cast<int>(std::clamp<int64_t>(n, -1'000'000, 1'000'000));
  }
  if (ReadInt(f, "retries", f->retries.empty() ? "0" : f->retries, &n)) {
    s.retries = static_cast<int>(std::clamp<int64_t>(n, -1, 1'000'000));
  }
  if (!Trimmed(f->time_limit).empty()) {
    Result<int64_t> secs = ParseDurationSeconds(Trimmed(f->time_limit));
    if (secs.ok()) {
      s.time_limit_s = *secs;
    } else {
      f->errors["time_limit"] = secs.status().message();
    }
  }
  // "3, 5 7": ids separated by commas or spaces.
  std::string after = f->after;
  for (char& c : after)
    if (c == ',') c = ' ';
  size_t pos = 0;
  while (pos < after.size()) {
    size_t start = after.find_first_not_of(' ', pos);
    if (start == std::string::npos) break;
    size_t end = std::min(after.find(' ', start), after.size());
    int64_t id = 0;
    std::string word = after.substr(start, end - start);
    auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), id);
    if (ec != std::errc() || ptr != word.data() + word.size() || id <= 0) {
      f->errors["after"] = "\"" + word + "\" is not a task id";
      break;
    }
    if (std::find(s.after.begin(), s.after.end(), TaskId(id)) == s.after.end())
      s.after.push_back(TaskId(id));
    pos = end;
  }
  // One KEY=VALUE per line.
  std::string env = f->env;
  pos = 0;
  int line_no = 0;
  while (pos <= env.size() && f->errors.count("env") == 0) {
    size_t eol = std::min(env.find('\n', pos), env.size());
    std::string line = env.substr(pos, eol - pos);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!Trimmed(line).empty()) {
      size_t eq = line.find('=');
      if (eq == std::string::npos || eq == 0) {
        f->errors["env"] = "line " + std::to_string(line_no) + ": must be KEY=VALUE";
      } else {
        s.env[Trimmed(line.substr(0, eq))] = line.substr(eq + 1);
      }
    }
    pos = eol + 1;
  }
  if (!f->notify.empty()) s.notify = f->notify;
  s.exclusive = f->exclusive;
  s.share = f->share;
  s.hold = f->hold;
  // The spec's own rules, for fields that read well; the first one that fails is named.
  if (Status st = ValidateTaskSpec(s); !st.ok()) {
    std::string field = FormFieldFor(st.field());
    if (f->errors.count(field) == 0) f->errors[field] = st.message();
  }
  if (!f->errors.empty()) return false;
  *spec = std::move(s);
  return true;
}

namespace {

void Label(Html& h, const TaskForm& f, const Translator& t, const char* field, const char* label) {
  h.Raw("<label")
      .Raw(f.errors.count(field) ? " class=\"invalid\"" : "")
      .Raw(" for=\"f-")
      .Raw(field)
      .Raw("\">")
      .Text(t(label));
}

void Error(Html& h, const TaskForm& f, const char* field) { FieldError(h, f.errors, field); }

void Input(Html& h, const TaskForm& f, const Translator& t, const char* field, const char* label,
           const std::string& value, const char* extra = "") {
  Label(h, f, t, field, label);
  h.Raw("<input id=\"f-")
      .Raw(field)
      .Raw("\" name=\"")
      .Raw(field)
      .Raw("\" value=\"")
      .Text(value)
      .Raw("\" ")
      .Raw(extra)
      .Raw(">");
  Error(h, f, field);
  h.Raw("</label>");
}

void Check(Html& h, const TaskForm& f, const Translator& t, const char* field, const char* label,
           bool on) {
  h.Raw("<label class=\"check\"><input type=\"checkbox\" name=\"")
      .Raw(field)
      .Raw("\"")
      .Raw(on ? " checked" : "")
      .Raw("> ")
      .Text(t(label));
  Error(h, f, field);
  h.Raw("</label>");
}

}  // namespace

void TaskFormFields(Html& h, const TaskForm& f, const Translator& t) {
  if (auto it = f.errors.find(""); it != f.errors.end()) {
    h.Raw("<p class=\"flash error\">").Text(it->second).Raw("</p>");
  }
  Label(h, f, t, "command", "task.command");
  h.Raw("<textarea id=\"f-command\" name=\"command\" rows=\"3\" class=\"mono\" required>")
      .Text(f.command)
      .Raw("</textarea>");
  Error(h, f, "command");
  h.Raw("</label><div class=\"cols\">");
  Input(h, f, t, "name", "task.name", f.name);
  Input(h, f, t, "workdir", "task.workdir", f.workdir, "placeholder=\"~\"");
  h.Raw("</div><div class=\"cols four\">");
  Input(h, f, t, "gpus", "task.gpus", f.gpus, "inputmode=\"numeric\"");
  Input(h, f, t, "mem", "task.mem", f.mem, "placeholder=\"8G\"");
  Input(h, f, t, "util_pct", "task.util", f.util_pct, "inputmode=\"numeric\" placeholder=\"0\"");
  Input(h, f, t, "priority", "task.priority", f.priority, "inputmode=\"numeric\"");
  h.Raw("</div><div class=\"cols four\">");
  Input(h, f, t, "node", "task.node", f.node, "placeholder=\"any\"");
  Input(h, f, t, "gpu_model", "task.gpu_model", f.gpu_model, "placeholder=\"A100\"");
  Input(h, f, t, "time_limit", "task.time_limit", f.time_limit, "placeholder=\"2h\"");
  Input(h, f, t, "retries", "task.retries", f.retries, "inputmode=\"numeric\"");
  h.Raw("</div><div class=\"cols\">");
  Input(h, f, t, "after", "task.after", f.after, "placeholder=\"12, 13\"");
  Label(h, f, t, "notify", "task.notify");
  h.Raw("<select id=\"f-notify\" name=\"notify\">");
  for (const char* v : {"", "end", "failure", "off"}) {
    h.Raw("<option value=\"")
        .Raw(v)
        .Raw("\"")
        .Raw(f.notify == v ? " selected" : "")
        .Raw(">")
        .Text(t(std::string("notify.") + (*v ? v : "default")))
        .Raw("</option>");
  }
  h.Raw("</select>");
  Error(h, f, "notify");
  h.Raw("</label></div>");
  Label(h, f, t, "env", "task.env");
  h.Raw("<textarea id=\"f-env\" name=\"env\" rows=\"2\" class=\"mono\" placeholder=\"KEY=VALUE\">")
      .Text(f.env)
      .Raw("</textarea>");
  Error(h, f, "env");
  h.Raw("</label><div class=\"checks\">");
  Check(h, f, t, "exclusive", "task.exclusive", f.exclusive);
  Check(h, f, t, "share", "task.share", f.share);
  Check(h, f, t, "hold", "task.hold", f.hold);
  h.Raw("</div>");
}

}  // namespace gpuq
