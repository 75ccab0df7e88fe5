#ifndef GPUQ_MASTER_STORE_SETTINGS_STORE_H_
#define GPUQ_MASTER_STORE_SETTINGS_STORE_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace gpuq {

class Database;

// The settings table: settings changed from the admin panel, as text keyed by name. What the
// keys are and how values parse is the caller's. Thread-safe (see Database).
class SettingsStore {
 public:
  // Does not take ownership; both must outlive the SettingsStore.
  SettingsStore(Database* db, Clock* clock) : db_(db), clock_(clock) {}

  // The value, or nullopt when the key was never set (or was deleted).
  Result<std::optional<std::string>> Get(std::string_view key);
  // Sets or replaces the value.
  Status Set(std::string_view key, std::string_view value);
  // Removes the key; OK when it was not set.
  Status Delete(std::string_view key);
  // Every setting.
  Result<std::map<std::string, std::string>> All();

 private:
  Database* db_;
  Clock* clock_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_SETTINGS_STORE_H_
