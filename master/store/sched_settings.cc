#include "master/store/sched_settings.h"

#include <charconv>

#include "common/task_spec.h"
#include "common/units.h"

namespace gpuq {
namespace {
constexpr int kMaxCap = 100000;
}  // namespace

Result<int> ParseCapSetting(std::string_view key, std::string_view value) {
  int n = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || n < 0 ||
      n > kMaxCap) {
    return Status::InvalidArgument("must be a whole number from 0 (no cap) to " +
                                       std::to_string(kMaxCap) + ", got '" +
                                       std::string(value.substr(0, 40)) + "'",
                                   std::string(key));
  }
  return n;
}

Result<std::optional<int64_t>> ParseTimeLimitSetting(std::string_view value) {
  if (value.empty() || value == "0") return std::optional<int64_t>();
  Result<int64_t> seconds = ParseDurationSeconds(value);
  if (!seconds.ok() || *seconds < 1 || *seconds > kMaxTimeLimitS) {
    return Status::InvalidArgument(
        "must be a duration like 90, 30m, 2h or 1d (up to 365d), or 0 for none; got '" +
            std::string(value.substr(0, 40)) + "'",
        kSettingDefaultTimeLimit);
  }
  return std::optional<int64_t>(*seconds);
}

Status ValidateSchedSetting(std::string_view key, std::string_view value) {
  if (key == kSettingDefaultTimeLimit) return ParseTimeLimitSetting(value).status();
  if (key == kSettingMaxRunning || key == kSettingMaxRunningPerUser ||
      key == kSettingMaxRunningPerNode) {
    return ParseCapSetting(key, value).status();
  }
  return Status::InvalidArgument("is not a scheduling setting", std::string(key));
}

Result<SchedSettings> ReadSchedSettings(SettingsStore& settings, const SchedSettings& flags,
                                        std::string* bad_key) {
  Result<std::map<std::string, std::string>> all = settings.All();
  if (!all.ok()) return all.status();
  SchedSettings out = flags;
  const std::pair<const char*, int SchedSettings::*> caps[] = {
      {kSettingMaxRunning, &SchedSettings::max_running},
      {kSettingMaxRunningPerUser, &SchedSettings::max_running_per_user},
      {kSettingMaxRunningPerNode, &SchedSettings::max_running_per_node},
  };
  for (const auto& [key, field] : caps) {
    auto it = all->find(key);
    if (it == all->end()) continue;
    Result<int> cap = ParseCapSetting(key, it->second);
    if (cap.ok()) {
      out.*field = *cap;
    } else if (bad_key != nullptr) {
      *bad_key = key;
    }
  }
  if (auto it = all->find(kSettingDefaultTimeLimit); it != all->end()) {
    Result<std::optional<int64_t>> limit = ParseTimeLimitSetting(it->second);
    if (limit.ok()) {
      out.default_time_limit_s = *limit;
    } else if (bad_key != nullptr) {
      *bad_key = kSettingDefaultTimeLimit;
    }
  }
  return out;
}

}  // namespace gpuq
