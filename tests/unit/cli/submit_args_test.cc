#include "master/cli/submit_args.h"

#include <gtest/gtest.h>

namespace gpuq::cli {
namespace {

using nlohmann::json;

TEST(JoinCommandWordsTest, OneWordIsSentAsItIs) {
  const std::string script = "python train.py --lr 0.1\necho \"done $HOME\" `date` 'x'\n";
  EXPECT_EQ(JoinCommandWords({script}), script);
  EXPECT_EQ(JoinCommandWords({"echo hi"}), "echo hi");
}

TEST(JoinCommandWordsTest, SeveralWordsAreQuotedOnlyWhenNeeded) {
  const struct {
    std::vector<std::string> words;
    const char* command;
  } kCases[] = {
      {{"python", "train.py", "--lr", "0.1"}, "python train.py --lr 0.1"},
      {{"echo", "a b"}, "echo 'a b'"},
      {{"echo", "it's"}, "echo 'it'\\''s'"},
      {{"echo", "$HOME", "`id`", "a\"b"}, "echo '$HOME' '`id`' 'a\"b'"},
      {{"echo", ""}, "echo ''"},
      {{"echo", "x;", "rm", "*"}, "echo 'x;' rm '*'"},
      {{"A=1", "env"}, "'A=1' env"},  // not an assignment
      {{"env", "A=1", "x/y.z:w@h%,+-_"}, "env A=1 x/y.z:w@h%,+-_"},
      {{"printf", "a\nb"}, "printf 'a\nb'"},
  };
  for (const auto& c : kCases) EXPECT_EQ(JoinCommandWords(c.words), c.command);
}

TEST(BuildSubmitBodyTest, EveryFlagReachesItsField) {
  SubmitOptions o;
  o.name = "train";
  o.workdir = "/data/my runs";
  o.gpus = 2;
  o.mem = "1.5G";
  o.util_pct = 40;
  o.exclusive = true;
  o.node = "node1";
  o.gpu_model = "A100";
  o.env = {"A=1", "B=x=y", "C="};
  o.priority = -3;
  o.time_limit = "1h30m";
  o.retries = 2;
  o.after = "3,4";
  o.hold = true;
  o.notify = "failure";
  Result<json> body = BuildSubmitBody(o, "echo hi");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, (json{{"command", "echo hi"},
                         {"name", "train"},
                         {"workdir", "/data/my runs"},
                         {"gpus", 2},
                         {"mem_mib", 1536},
                         {"util_pct", 40},
                         {"exclusive", true},
                         {"node", "node1"},
                         {"gpu_model", "A100"},
                         {"env", {{"A", "1"}, {"B", "x=y"}, {"C", ""}}},
                         {"priority", -3},
                         {"time_limit_s", 5400},
                         {"retries", 2},
                         {"after", {3, 4}},
                         {"hold", true},
                         {"notify", "failure"}}));
}

TEST(BuildSubmitBodyTest, NothingGivenIsOnlyTheCommand) {
  SubmitOptions o;
  EXPECT_EQ(*BuildSubmitBody(o, "x"), (json{{"command", "x"}}));
  o.gpus = 0;
  o.share = true;
  EXPECT_EQ(*BuildSubmitBody(o, "x"), (json{{"command", "x"}, {"gpus", 0}, {"share", true}}));
}

TEST(BuildSubmitBodyTest, UnreadableValuesNameTheFlag) {
  auto field_of = [](void (*set)(SubmitOptions&)) {
    SubmitOptions o;
    set(o);
    return BuildSubmitBody(o, "x").status().field();
  };
  EXPECT_EQ(field_of([](SubmitOptions& o) { o.mem = "8Q"; }), "--mem");
  EXPECT_EQ(field_of([](SubmitOptions& o) { o.time_limit = "soon"; }), "--time-limit");
  EXPECT_EQ(field_of([](SubmitOptions& o) { o.env = {"NOEQUALS"}; }), "--env");
  EXPECT_EQ(field_of([](SubmitOptions& o) { o.env = {"=x"}; }), "--env");
  EXPECT_EQ(field_of([](SubmitOptions& o) { o.after = "3,x"; }), "--after");
  EXPECT_EQ(field_of([](SubmitOptions& o) { o.after = "3,"; }), "--after");
  EXPECT_EQ(field_of([](SubmitOptions& o) { o.after = "0"; }), "--after");
  EXPECT_EQ(field_of([](SubmitOptions& o) { o.notify = "sometimes"; }), "--notify");
}

TEST(BuildSubmitBodyTest, PinningTimeLimitActionAndEnvironments) {
  SubmitOptions o;
  o.gpu_ids = "0,2";
  o.prefer_gpus = "1";
  o.on_time_limit = "requeue";
  o.venv = "~/v";
  Result<json> body = BuildSubmitBody(o, "x");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["gpu_ids"], json::array({0, 2}));
  EXPECT_EQ((*body)["prefer_gpus"], json::array({1}));
  EXPECT_EQ((*body)["on_time_limit"], "requeue");
  EXPECT_EQ((*body)["venv"], "~/v");
  EXPECT_FALSE(body->contains("conda"));
  using Flag = std::pair<const char*, std::string SubmitOptions::*>;
  for (auto [flag, set] : {Flag{"--gpu-ids", &SubmitOptions::gpu_ids},
                           Flag{"--prefer-gpus", &SubmitOptions::prefer_gpus},
                           Flag{"--on-time-limit", &SubmitOptions::on_time_limit}}) {
    SubmitOptions bad;
    bad.*set = "1,,x";
    Result<json> refused = BuildSubmitBody(bad, "x");
    ASSERT_FALSE(refused.ok()) << flag;
    EXPECT_EQ(refused.status().field(), flag);
  }
}
}  // namespace
}  // namespace gpuq::cli
