#include "web/panel_settings.h"

#include <charconv>

#include "common/node_validation.h"
#include "master/store/sched_settings.h"
#include "master/store/settings_store.h"

namespace gpuq {
namespace {

std::vector<SettingsSection>& Sections() {
  static std::vector<SettingsSection> sections = [] {
    std::vector<SettingsSection> s;
    s.push_back(
        {"probing",
         "settings.probing",
         {{kSettingProbeDefault, "settings.probe_default", "settings.probe_default_help",
           "nvidia-smi", [](std::string_view v) { return ValidateProbe(v); }},
          {kSettingPollIntervalMs, "settings.poll_interval", "settings.poll_interval_help", "1000",
           [](std::string_view v) { return ValidateWholeNumber(v, 200, 60000); }}}});
    // Caps and the default time limit: empty means "as the master was started" (its
    // --max-running... flags), so saving an empty field hands the choice back to them.
    auto sched = [](const char* key) {
      return [key](std::string_view v) {
        return v.empty() ? Status::Ok() : ValidateSchedSetting(key, v);
      };
    };
    s.push_back({"scheduling",
                 "settings.scheduling",
                 {{kSettingMaxRunning, "settings.max_running", "settings.from_flag_help", "",
                   sched(kSettingMaxRunning)},
                  {kSettingMaxRunningPerUser, "settings.max_running_per_user",
                   "settings.from_flag_help", "", sched(kSettingMaxRunningPerUser)},
                  {kSettingMaxRunningPerNode, "settings.max_running_per_node",
                   "settings.from_flag_help", "", sched(kSettingMaxRunningPerNode)},
                  {kSettingDefaultTimeLimit, "settings.default_time_limit",
                   "settings.default_time_limit_help", "", sched(kSettingDefaultTimeLimit)}}});
    s.push_back({"retention",
                 "settings.retention",
                 {{kSettingRetentionDays, "settings.retention_days", "settings.retention_help", "0",
                   [](std::string_view v) { return ValidateWholeNumber(v, 0, 3650); }}}});
    return s;
  }();
  return sections;
}

}  // namespace

const std::vector<SettingsSection>& SettingsSections() { return Sections(); }

void AddSettingsSection(SettingsSection section) { Sections().push_back(std::move(section)); }

Status ValidateWholeNumber(std::string_view text, int64_t min, int64_t max) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max) {
    return Status::InvalidArgument("must be a whole number from " + std::to_string(min) + " to " +
                                   std::to_string(max));
  }
  return Status::Ok();
}

std::string SettingValue(Database* db, Clock* clock, std::string_view key) {
  for (const SettingsSection& section : SettingsSections()) {
    for (const SettingField& field : section.fields) {
      if (field.key != key) continue;
      Result<std::optional<std::string>> stored = SettingsStore(db, clock).Get(key);
      if (stored.ok() && stored->has_value()) return **stored;
      return field.default_value;
    }
  }
  return "";
}

}  // namespace gpuq
