#include "master/store/sched_settings.h"

#include <gtest/gtest.h>

#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

class SchedSettingsTest : public store_test::StoreTest {};

TEST_F(SchedSettingsTest, StoredKeysWinOverFlagsAndBadOnesAreSkipped) {
  SettingsStore settings(db_.get(), &clock_);
  SchedSettings flags;
  flags.max_running = 4;
  flags.default_time_limit_s = 3600;
  EXPECT_EQ(*ReadSchedSettings(settings, flags), flags);

  ASSERT_TRUE(settings.Set(kSettingMaxRunning, "2").ok());
  ASSERT_TRUE(settings.Set(kSettingMaxRunningPerNode, "1").ok());
  ASSERT_TRUE(settings.Set(kSettingMaxRunningPerUser, "lots").ok());
  ASSERT_TRUE(settings.Set(kSettingDefaultTimeLimit, "0").ok());
  std::string bad;
  Result<SchedSettings> live = ReadSchedSettings(settings, flags, &bad);
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->max_running, 2);
  EXPECT_EQ(live->max_running_per_node, 1);
  EXPECT_EQ(live->max_running_per_user, 0) << "a bad value keeps the flag's";
  EXPECT_EQ(live->default_time_limit_s, std::nullopt) << "0 = no default time limit";
  EXPECT_EQ(bad, kSettingMaxRunningPerUser);

  ASSERT_TRUE(settings.Delete(kSettingMaxRunning).ok());
  EXPECT_EQ(ReadSchedSettings(settings, flags)->max_running, 4);
}

TEST_F(SchedSettingsTest, ValuesAreCheckedWithTheKeyNamed) {
  EXPECT_TRUE(ValidateSchedSetting(kSettingMaxRunning, "0").ok());
  EXPECT_TRUE(ValidateSchedSetting(kSettingDefaultTimeLimit, "2h").ok());
  EXPECT_EQ(*ParseTimeLimitSetting("1h30m"), 5400);
  using KV = std::pair<const char*, const char*>;
  for (auto [key, value] :
       {KV{kSettingMaxRunning, "-1"}, KV{kSettingMaxRunningPerUser, ""},
        KV{kSettingMaxRunningPerNode, "1.5"}, KV{kSettingDefaultTimeLimit, "soon"},
        KV{kSettingDefaultTimeLimit, "400d"}}) {
    Status s = ValidateSchedSetting(key, value);
    EXPECT_FALSE(s.ok()) << key << "=" << value;
    EXPECT_EQ(s.field(), key);
  }
  EXPECT_FALSE(ValidateSchedSetting("smtp.host", "x").ok());
}

}  // namespace
}  // namespace gpuq
