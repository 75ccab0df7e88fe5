#include "master/notify/notify_settings.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "common/base64.h"
#include "master/store/settings_store.h"

namespace gpuq {
namespace {

constexpr char kPrefix[] = "notify.";

std::string Key(const char* name) { return std::string(kPrefix) + name; }

bool HasBadChars(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == ' ' || c == '\t' || c == '\0') return true;
  }
  return false;
}

// The stored values (without prefix) this module owns.
Result<std::map<std::string, std::string>> Stored(Database* db, Clock* clock) {
  Result<std::map<std::string, std::string>> all = SettingsStore(db, clock).All();
  if (!all.ok()) return all.status();
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : *all) {
    if (key.rfind(kPrefix, 0) == 0) out[key.substr(sizeof(kPrefix) - 1)] = value;
  }
  return out;
}

}  // namespace

int SmtpConfig::EffectivePort() const {
  if (port != 0) return port;
  if (security == "tls") return 465;
  if (security == "starttls") return 587;
  return 25;
}

Status ValidateEmailAddress(std::string_view address, const std::string& field) {
  size_t at = address.find('@');
  if (address.empty() || address.size() > 254 || at == std::string_view::npos || at == 0 ||
      at + 1 == address.size() || address.find('@', at + 1) != std::string_view::npos ||
      HasBadChars(address) || address.find_first_of("<>,;\"") != std::string_view::npos) {
    return Status::InvalidArgument("must be one e-mail address, like name@example.org", field);
  }
  return Status::Ok();
}

Status ValidateHttpUrl(std::string_view url, const std::string& field) {
  bool scheme = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
  size_t host_start = url.find("://");
  if (!scheme || url.size() > 2048 || HasBadChars(url) || host_start + 3 >= url.size()) {
    return Status::InvalidArgument("must be an http:// or https:// URL", field);
  }
  return Status::Ok();
}

Status ValidateSmtpSecurity(std::string_view security, const std::string& field) {
  if (security == "none" || security == "starttls" || security == "tls") return Status::Ok();
  return Status::InvalidArgument("must be \"none\", \"starttls\" or \"tls\"", field);
}

Result<NotifySettings> LoadNotifySettings(Database* db, Clock* clock, const SecretBox* secrets,
                                          const NotifySettings& startup) {
  Result<std::map<std::string, std::string>> stored = Stored(db, clock);
  if (!stored.ok()) return stored.status();
  NotifySettings s = startup;
  auto get = [&](const char* name) -> const std::string* {
    auto it = stored->find(name);
    return it == stored->end() ? nullptr : &it->second;
  };
  if (auto v = get("smtp_host")) s.smtp.host = *v;
  if (auto v = get("smtp_port")) s.smtp.port = std::atoi(v->c_str());
  if (auto v = get("smtp_security")) s.smtp.security = *v;
  if (auto v = get("smtp_user")) s.smtp.user = *v;
  if (auto v = get("smtp_from")) s.smtp.from = *v;
  if (auto v = get("public_url")) s.public_url = *v;
  if (auto v = get("gpu_idle_minutes")) s.gpu_idle_minutes = std::atof(v->c_str());
  if (auto v = get("smtp_password")) {
    Result<std::string> sealed = Base64Decode(*v);
    if (!sealed.ok()) return Status::Corruption("the stored SMTP password is not base64");
    Result<std::string> password = secrets->Open(*sealed);
    if (!password.ok()) {
      return Status::Corruption(
          "the stored SMTP password cannot be decrypted with this "
          "secret.key; set it again");
    }
    s.smtp.password = *password;
  }
  while (!s.public_url.empty() && s.public_url.back() == '/') s.public_url.pop_back();
  return s;
}

namespace {

// Stored name ("smtp_host") -> value to store; nullopt: delete (back to the startup value).
using SettingChanges = std::map<std::string, std::optional<std::string>>;

// Checks every field of `body` and says what storing it changes (the password not yet sealed).
Result<SettingChanges> ReadSettingChanges(const nlohmann::json& body) {
  SettingChanges changes;
  // `field` is the API's name ("smtp.host"); the stored key is the same with '_' for '.'.
  auto string_field = [&](const nlohmann::json& obj, const char* name, const std::string& field,
                          size_t max_len, auto validate) -> Status {
    std::string key = field;
    std::replace(key.begin(), key.end(), '.', '_');
    auto it = obj.find(name);
    if (it == obj.end()) return Status::Ok();
    if (it->is_null() || (it->is_string() && it->get<std::string>().empty())) {
      changes[key] = std::nullopt;
      return Status::Ok();
    }
    if (!it->is_string()) return Status::InvalidArgument("must be a string", field);
    std::string v = it->get<std::string>();
    if (v.size() > max_len) {
      return Status::InvalidArgument("must be at most " + std::to_string(max_len) + " characters",
                                     field);
    }
    GPUQ_RETURN_IF_ERROR(validate(v));
    changes[key] = v;
    return Status::Ok();
  };
  auto any = [](const std::string&) { return Status::Ok(); };

  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() != "smtp" && it.key() != "public_url" && it.key() != "gpu_idle_minutes") {
      return Status::InvalidArgument("unknown field", it.key());
    }
  }
  if (auto smtp = body.find("smtp"); smtp != body.end() && !smtp->is_null()) {
    if (!smtp->is_object()) return Status::InvalidArgument("must be an object", "smtp");
    for (auto it = smtp->begin(); it != smtp->end(); ++it) {
      static const char* known[] = {"host", "port", "security", "user", "password", "from"};
      bool ok = false;
      for (const char* k : known) ok = ok || it.key() == k;
      if (!ok) return Status::InvalidArgument("unknown field", "smtp." + it.key());
    }
    GPUQ_RETURN_IF_ERROR(string_field(*smtp, "host", "smtp.host", 253, [](const std::string& v) {
      return HasBadChars(v) || v.find_first_of("/@:") != std::string::npos
                 ? Status::InvalidArgument("must be a host name or address", "smtp.host")
                 : Status::Ok();
    }));
    if (auto port = smtp->find("port"); port != smtp->end()) {
      if (port->is_null()) {
        changes["smtp_port"] = std::nullopt;
      } else if (!port->is_number_integer() || port->get<int64_t>() < 1 ||
                 port->get<int64_t>() > 65535) {
        return Status::InvalidArgument("must be a whole number from 1 to 65535", "smtp.port");
      } else {
        changes["smtp_port"] = std::to_string(port->get<int64_t>());
      }
    }
    GPUQ_RETURN_IF_ERROR(string_field(
        *smtp, "security", "smtp.security", 16,
        [](const std::string& v) { return ValidateSmtpSecurity(v, "smtp.security"); }));
    GPUQ_RETURN_IF_ERROR(string_field(*smtp, "user", "smtp.user", 256, any));
    GPUQ_RETURN_IF_ERROR(string_field(*smtp, "password", "smtp.password", 1024, any));
    GPUQ_RETURN_IF_ERROR(string_field(*smtp, "from", "smtp.from", 254, [](const std::string& v) {
      return ValidateEmailAddress(v, "smtp.from");
    }));
  }
  GPUQ_RETURN_IF_ERROR(
      string_field(body, "public_url", "public_url", 2048,
                   [](const std::string& v) { return ValidateHttpUrl(v, "public_url"); }));
  if (auto idle = body.find("gpu_idle_minutes"); idle != body.end()) {
    if (idle->is_null()) {
      changes["gpu_idle_minutes"] = std::nullopt;
    } else if (!idle->is_number() || !std::isfinite(idle->get<double>()) ||
               idle->get<double>() < 0 || idle->get<double>() > 10080) {
      return Status::InvalidArgument("must be a number of minutes from 0 (off) to 10080",
                                     "gpu_idle_minutes");
    } else {
      changes["gpu_idle_minutes"] = nlohmann::json(idle->get<double>()).dump();
    }
  }
  return changes;
}

}  // namespace

Status CheckNotifySettings(const nlohmann::json& body) { return ReadSettingChanges(body).status(); }

Status UpdateNotifySettings(Database* db, Clock* clock, const SecretBox* secrets,
                            const nlohmann::json& body) {
  Result<SettingChanges> read = ReadSettingChanges(body);
  if (!read.ok()) return read.status();
  SettingChanges& changes = *read;
  if (auto pw = changes.find("smtp_password"); pw != changes.end() && pw->second) {
    pw->second = Base64Encode(secrets->Seal(*pw->second));
  }

  SettingsStore store(db, clock);
  return db->Tx([&](Connection&) -> Status {
    for (const auto& [name, value] : changes) {
      GPUQ_RETURN_IF_ERROR(value ? store.Set(Key(name.c_str()), *value)
                                 : store.Delete(Key(name.c_str())));
    }
    return Status::Ok();
  });
}

nlohmann::json NotifySettingsJson(Database* db, Clock* clock, const SecretBox* secrets,
                                  const NotifySettings& startup) {
  Result<std::map<std::string, std::string>> stored = Stored(db, clock);
  Result<NotifySettings> s = LoadNotifySettings(db, clock, secrets, startup);
  NotifySettings effective = s.ok() ? *s : startup;
  nlohmann::json source = nlohmann::json::object();
  for (const char* key : kNotifySettingKeys) {
    source[key] = stored.ok() && stored->count(key) ? "settings" : "startup";
  }
  nlohmann::json out = {{"smtp",
                         {{"host", effective.smtp.host},
                          {"port", effective.smtp.EffectivePort()},
                          {"security", effective.smtp.security},
                          {"user", effective.smtp.user},
                          {"password_set", !effective.smtp.password.empty()},
                          {"from", effective.smtp.from},
                          {"enabled", effective.smtp.enabled()}}},
                        {"public_url", effective.public_url},
                        {"gpu_idle_minutes", effective.gpu_idle_minutes},
                        {"source", source}};
  if (!s.ok()) out["error"] = s.status().message();
  return out;
}

}  // namespace gpuq
