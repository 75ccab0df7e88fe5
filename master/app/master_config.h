#ifndef GPUQ_MASTER_APP_MASTER_CONFIG_H_
#define GPUQ_MASTER_APP_MASTER_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "master/app/master.h"

namespace gpuq {

// Parses a master config file: `key = value` lines, TOML or INI style (strings may be
// quoted; `#` and `;` start comments; a `[master]` section header is accepted, others are
// refused). Keys use '_' or '-' alike. An unknown key or a malformed line is an error that
// names the line.
Result<std::map<std::string, std::string>> ParseMasterConfig(const std::string& text);

// Builds the master's settings with INTERFACE.md's precedence: flag > GPUQ_* environment >
// config file > default. Each map is keyed by setting name (listen, data, probe_interval_ms,
// probe_timeout_ms, connect_timeout_ms); `env` by variable name (GPUQ_LISTEN, ...).
// A value that is not valid is an error naming its setting and where it came from.
Result<MasterOptions> ResolveMasterOptions(const std::map<std::string, std::string>& flags,
                                           const std::map<std::string, std::string>& env,
                                           const std::map<std::string, std::string>& file);

// The environment variable of a setting: "probe_interval_ms" -> "GPUQ_PROBE_INTERVAL_MS".
std::string MasterSettingEnvName(const std::string& setting);

// Every setting's name ("listen", "probe_interval_ms", ...), in the order they are applied.
std::vector<std::string> MasterSettingNames();

}  // namespace gpuq

#endif  // GPUQ_MASTER_APP_MASTER_CONFIG_H_
