#ifndef GPUQ_WEB_PANEL_NOTIFY_FORM_H_
#define GPUQ_WEB_PANEL_NOTIFY_FORM_H_

// The panel's notification forms, as the browser sends them (text), turned into the JSON
// bodies the API takes, so that the panel saves through the API's own code
// (web/notify_actions.h) and its errors name the same fields. Pure; never throws.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace gpuq {

// The settings form's fields, named as the API names them (and its errors' `field`). The
// SMTP password is not among them: it is write-only (NotifySettingsBody).
inline constexpr const char* kNotifySettingsFields[] = {
    "smtp.host", "smtp.port",  "smtp.security",   "smtp.user",
    "smtp.from", "public_url", "gpu_idle_minutes"};
inline constexpr char kSmtpPasswordField[] = "smtp.password";

// Form field -> text.
using FormText = std::map<std::string, std::string>;

// The text each field shows for the settings in effect (NotifySettingsJson's output).
FormText NotifySettingsFormText(const nlohmann::json& shown);
// Where the value of a form field comes from: "startup" or "settings" (NotifySettingsJson's
// `source`, whose keys use '_' for '.'); "" when not known.
std::string NotifySettingSource(const nlohmann::json& shown, const std::string& field);

// The PUT /api/v1/settings/notifications body for what the admin changed: every field whose
// text (trimmed) differs from what the form showed (`shown`), so a field left alone keeps
// coming from where it came from. An emptied field is null: back to the startup value. A port
// or a number of minutes that is not a number is passed on as text for the API's own check
// to refuse. The password: typed text replaces the stored one, "" keeps it, and
// `clear_password` (with nothing typed) goes back to the startup one.
nlohmann::json NotifySettingsBody(const FormText& typed, const FormText& shown,
                                  const std::string& password, bool clear_password);

// `body` cut into one body per field, each with its form field name, so that each can be
// checked alone and every wrong field named at once: {"smtp": {"port": 0}} -> "smtp.port".
std::vector<std::pair<std::string, nlohmann::json>> SplitNotifySettingsBody(
    const nlohmann::json& body);

// The new-target form, as typed.
struct TargetForm {
  std::string name, kind = "webhook", address, format = "generic";
  // Pre-ticked on an empty form: the events an admin is most likely to want pushed.
  std::vector<std::string> events = {"task_failed", "node_down"};
  std::map<std::string, std::string> errors;  // by field, as the API names them
};
// The POST /api/v1/notify/targets body (name and address trimmed, enabled).
nlohmann::json TargetBody(const TargetForm& form);

// The PUT /api/v1/me/notifications body from the account page (the address trimmed).
nlohmann::json MyNotificationsBody(const std::string& email, const std::string& notify_default);

}  // namespace gpuq

#endif  // GPUQ_WEB_PANEL_NOTIFY_FORM_H_
