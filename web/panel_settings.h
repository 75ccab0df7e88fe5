#ifndef GPUQ_WEB_PANEL_SETTINGS_H_
#define GPUQ_WEB_PANEL_SETTINGS_H_

// The settings an admin changes in the panel, as sections of fields stored in the settings
// table. A module adds its own section (e.g. notifications) with AddSettingsSection before
// the server starts; the settings page lists every section and saves one section per form.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gpuq {

class Database;
class Clock;

struct SettingField {
  std::string key;        // settings table key, e.g. "probe.default"
  std::string label_key;  // catalogue key of its label
  std::string help_key;   // catalogue key of a hint shown under it ("" = none)
  std::string default_value;
  // Checks a submitted value (already trimmed); InvalidArgument with a message, no field
  // (the caller names the field).
  std::function<Status(std::string_view)> validate;
};

struct SettingsSection {
  std::string id;         // form id and anchor, e.g. "scheduling"
  std::string title_key;  // catalogue key
  std::vector<SettingField> fields;
};

// Every section, built-ins first (probing, retention). Not thread-safe while adding: add
// sections before the server starts.
const std::vector<SettingsSection>& SettingsSections();
void AddSettingsSection(SettingsSection section);

// The built-in keys.
inline constexpr char kSettingProbeDefault[] = "probe.default";       // probe of new nodes
inline constexpr char kSettingPollIntervalMs[] = "poll.interval_ms";  // node sampling period
inline constexpr char kSettingRetentionDays[] = "retention.days";     // keep ended tasks

// A whole number in [min, max] as text, or InvalidArgument.
Status ValidateWholeNumber(std::string_view text, int64_t min, int64_t max);

// The stored value of `key`, or the field's default; "" for an unknown key.
std::string SettingValue(Database* db, Clock* clock, std::string_view key);

}  // namespace gpuq

#endif  // GPUQ_WEB_PANEL_SETTINGS_H_
