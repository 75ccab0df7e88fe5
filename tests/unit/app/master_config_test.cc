#include "master/app/master_config.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

using Map = std::map<std::string, std::string>;

TEST(MasterConfigTest, ParsesTomlAndIniStyles) {
  auto toml =
      ParseMasterConfig("# gpuq\nlisten = \"127.0.0.1:9000\"  # here\nprobe-interval-ms = 500\n");
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

// The panel's poll interval setting applies only when no flag, env or file chose one.
TEST(MasterConfigTest, RecordsWhetherTheProbeIntervalWasGiven) {
  EXPECT_FALSE(ResolveMasterOptions({}, {}, {})->probe_interval_given);
  EXPECT_TRUE(ResolveMasterOptions({}, {}, {{"probe_interval_ms", "700"}})->probe_interval_given);
  EXPECT_TRUE(
      ResolveMasterOptions({}, {{"GPUQ_PROBE_INTERVAL_MS", "700"}}, {})->probe_interval_given);
  EXPECT_TRUE(ResolveMasterOptions({{"probe_interval_ms", "1000"}}, {}, {})->probe_interval_given);
}

TEST(MasterConfigTest, BadValuesNameSettingAndSource) {
  auto o = ResolveMasterOptions({}, {{"GPUQ_PROBE_INTERVAL_MS", "fast"}}, {});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().field(), "probe_interval_ms");
  EXPECT_NE(o.status().message().find("GPUQ_PROBE_INTERVAL_MS"), std::string::npos);
}

TEST(MasterConfigTest, TlsNeedsBothReadableFiles) {
  auto missing = ResolveMasterOptions({{"tls_cert", "/nonexistent/cert.pem"}}, {}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().field(), "tls_cert");
  EXPECT_NE(missing.status().message().find("cannot read"), std::string::npos);

  // Any readable file passes this check; whether it is a certificate is the server's.
  auto half = ResolveMasterOptions({{"tls_cert", "/proc/self/status"}}, {}, {});
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.status().field(), "tls_key");
  auto both = ResolveMasterOptions({{"tls_cert", "/proc/self/status"}},
                                   {{"GPUQ_TLS_KEY", "/proc/self/status"}}, {});
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(both->tls_key, "/proc/self/status");
}

TEST(MasterConfigTest, SmtpSettingsFromEnvAndFileWithTheSamePrecedence) {
  Map file = {{"smtp_host", "file.lab"}, {"smtp_from", "gpuq@lab.org"}, {"smtp_password", "pw"}};
  Map env = {{"GPUQ_SMTP_HOST", "env.lab"},
             {"GPUQ_SMTP_PORT", "2525"},
             {"GPUQ_SMTP_SECURITY", "starttls"},
             {"GPUQ_SMTP_USER", "bot"}};
  auto o = ResolveMasterOptions({{"smtp_user", "flag-bot"}}, env, file);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->smtp_host, "env.lab");
  EXPECT_EQ(o->smtp_port, 2525);
  EXPECT_EQ(o->smtp_security, "starttls");
  EXPECT_EQ(o->smtp_user, "flag-bot");
  EXPECT_EQ(o->smtp_password, "pw");
  EXPECT_EQ(o->smtp_from, "gpuq@lab.org");
  EXPECT_EQ(o->notify_retry_base_ms, 30000);  // default
  EXPECT_TRUE(ParseMasterConfig("smtp-host = mail.lab\nnotify_max_attempts = 3\n").ok());

  auto bad = ResolveMasterOptions({}, {{"GPUQ_SMTP_SECURITY", "ssl"}}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "smtp_security");
  EXPECT_NE(bad.status().message().find("GPUQ_SMTP_SECURITY"), std::string::npos);
  EXPECT_EQ(ResolveMasterOptions({}, {}, {{"smtp_from", "nobody"}}).status().field(), "smtp_from");
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
