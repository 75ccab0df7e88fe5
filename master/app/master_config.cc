#include "master/app/master_config.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <sstream>

#include "master/notify/notify_settings.h"
#include "master/store/sched_settings.h"

namespace gpuq {
namespace {

struct Setting {
  const char* name;
  std::function<Status(const std::string& value, MasterOptions* out)> apply;
};

std::function<Status(const std::string&, MasterOptions*)> IntSetting(int MasterOptions::*field,
                                                                     int min, int max) {
  return [=](const std::string& value, MasterOptions* out) {
    int n = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || ptr != value.data() + value.size() || n < min || n > max) {
      return Status::InvalidArgument("must be a whole number from " + std::to_string(min) + " to " +
                                     std::to_string(max) + ", got '" + value + "'");
    }
    out->*field = n;
    return Status::Ok();
  };
}

// A file the master must be able to read at start (checked here, so the error names the
// setting rather than surfacing later as a TLS failure).
std::function<Status(const std::string&, MasterOptions*)> FileSetting(
    std::string MasterOptions::*field) {
  return [=](const std::string& value, MasterOptions* out) {
    if (value.empty()) return Status::InvalidArgument("must be a file path");
    if (::access(value.c_str(), R_OK) != 0) {
      return Status::InvalidArgument("cannot read '" + value + "'");
    }
    out->*field = value;
    return Status::Ok();
  };
}

// A text setting, checked by `validate` (a notify_settings validator) when there is one.
std::function<Status(const std::string&, MasterOptions*)> StringSetting(
    std::string MasterOptions::*field, Status (*validate)(std::string_view, const std::string&)) {
  return [=](const std::string& value, MasterOptions* out) {
    if (validate != nullptr) {
      Status s = validate(value, "");
      if (!s.ok()) return Status::InvalidArgument(s.message() + ", got '" + value + "'");
    }
    out->*field = value;
    return Status::Ok();
  };
}

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> settings = {
      {"listen",
       [](const std::string& v, MasterOptions* o) {
         if (v.empty()) return Status::InvalidArgument("must be HOST:PORT");
         o->listen = v;
         return Status::Ok();
       }},
      {"data",
       [](const std::string& v, MasterOptions* o) {
         if (v.empty()) return Status::InvalidArgument("must be a folder");
         o->data_dir = v;
         return Status::Ok();
       }},
      {"probe_interval_ms", IntSetting(&MasterOptions::probe_interval_ms, 100, 60000)},
      {"probe_timeout_ms", IntSetting(&MasterOptions::probe_timeout_ms, 500, 120000)},
      {"connect_timeout_ms", IntSetting(&MasterOptions::connect_timeout_ms, 500, 120000)},
      {"kill_grace_ms", IntSetting(&MasterOptions::kill_grace_ms, 0, 3600000)},
      {"lost_after_ms", IntSetting(&MasterOptions::lost_after_ms, 1000, 604800000)},
      {"tls_cert", FileSetting(&MasterOptions::tls_cert)},
      {"tls_key", FileSetting(&MasterOptions::tls_key)},
      {"public_url", StringSetting(&MasterOptions::public_url, ValidateHttpUrl)},
      {"smtp_host", StringSetting(&MasterOptions::smtp_host, nullptr)},
      {"smtp_port", IntSetting(&MasterOptions::smtp_port, 1, 65535)},
      {"smtp_security", StringSetting(&MasterOptions::smtp_security, ValidateSmtpSecurity)},
      {"smtp_user", StringSetting(&MasterOptions::smtp_user, nullptr)},
      {"smtp_password", StringSetting(&MasterOptions::smtp_password, nullptr)},
      {"smtp_from", StringSetting(&MasterOptions::smtp_from, ValidateEmailAddress)},
      {"notify_retry_base_ms", IntSetting(&MasterOptions::notify_retry_base_ms, 10, 86400000)},
      {"notify_retry_max_ms", IntSetting(&MasterOptions::notify_retry_max_ms, 10, 604800000)},
      {"notify_max_attempts", IntSetting(&MasterOptions::notify_max_attempts, 1, 1000)},
      {"max_running", IntSetting(&MasterOptions::max_running, 0, 100000)},
      {"max_running_per_user", IntSetting(&MasterOptions::max_running_per_user, 0, 100000)},
      {"max_running_per_node", IntSetting(&MasterOptions::max_running_per_node, 0, 100000)},
      {"default_time_limit",
       [](const std::string& v, MasterOptions* o) {
         Result<std::optional<int64_t>> limit = ParseTimeLimitSetting(v);
         if (!limit.ok()) return Status::InvalidArgument(limit.status().message());
         o->default_time_limit_s = *limit;
         return Status::Ok();
       }},
      {"queue_file",
       [](const std::string& v, MasterOptions* o) {
         o->queue_file = v;
         return Status::Ok();
       }},
      {"queue_file_user",
       [](const std::string& v, MasterOptions* o) {
         if (v.empty()) return Status::InvalidArgument("must be an account name");
         o->queue_file_user = v;
         return Status::Ok();
       }},
  };
  return settings;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

bool Known(const std::string& key) {
  return std::any_of(Settings().begin(), Settings().end(),
                     [&](const Setting& s) { return key == s.name; });
}

}  // namespace

std::vector<std::string> MasterSettingNames() {
  std::vector<std::string> names;
  for (const Setting& setting : Settings()) names.emplace_back(setting.name);
  return names;
}

std::string MasterSettingEnvName(const std::string& setting) {
  std::string env = "GPUQ_";
  for (char c : setting) env += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return env;
}

Result<std::map<std::string, std::string>> ParseMasterConfig(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string where = "config line " + std::to_string(number);
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      if (line == "[master]") continue;
      return Status::InvalidArgument(where + ": only a [master] section is known: " + line);
    }
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      return Status::InvalidArgument(where + ": expected key = value: " + line);
    }
    std::string key = Trim(line.substr(0, eq));
    std::replace(key.begin(), key.end(), '-', '_');
    std::string value = Trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) {
      size_t close = value.find(value.front(), 1);
      if (close == std::string::npos) {
        return Status::InvalidArgument(where + ": unterminated string");
      }
      value = value.substr(1, close - 1);
    } else {
      size_t comment = value.find_first_of("#;");
      if (comment != std::string::npos) value = Trim(value.substr(0, comment));
    }
    if (!Known(key)) return Status::InvalidArgument(where + ": unknown setting '" + key + "'");
    out[key] = value;
  }
  return out;
}

Result<MasterOptions> ResolveMasterOptions(const std::map<std::string, std::string>& flags,
                                           const std::map<std::string, std::string>& env,
                                           const std::map<std::string, std::string>& file) {
  MasterOptions options;
  for (const Setting& setting : Settings()) {
    const std::string env_name = MasterSettingEnvName(setting.name);
    const std::string* value = nullptr;
    std::string source;
    if (auto it = flags.find(setting.name); it != flags.end()) {
      value = &it->second;
      source = "--" + std::string(setting.name);
      std::replace(source.begin(), source.end(), '_', '-');
    } else if (auto e = env.find(env_name); e != env.end() && !e->second.empty()) {
      value = &e->second;
      source = env_name;
    } else if (auto f = file.find(setting.name); f != file.end()) {
      value = &f->second;
      source = "the config file";
    }
    if (value == nullptr) continue;
    Status s = setting.apply(*value, &options);
    if (!s.ok()) {
      return Status::InvalidArgument(s.message() + " (from " + source + ")", setting.name);
    }
    if (std::string_view(setting.name) == "probe_interval_ms") options.probe_interval_given = true;
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    const char* missing = options.tls_cert.empty() ? "tls_cert" : "tls_key";
    return Status::InvalidArgument("HTTPS needs both tls_cert and tls_key", missing);
  }
  return options;
}

}  // namespace gpuq
