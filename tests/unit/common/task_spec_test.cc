#include "common/task_spec.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

using nlohmann::json;

TEST(ParseTaskSpecTest, EveryFieldIsRead) {
  json body = {{"name", "train"},
               {"command", "python train.py"},
               {"workdir", "/data/my runs"},
               {"gpus", 2},
               {"mem_mib", 8192},
               {"util_pct", 50},
               {"share", true},
               {"node", "node1"},
               {"gpu_model", "A100"},
               {"env", {{"A", "1"}, {"B_2", "x y"}}},
               {"priority", -5},
               {"time_limit_s", 3600},
               {"retries", 3},
               {"after", json::array({4, 2, 4})},
               {"notify", "failure"},
               {"hold", true}};
  Result<TaskSpec> spec = ParseTaskSpec(body);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->name, "train");
  EXPECT_EQ(spec->command, "python train.py");
  EXPECT_EQ(spec->workdir, "/data/my runs");
  EXPECT_EQ(spec->gpus, 2);
  EXPECT_EQ(spec->mem_mib, 8192);
  EXPECT_EQ(spec->util_pct, 50);
  EXPECT_FALSE(spec->exclusive);
  EXPECT_TRUE(spec->share);
  EXPECT_EQ(spec->node, "node1");
  EXPECT_EQ(spec->gpu_model, "A100");
  EXPECT_EQ(spec->env, (std::map<std::string, std::string>{{"A", "1"}, {"B_2", "x y"}}));
  EXPECT_EQ(spec->priority, -5);
  EXPECT_EQ(spec->time_limit_s, 3600);
  EXPECT_EQ(spec->retries, 3);
  EXPECT_EQ(spec->after, (std::vector<TaskId>{TaskId(4), TaskId(2)}));  // duplicate dropped
  EXPECT_EQ(spec->notify, "failure");
  EXPECT_TRUE(spec->hold);
}

TEST(ParseTaskSpecTest, DefaultsForAbsentAndNullFields) {
  Result<TaskSpec> spec =
      ParseTaskSpec(json{{"command", "x"}, {"workdir", nullptr}, {"time_limit_s", nullptr}});
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  TaskSpec expected;
  expected.command = "x";
  EXPECT_EQ(*spec, expected);
  EXPECT_EQ(spec->gpus, 1);
  EXPECT_EQ(spec->notify, std::nullopt);  // the owner's default
}

TEST(ParseTaskSpecTest, CommandIsKeptByteForByte) {
  const std::string command =
      "#!/bin/bash\nset -e\necho \"it's $HOME\" `date` 'a\\b' \\\n  --flag=\"x y\"\r\n\tdone  \n";
  Result<TaskSpec> spec = ParseTaskSpec(json{{"command", command}});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->command, command);
}

TEST(ParseTaskSpecTest, NotifyTakesBooleans) {
  EXPECT_EQ(ParseTaskSpec(json{{"command", "x"}, {"notify", true}})->notify, "end");
  EXPECT_EQ(ParseTaskSpec(json{{"command", "x"}, {"notify", false}})->notify, "off");
  EXPECT_EQ(ParseTaskSpec(json{{"command", "x"}, {"notify", "off"}})->notify, "off");
}

// Each bad input names its field; the table is the contract of POST /api/v1/tasks.
TEST(ParseTaskSpecTest, BadFieldsAreNamed) {
  const std::string big(64 * 1024 + 1, 'x');
  const struct {
    json body;
    const char* field;
    const char* message;  // "" = not pinned
  } kCases[] = {
      {json::object(), "command", "is required"},
      {{{"command", ""}}, "command", "is required"},
      {{{"command", " \n\t"}}, "command", "must not be only spaces"},
      {{{"command", big}}, "command", ""},
      {{{"command", std::string("a\0b", 3)}}, "command", "must not contain NUL bytes"},
      {{{"command", 5}}, "command", "must be a string"},
      {{{"command", "x"}, {"nmae", "typo"}}, "nmae", "unknown field"},
      {{{"command", "x"}, {"name", std::string(201, 'n')}}, "name", "must be at most 200 bytes"},
      {{{"command", "x"}, {"name", "a\nb"}}, "name", ""},
      {{{"command", "x"}, {"workdir", "/a\nb"}}, "workdir", ""},
      {{{"command", "x"}, {"workdir", std::string(4097, 'w')}}, "workdir", ""},
      {{{"command", "x"}, {"gpus", 65}}, "gpus", "must be between 0 and 64"},
      {{{"command", "x"}, {"gpus", -1}}, "gpus", ""},
      {{{"command", "x"}, {"gpus", "2"}}, "gpus", "must be an integer"},
      {{{"command", "x"}, {"gpus", 1.5}}, "gpus", "must be an integer"},
      {{{"command", "x"}, {"mem_mib", 16777217}}, "mem_mib", ""},
      {{{"command", "x"}, {"util_pct", 101}}, "util_pct", ""},
      {{{"command", "x"}, {"exclusive", "yes"}}, "exclusive", "must be true or false"},
      {{{"command", "x"}, {"node", "bad name"}}, "node", ""},
      {{{"command", "x"}, {"gpu_model", "A\x01"}}, "gpu_model", ""},
      {{{"command", "x"}, {"env", "A=1"}}, "env", ""},
      {{{"command", "x"}, {"env", {{"A", 1}}}}, "env", "the value of A must be a string"},
      {{{"command", "x"}, {"env", {{"1A", "x"}}}}, "env", ""},
      {{{"command", "x"}, {"env", {{"A-B", "x"}}}}, "env", ""},
      {{{"command", "x"}, {"env", {{"", "x"}}}}, "env", ""},
      {{{"command", "x"}, {"env", {{"CUDA_VISIBLE_DEVICES", "0"}}}}, "env", ""},
      {{{"command", "x"}, {"env", {{"CUDA_DEVICE_ORDER", "x"}}}}, "env", ""},
      {{{"command", "x"}, {"env", {{"GPUQ_TASK_ID", "1"}}}}, "env", ""},
      {{{"command", "x"}, {"env", {{"A", std::string(32 * 1024 + 1, 'v')}}}}, "env", ""},
      {{{"command", "x"}, {"env", {{"A", std::string("a\0b", 3)}}}}, "env", ""},
      {{{"command", "x"}, {"priority", 1001}}, "priority", ""},
      {{{"command", "x"}, {"priority", -1001}}, "priority", ""},
      {{{"command", "x"}, {"time_limit_s", 0}}, "time_limit_s", ""},
      {{{"command", "x"}, {"time_limit_s", 31536001}}, "time_limit_s", ""},
      {{{"command", "x"}, {"retries", 101}}, "retries", ""},
      {{{"command", "x"}, {"after", 3}}, "after", "must be an array of task ids"},
      {{{"command", "x"}, {"after", json::array({0})}}, "after", ""},
      {{{"command", "x"}, {"after", json::array({"3"})}}, "after", ""},
      {{{"command", "x"}, {"notify", "always"}}, "notify", ""},
      {{{"command", "x"}, {"hold", 1}}, "hold", ""},
      {{{"command", "x"}, {"share", true}}, "share", ""},  // needs mem_mib
      {{{"command", "x"}, {"share", true}, {"mem_mib", 10}, {"exclusive", true}}, "share", ""},
      {{{"command", "x"}, {"gpus", 0}, {"mem_mib", 10}}, "mem_mib", ""},
      {{{"command", "x"}, {"gpus", 0}, {"util_pct", 10}}, "util_pct", ""},
      {{{"command", "x"}, {"gpus", 0}, {"exclusive", true}}, "exclusive", ""},
      {{{"command", "x"}, {"gpus", 0}, {"gpu_model", "A100"}}, "gpu_model", ""},
  };
  for (const auto& c : kCases) {
    Result<TaskSpec> spec = ParseTaskSpec(c.body);
    ASSERT_FALSE(spec.ok()) << c.body.dump();
    EXPECT_EQ(spec.status().code(), ErrorCode::kInvalidArgument) << c.body.dump();
    EXPECT_EQ(spec.status().field(), c.field) << c.body.dump() << ": " << spec.status().message();
    if (*c.message) {
      EXPECT_EQ(spec.status().message(), c.message) << c.body.dump();
    }
  }
}

TEST(ParseTaskSpecTest, LimitsAreInclusive) {
  json body = {{"command", std::string(64 * 1024, 'x')},
               {"name", std::string(200, 'n')},
               {"gpus", 64},
               {"mem_mib", 16777216},
               {"util_pct", 100},
               {"priority", -1000},
               {"time_limit_s", 31536000},
               {"retries", 100}};
  json env = json::object();
  for (int i = 0; i < 100; ++i) env["V" + std::to_string(i)] = std::string(32 * 1024, 'v');
  body["env"] = env;
  json after = json::array();
  for (int i = 1; i <= 100; ++i) after.push_back(i);
  body["after"] = after;
  Result<TaskSpec> spec = ParseTaskSpec(body);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  body["env"]["V100"] = "one too many";
  EXPECT_EQ(ParseTaskSpec(body).status().field(), "env");
  body["env"].erase("V100");
  body["after"].push_back(101);
  EXPECT_EQ(ParseTaskSpec(body).status().field(), "after");
}

TEST(ParseTaskSpecTest, TextMustBeUtf8) {
  TaskSpec spec;
  spec.command = "echo \xff";
  EXPECT_EQ(ValidateTaskSpec(spec).field(), "command");
  spec.command = "echo h\xc3\xa9llo \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80";  // é, 你好, 😀
  EXPECT_TRUE(ValidateTaskSpec(spec).ok());
  spec.name = "\xc0\xaf";  // overlong '/'
  EXPECT_EQ(ValidateTaskSpec(spec).field(), "name");
  spec.name = "\xed\xa0\x80";  // a surrogate
  EXPECT_EQ(ValidateTaskSpec(spec).field(), "name");
  spec.name = "\xe4\xbd";  // cut short
  EXPECT_EQ(ValidateTaskSpec(spec).field(), "name");
}

TEST(ParseTaskPatchTest, OnlyGivenFieldsAndClears) {
  Result<TaskPatch> patch = ParseTaskPatch(
      json{{"gpus", 3}, {"node", nullptr}, {"time_limit_s", nullptr}, {"hold", false}});
  ASSERT_TRUE(patch.ok()) << patch.status().ToString();
  EXPECT_EQ(patch->gpus, 3);
  EXPECT_EQ(patch->node, "");
  ASSERT_TRUE(patch->time_limit_s.has_value());
  EXPECT_FALSE(patch->time_limit_s->has_value());
  EXPECT_EQ(patch->hold, false);
  EXPECT_FALSE(patch->command.has_value());
  EXPECT_FALSE(patch->mem_mib.has_value());
  EXPECT_TRUE(patch->ChangesSpec());
  EXPECT_FALSE(ParseTaskPatch(json{{"hold", true}})->ChangesSpec());

  TaskSpec spec;
  spec.command = "x";
  spec.node = "n1";
  spec.time_limit_s = 60;
  spec.mem_mib = 100;
  ApplyTaskPatch(*patch, &spec);
  EXPECT_EQ(spec.gpus, 3);
  EXPECT_EQ(spec.node, "");
  EXPECT_EQ(spec.time_limit_s, std::nullopt);
  EXPECT_EQ(spec.mem_mib, 100);
  EXPECT_EQ(spec.command, "x");
}

TEST(ParseTaskPatchTest, PerFieldRulesOnlyAndUnknownFieldsRefused) {
  EXPECT_TRUE(ParseTaskPatch(json{{"share", true}}).ok());  // checked on the patched spec
  EXPECT_EQ(ParseTaskPatch(json{{"gpus", 99}}).status().field(), "gpus");
  EXPECT_EQ(ParseTaskPatch(json{{"status", "queued"}}).status().field(), "status");
  EXPECT_FALSE(ParseTaskPatch(json::array()).ok());
}

TEST(ToTaskRequestTest, CarriesWhatThePolicyNeeds) {
  TaskSpec spec;
  spec.gpus = 4;
  spec.mem_mib = 1000;
  spec.util_pct = 30;
  spec.share = true;
  spec.node = "n2";
  spec.gpu_model = "H100";
  spec.priority = 7;
  spec.time_limit_s = 600;
  TaskRequest r = ToTaskRequest(spec, TaskId(9), "alice", 1234);
  EXPECT_EQ(r.id, TaskId(9));
  EXPECT_EQ(r.user, "alice");
  EXPECT_EQ(r.gpus, 4);
  EXPECT_EQ(r.mem_mib, 1000);
  EXPECT_EQ(r.util_pct, 30);
  EXPECT_TRUE(r.share);
  EXPECT_FALSE(r.exclusive);
  EXPECT_EQ(r.node, "n2");
  EXPECT_EQ(r.gpu_model, "H100");
  EXPECT_EQ(r.priority, 7);
  EXPECT_EQ(r.time_limit_s, 600);
  EXPECT_EQ(r.submitted_at, 1234);
  spec.time_limit_s.reset();
  EXPECT_EQ(ToTaskRequest(spec, TaskId(9), "alice", 0).time_limit_s, 0);
}

TEST(ParseTaskSpecTest, PinningTimeLimitActionAndEnvironments) {
  Result<TaskSpec> spec = ParseTaskSpec({{"command", "x"},
                                         {"gpus", 2},
                                         {"gpu_ids", json::array({0, 2})},
                                         {"prefer_gpus", "2"},
                                         {"on_time_limit", "requeue"},
                                         {"venv", "~/venvs/a b"}});
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->gpu_ids, (std::vector<int>{0, 2}));
  EXPECT_EQ(spec->prefer_gpus, (std::vector<int>{2}));
  EXPECT_EQ(spec->on_time_limit, "requeue");
  EXPECT_EQ(spec->venv, "~/venvs/a b");
  EXPECT_EQ(ToTaskRequest(*spec, TaskId(1), "a", 0).gpu_ids, (std::vector<int>{0, 2}));
  Result<TaskSpec> plain = ParseTaskSpec({{"command", "x"}});
  EXPECT_EQ(plain->on_time_limit, "kill");
  EXPECT_TRUE(plain->gpu_ids.empty());
}

TEST(ParseTaskSpecTest, BadPinningAndEnvironmentsAreNamed) {
  const struct {
    json body;
    const char* field;
  } kCases[] = {
      {{{"command", "x"}, {"gpu_ids", json::array({0, 0})}}, "gpu_ids"},
      {{{"command", "x"}, {"gpu_ids", json::array({-1})}}, "gpu_ids"},
      {{{"command", "x"}, {"gpu_ids", json::array({2000})}}, "gpu_ids"},
      {{{"command", "x"}, {"gpu_ids", "0,a"}}, "gpu_ids"},
      {{{"command", "x"}, {"gpu_ids", json::array({1})}, {"gpus", 2}}, "gpu_ids"},
      {{{"command", "x"}, {"gpu_ids", json::array({1})}, {"gpus", 0}}, "gpu_ids"},
      {{{"command", "x"}, {"prefer_gpus", json::array({1})}, {"gpus", 0}}, "prefer_gpus"},
      {{{"command", "x"}, {"prefer_gpus", true}}, "prefer_gpus"},
      {{{"command", "x"}, {"on_time_limit", "retry"}}, "on_time_limit"},
      {{{"command", "x"}, {"conda", "a"}, {"venv", "/v"}}, "conda"},
      {{{"command", "x"}, {"venv", "a\nb"}}, "venv"},
  };
  for (const auto& c : kCases) {
    Result<TaskSpec> spec = ParseTaskSpec(c.body);
    ASSERT_FALSE(spec.ok()) << c.body.dump();
    EXPECT_EQ(spec.status().field(), c.field) << c.body.dump() << ": " << spec.status().ToString();
  }
}

TEST(ParseTaskPatchTest, NullClearsPinsAndEnvironments) {
  Result<TaskPatch> p = ParseTaskPatch({{"gpu_ids", nullptr}, {"venv", nullptr}});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->ChangesSpec());
  TaskSpec spec;
  spec.gpu_ids = {1};
  spec.venv = "/v";
  ApplyTaskPatch(*p, &spec);
  EXPECT_TRUE(spec.gpu_ids.empty());
  EXPECT_EQ(spec.venv, "");
}
}  // namespace
}  // namespace gpuq
