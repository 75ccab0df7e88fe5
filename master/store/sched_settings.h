#ifndef GPUQ_MASTER_STORE_SCHED_SETTINGS_H_
#define GPUQ_MASTER_STORE_SCHED_SETTINGS_H_

// Scheduling settings an admin may change while the master runs: concurrency caps and the
// global time limit. Each has a key in the settings table (what the admin panel writes) and
// a master flag (--max-running, ...). A key set in the table wins over the flag: it is the
// later, live choice; deleting the key brings the flag's value back. Read once per
// scheduling cycle and at each launch, so a change takes effect within a cycle.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "master/store/settings_store.h"

namespace gpuq {

// Keys of the settings table. Values are text:
//   max_running, max_running_per_user, max_running_per_node: a whole number >= 0
//     (0 = no cap);
//   default_time_limit: a duration ("90", "30m", "2h", "1d"); "0" or "" = none.
inline constexpr char kSettingMaxRunning[] = "max_running";
inline constexpr char kSettingMaxRunningPerUser[] = "max_running_per_user";
inline constexpr char kSettingMaxRunningPerNode[] = "max_running_per_node";
inline constexpr char kSettingDefaultTimeLimit[] = "default_time_limit";

struct SchedSettings {
  int max_running = 0;  // 0 = no cap
  int max_running_per_user = 0;
  int max_running_per_node = 0;
  // The time limit of tasks that set none; nullopt = none.
  std::optional<int64_t> default_time_limit_s;

  bool operator==(const SchedSettings&) const = default;
};

// Checks one value for one of the keys above: InvalidArgument naming the key. For the panel
// to call before it stores a value.
Status ValidateSchedSetting(std::string_view key, std::string_view value);

// Parses a cap ("0".."100000") or a default time limit; the same rules as above.
Result<int> ParseCapSetting(std::string_view key, std::string_view value);
Result<std::optional<int64_t>> ParseTimeLimitSetting(std::string_view value);

// `flags` with every key the settings table holds applied over it. A stored value that does
// not parse is skipped (the flag's value stays) and named in *bad_key when given.
Result<SchedSettings> ReadSchedSettings(SettingsStore& settings, const SchedSettings& flags,
                                        std::string* bad_key = nullptr);

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_SCHED_SETTINGS_H_
