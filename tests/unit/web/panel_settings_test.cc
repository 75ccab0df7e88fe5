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
