#include "web/panel_task_form.h"

#include <gtest/gtest.h>

#include <map>

namespace gpuq {
namespace {

TaskForm Form(std::map<std::string, std::string> values) {
  return TaskFormFrom([&](const char* n) { return values.count(n) ? values[n] : std::string(); },
                      [&](const char* n) { return values.count(n) > 0 && values[n] == "on"; });
}

TEST(TaskFormTest, ReadsEveryField) {
  TaskForm f = Form({{"name", "train"},
                     {"command", "python train.py --lr 0.1"},
                     {"workdir", "/data"},
                     {"gpus", "2"},
                     {"mem", "8G"},
                     {"util_pct", "50"},
                     {"node", "gpu1"},
                     {"gpu_model", "A100"},
                     {"env", "A=1\r\nB=x=y\n\n"},
                     {"priority", "5"},
                     {"time_limit", "1h30m"},
                     {"retries", "2"},
                     {"after", "3, 4 3"},
                     {"notify", "failure"},
                     {"exclusive", "on"},
                     {"hold", "on"}});
  TaskSpec s;
  ASSERT_TRUE(ReadTaskForm(&f, &s))
      << (f.errors.empty() ? "" : f.errors.begin()->first + ": " + f.errors.begin()->second);
  EXPECT_EQ(s.name, "train");
  EXPECT_EQ(s.command, "python train.py --lr 0.1");
  EXPECT_EQ(s.workdir, "/data");
  EXPECT_EQ(s.gpus, 2);
  EXPECT_EQ(s.mem_mib, 8192);
  EXPECT_EQ(s.util_pct, 50);
  EXPECT_EQ(s.node, "gpu1");
  EXPECT_EQ(s.gpu_model, "A100");
  EXPECT_EQ(s.env, (std::map<std::string, std::string>{{"A", "1"}, {"B", "x=y"}}));
  EXPECT_EQ(s.priority, 5);
  EXPECT_EQ(s.time_limit_s, 5400);
  EXPECT_EQ(s.retries, 2);
  EXPECT_EQ(s.after, (std::vector<TaskId>{TaskId(3), TaskId(4)}));
  EXPECT_EQ(s.notify, "failure");
  EXPECT_TRUE(s.exclusive);
  EXPECT_FALSE(s.share);
  EXPECT_TRUE(s.hold);
}

TEST(TaskFormTest, NamesEveryBadFieldAndKeepsWhatWasTyped) {
  TaskForm f = Form({{"command", "echo hi"},
                     {"gpus", "two"},
                     {"mem", "8Q"},
                     {"time_limit", "soon"},
                     {"after", "3, x"},
                     {"env", "NOEQUALS"},
                     {"priority", "high"},
                     {"retries", "1"}});
  TaskSpec s;
  s.name = "untouched";
  EXPECT_FALSE(ReadTaskForm(&f, &s));
  for (const char* field : {"gpus", "mem", "time_limit", "after", "env", "priority"}) {
    EXPECT_TRUE(f.errors.count(field)) << field;
  }
  EXPECT_FALSE(f.errors.count("retries"));
  EXPECT_EQ(f.gpus, "two");
  EXPECT_EQ(f.mem, "8Q");
  EXPECT_EQ(s.name, "untouched");  // the spec is not written on error
}

TEST(TaskFormTest, SpecRulesAreReportedOnTheFormField) {
  struct Case {
    std::map<std::string, std::string> values;
    const char* field;
  } cases[] = {
      {{{"command", "   "}}, "command"},
      {{{"command", "x"}, {"gpus", "65"}}, "gpus"},
      {{{"command", "x"}, {"share", "on"}}, "share"},  // share needs memory
      {{{"command", "x"}, {"util_pct", "101"}}, "util_pct"},
      {{{"command", "x"}, {"env", "CUDA_VISIBLE_DEVICES=1"}}, "env"},
      {{{"command", "x"}, {"node", "bad name"}}, "node"},
      {{{"command", "x"}, {"notify", "sometimes"}}, "notify"},
  };
  for (Case& c : cases) {
    if (!c.values.count("gpus")) c.values["gpus"] = "1";
    TaskForm f = Form(c.values);
    TaskSpec s;
    EXPECT_FALSE(ReadTaskForm(&f, &s)) << c.field;
    EXPECT_TRUE(f.errors.count(c.field))
        << c.field << " got " << (f.errors.empty() ? "" : f.errors.begin()->first);
  }
}

TEST(TaskFormTest, FormFromSpecReadsBackToTheSameSpec) {
  TaskSpec s;
  s.name = "n";
  s.command = "echo 'a b' \"$HOME\"";
  s.gpus = 2;
  s.mem_mib = 1536;
  s.env = {{"K", "v v"}};
  s.time_limit_s = 3600 * 26;
  s.after = {TaskId(9)};
  s.notify = "end";
  s.share = true;
  TaskForm f = TaskFormFromSpec(s);
  TaskSpec back;
  ASSERT_TRUE(ReadTaskForm(&f, &back));
  EXPECT_EQ(back, s);
}

TEST(TaskFormTest, FieldsAreRenderedEscaped) {
  TaskForm f;
  f.name = "\"><script>x</script>";
  f.command = "</textarea><script>y</script>";
  f.errors["name"] = "<b>bad</b>";
  Html h;
  TaskFormFields(h, f, Translator("en"));
  EXPECT_EQ(h.str().find("<script>"), std::string::npos);
  EXPECT_NE(h.str().find("&lt;/textarea&gt;&lt;script&gt;"), std::string::npos);
  EXPECT_NE(h.str().find("&lt;b&gt;bad&lt;/b&gt;"), std::string::npos);
}

}  // namespace
}  // namespace gpuq
