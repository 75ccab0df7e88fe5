#ifndef GPUQ_MASTER_NOTIFY_NOTIFY_SETTINGS_H_
#define GPUQ_MASTER_NOTIFY_NOTIFY_SETTINGS_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "master/secrets/secret_box.h"
#include "master/store/database.h"

namespace gpuq {

// How e-mail leaves: an SMTP server, plain, upgraded with STARTTLS, or TLS from the start.
struct SmtpConfig {
  std::string host;               // empty: e-mail is off
  int port = 0;                   // 0: 25 (none), 587 (starttls) or 465 (tls)
  std::string security = "none";  // none, starttls, tls
  std::string user;               // empty: no AUTH
  std::string password;
  std::string from;  // the From: address; required when host is set

  bool enabled() const { return !host.empty(); }
  int EffectivePort() const;
};

// Notification settings in effect: the admin panel's stored values (the settings table) over
// the master's startup values (flag > GPUQ_* environment > config file > default).
struct NotifySettings {
  SmtpConfig smtp;
  std::string public_url;        // links in messages: <public_url>/admin/tasks/<id>
  double gpu_idle_minutes = 30;  // a GPU held by a run and idle this long is reported; 0: off
};

// The settings keys (the settings table) this module owns, without the "notify." prefix.
inline constexpr const char* kNotifySettingKeys[] = {
    "smtp_host",     "smtp_port", "smtp_security", "smtp_user",
    "smtp_password", "smtp_from", "public_url",    "gpu_idle_minutes"};

// Applies the stored settings over `startup`. The stored SMTP password is sealed with
// `secrets`; one that cannot be opened is an error (kCorruption), never a silent blank.
Result<NotifySettings> LoadNotifySettings(Database* db, Clock* clock, const SecretBox* secrets,
                                          const NotifySettings& startup);

// Validates every field of `body` (a PUT of /api/v1/settings/notifications: smtp.{host, port,
// security, user, password, from}, public_url, gpu_idle_minutes) and only then stores them
// all in one transaction. A field set to null or "" goes back to its startup value; an absent
// field is left as it is. Errors name the field ("smtp.port").
Status UpdateNotifySettings(Database* db, Clock* clock, const SecretBox* secrets,
                            const nlohmann::json& body);

// Checks `body` exactly as UpdateNotifySettings does, storing nothing (the panel uses it to
// name every wrong field at once, one field per call).
Status CheckNotifySettings(const nlohmann::json& body);

// The settings as the API shows them: the password never, only whether one is set; and per
// field whether it comes from the panel ("settings") or from the master's start ("startup").
nlohmann::json NotifySettingsJson(Database* db, Clock* clock, const SecretBox* secrets,
                                  const NotifySettings& startup);

// One address, as SMTP takes it: local@domain, no spaces, angle brackets or line breaks.
// InvalidArgument naming `field`.
Status ValidateEmailAddress(std::string_view address, const std::string& field);
// An http:// or https:// URL without spaces or line breaks. InvalidArgument naming `field`.
Status ValidateHttpUrl(std::string_view url, const std::string& field);

// InvalidArgument naming `field` for a
// security other than none, starttls or tls.
Status ValidateSmtpSecurity(std::string_view security, const std::string& field);

}  // namespace gpuq

#endif  // GPUQ_MASTER_NOTIFY_NOTIFY_SETTINGS_H_
