#include "master/app/master_config.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

using Map = std::map<std::string, std::string>;

TEST(MasterConfigTest, ParsesTomlAndIniStyles) {
  auto toml = ParseMasterConfig(
      "# gpuq\nlisten = \"127.0.0.1:9000\"  # here\nprobe-interval-ms = 500\n");
  ASSERT_TRUE(toml.ok()) << toml.status().ToString();
  EXPECT_EQ((*toml)["listen"], "127.0.0.1:9000");
  EXPECT_EQ((*toml)["probe_interval_ms"], "500");
  auto ini = ParseMasterConfig("[master]\n; comment\ndata = /srv/gpuq\n");
  ASSERT_TRUE(ini.ok());
  EXPECT_EQ((*ini)["data"], "/srv/gpuq");
}

TEST(MasterConfigTest, UnknownKeysAndBadLinesNameTheLine) {
  EXPECT_EQ(ParseMasterConfig("listen = x\nlsten = y\n").status().message(),
            "config line 2: unknown setting 'lsten'");
  EXPECT_EQ(ParseMasterConfig("just words\n").status().message(),
            "config line 1: expected key = value: just words");
  EXPECT_FALSE(ParseMasterConfig("[other]\n").ok());
}

TEST(MasterConfigTest, FlagBeatsEnvBeatsFileBeatsDefault) {
  Map file = {{"listen", "127.0.0.1:1"}, {"data", "/file"}, {"probe_interval_ms", "700"}};
  Map env = {{"GPUQ_LISTEN", "127.0.0.1:2"}, {"GPUQ_DATA", "/env"}};
  Map flags = {{"listen", "127.0.0.1:3"}};
  auto o = ResolveMasterOptions(flags, env, file);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->listen, "127.0.0.1:3");
  EXPECT_EQ(o->data_dir, "/env");
  EXPECT_EQ(o->probe_interval_ms, 700);
  EXPECT_EQ(o->probe_timeout_ms, 5000);  // default
}

TEST(MasterConfigTest, BadValuesNameSettingAndSource) {
  auto o = ResolveMasterOptions({}, {{"GPUQ_PROBE_INTERVAL_MS", "fast"}}, {});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().field(), "probe_interval_ms");
  EXPECT_NE(o.status().message().find("GPUQ_PROBE_INTERVAL_MS"), std::string::npos);
}

TEST(MasterConfigTest, CapsTimeLimitAndQueueFile) {
  auto file = ParseMasterConfig(
      "max-running = 8\nmax_running_per_user = 2\ndefault_time_limit = 1d\n"
      "queue_file = \"/lab/tasks.csv\"\nqueue_file_user = lab\n");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto o = ResolveMasterOptions({{"max_running_per_node", "3"}}, {}, *file);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->max_running, 8);
  EXPECT_EQ(o->max_running_per_user, 2);
  EXPECT_EQ(o->max_running_per_node, 3);
  EXPECT_EQ(o->default_time_limit_s, 86400);
  EXPECT_EQ(o->queue_file, "/lab/tasks.csv");
  EXPECT_EQ(o->queue_file_user, "lab");
  EXPECT_EQ(ResolveMasterOptions({}, {}, {})->default_time_limit_s, std::nullopt);
  auto bad = ResolveMasterOptions({{"default_time_limit", "soon"}}, {}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "default_time_limit");
  EXPECT_FALSE(ResolveMasterOptions({{"max_running", "-1"}}, {}, {}).ok());
}

}  // namespace
}  // namespace gpuq
