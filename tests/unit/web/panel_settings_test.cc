#include "web/panel_settings.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

const SettingField* Find(std::string_view key) {
  for (const SettingsSection& s : SettingsSections()) {
    for (const SettingField& f : s.fields) {
      if (f.key == key) return &f;
    }
  }
  return nullptr;
}

TEST(PanelSettingsTest, BuiltInFieldsValidateTheirValues) {
  const SettingField* probe = Find(kSettingProbeDefault);
  const SettingField* poll = Find(kSettingPollIntervalMs);
  const SettingField* keep = Find(kSettingRetentionDays);
  ASSERT_TRUE(probe && poll && keep);
  EXPECT_TRUE(probe->validate("gpustat").ok());
  EXPECT_TRUE(probe->validate("/opt/bin/nvidia-smi").ok());
  EXPECT_FALSE(probe->validate("nvidia-smi; rm -rf /").ok());
  EXPECT_TRUE(poll->validate("1000").ok());
  EXPECT_FALSE(poll->validate("199").ok());
  EXPECT_FALSE(poll->validate("1e3").ok());
  EXPECT_FALSE(poll->validate("").ok());
  EXPECT_TRUE(keep->validate("0").ok());
  EXPECT_FALSE(keep->validate("-1").ok());
  for (const SettingsSection& s : SettingsSections()) {
    for (const SettingField& f : s.fields) EXPECT_TRUE(f.validate(f.default_value).ok()) << f.key;
  }
}

TEST(PanelSettingsTest, SchedulingCapsTakeEmptyForTheMastersOwnValue) {
  const SettingField* cap = Find("max_running");
  const SettingField* per_user = Find("max_running_per_user");
  const SettingField* limit = Find("default_time_limit");
  ASSERT_TRUE(cap && per_user && limit);
  EXPECT_TRUE(cap->validate("").ok());
  EXPECT_TRUE(cap->validate("0").ok());
  EXPECT_TRUE(per_user->validate("12").ok());
  EXPECT_FALSE(cap->validate("-1").ok());
  EXPECT_FALSE(cap->validate("many").ok());
  EXPECT_TRUE(limit->validate("2h").ok());
  EXPECT_FALSE(limit->validate("soon").ok());
}

TEST(PanelSettingsTest, AnotherModuleCanAddASection) {
  const size_t before = SettingsSections().size();
  AddSettingsSection({"notifications",
                      "settings.notifications",
                      {{"smtp.host", "settings.smtp_host", "", "",
                        [](std::string_view) { return Status::Ok(); }}}});
  ASSERT_EQ(SettingsSections().size(), before + 1);
  EXPECT_EQ(SettingsSections().back().id, "notifications");
  EXPECT_NE(Find("smtp.host"), nullptr);
}

}  // namespace
}  // namespace gpuq
