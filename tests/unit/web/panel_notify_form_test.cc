#include "web/panel_notify_form.h"

#include <gtest/gtest.h>

#include "master/notify/notify_settings.h"
#include "web/notify_actions.h"

namespace gpuq {
namespace {

using nlohmann::json;

// What NotifySettingsJson shows for a master started with an SMTP host and nothing stored
// but the port.
json Shown() {
  return json::parse(R"({"smtp": {"host": "smtp.env", "port": 2525, "security": "none",
                                  "user": "", "password_set": true, "from": "env@lab.org",
                                  "enabled": true},
                         "public_url": "http://gpuq:8000", "gpu_idle_minutes": 30,
                         "source": {"smtp_host": "startup", "smtp_port": "settings",
                                    "smtp_password": "startup"}})");
}

TEST(PanelNotifyFormTest, TheFormShowsTheSettingsInEffectAndWhereEachComesFrom) {
  FormText text = NotifySettingsFormText(Shown());
  EXPECT_EQ(text["smtp.host"], "smtp.env");
  EXPECT_EQ(text["smtp.port"], "2525");
  EXPECT_EQ(text["smtp.security"], "none");
  EXPECT_EQ(text["smtp.user"], "");
  EXPECT_EQ(text["public_url"], "http://gpuq:8000");
  EXPECT_EQ(text["gpu_idle_minutes"], "30");
  EXPECT_EQ(text.count("smtp.password"), 0u);  // write-only
  json half = Shown();
  half["gpu_idle_minutes"] = 0.5;
  EXPECT_EQ(NotifySettingsFormText(half)["gpu_idle_minutes"], "0.5");
  EXPECT_EQ(NotifySettingSource(Shown(), "smtp.host"), "startup");
  EXPECT_EQ(NotifySettingSource(Shown(), "smtp.port"), "settings");
  EXPECT_EQ(NotifySettingSource(Shown(), "smtp.user"), "");
}

TEST(PanelNotifyFormTest, OnlyWhatTheAdminChangedIsSent) {
  const FormText shown = NotifySettingsFormText(Shown());
  // Saved as shown: nothing changes, so startup values stay startup values.
  EXPECT_EQ(NotifySettingsBody(shown, shown, "", false), json::object());

  FormText typed = shown;
  typed["smtp.host"] = "  mail.lab ";  // trimmed
  typed["smtp.port"] = "";             // back to the startup value
  typed["gpu_idle_minutes"] = "1.5";
  typed["smtp.security"] = "starttls";
  EXPECT_EQ(NotifySettingsBody(typed, shown, "", false),
            json::parse(R"({"smtp": {"host": "mail.lab", "port": null, "security": "starttls"},
                            "gpu_idle_minutes": 1.5})"));

  typed = shown;
  typed["smtp.port"] = "587";
  EXPECT_EQ(NotifySettingsBody(typed, shown, "", false)["smtp"]["port"], 587);
}

TEST(PanelNotifyFormTest, ThePasswordIsKeptReplacedOrCleared) {
  const FormText shown = NotifySettingsFormText(Shown());
  EXPECT_FALSE(NotifySettingsBody(shown, shown, "", false).contains("smtp"));
  EXPECT_EQ(NotifySettingsBody(shown, shown, " p w ", false)["smtp"]["password"], " p w ");
  EXPECT_TRUE(NotifySettingsBody(shown, shown, "", true)["smtp"]["password"].is_null());
  // Typed text wins over the "clear" box.
  EXPECT_EQ(NotifySettingsBody(shown, shown, "new", true)["smtp"]["password"], "new");
}

// The form passes on what is not a number as text, and the API's own check names every
// wrong field when the body is checked one field at a time.
TEST(PanelNotifyFormTest, EveryWrongFieldIsNamedByTheApisCheck) {
  const FormText shown = NotifySettingsFormText(Shown());
  FormText typed = shown;
  typed["smtp.port"] = "25x";
  typed["gpu_idle_minutes"] = "soon";
  typed["smtp.from"] = "not-an-address";
  typed["public_url"] = "ftp://files";
  typed["smtp.host"] = "good.lab";
  typed["smtp.security"] = "ssl";
  json body = NotifySettingsBody(typed, shown, "", false);
  EXPECT_EQ(body["smtp"]["port"], "25x");
  EXPECT_EQ(body["gpu_idle_minutes"], "soon");
  std::map<std::string, std::string> errors;
  std::vector<std::string> checked;
  for (const auto& [field, one] : SplitNotifySettingsBody(body)) {
    checked.push_back(field);
    Status s = CheckNotifySettings(one);
    if (!s.ok()) errors[s.field()] = s.message();
  }
  EXPECT_EQ(checked.size(), 6u);
  EXPECT_EQ(errors.size(), 5u);
  for (const char* field :
       {"smtp.port", "gpu_idle_minutes", "smtp.from", "public_url", "smtp.security"}) {
    EXPECT_TRUE(errors.count(field)) << field;
  }
  EXPECT_FALSE(errors.count("smtp.host"));
  EXPECT_FALSE(CheckNotifySettings(body).ok());
}

TEST(PanelNotifyFormTest, SplitGivesOneBodyPerFieldNamedAsTheApiNamesIt) {
  auto parts = SplitNotifySettingsBody(
      json::parse(R"({"smtp": {"host": "a", "port": null}, "public_url": "http://x"})"));
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].first, "public_url");
  EXPECT_EQ(parts[0].second, json::parse(R"({"public_url": "http://x"})"));
  EXPECT_EQ(parts[1].first, "smtp.host");
  EXPECT_EQ(parts[1].second, json::parse(R"({"smtp": {"host": "a"}})"));
  EXPECT_EQ(parts[2].first, "smtp.port");
  EXPECT_EQ(parts[2].second, json::parse(R"({"smtp": {"port": null}})"));
  EXPECT_TRUE(SplitNotifySettingsBody(json::object()).empty());
}

TEST(PanelNotifyFormTest, TheTargetFormIsReadByTheApisTargetCheck) {
  TargetForm form;
  form.name = "  lab chat ";
  form.address = " https://hooks.lab/x ";
  form.format = "slack";
  NotifyTargetRow row;
  ASSERT_TRUE(ReadNotifyTarget(TargetBody(form), &row).ok());
  EXPECT_EQ(row.name, "lab chat");
  EXPECT_EQ(row.address, "https://hooks.lab/x");
  EXPECT_EQ(row.kind, "webhook");
  EXPECT_EQ(row.format, "slack");
  EXPECT_EQ(row.events, (std::vector<std::string>{"task_failed", "node_down"}));
  EXPECT_TRUE(row.enabled);

  struct Case {
    const char* kind;
    const char* address;
    const char* format;
    std::vector<std::string> events;
    const char* field;
  } cases[] = {
      {"webhook", "", "generic", {}, "address"},
      {"webhook", "hooks.lab/x", "generic", {}, "address"},
      {"email", "https://hooks.lab/x", "generic", {}, "address"},
      {"pager", "x@lab.org", "generic", {}, "kind"},
      {"webhook", "https://hooks.lab/x", "teams", {}, "format"},
      {"webhook", "https://hooks.lab/x", "generic", {"run_ended", "lunch"}, "events"},
  };
  for (const Case& c : cases) {
    TargetForm f;
    f.kind = c.kind;
    f.address = c.address;
    f.format = c.format;
    f.events = c.events;
    NotifyTargetRow t;
    Status s = ReadNotifyTarget(TargetBody(f), &t);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << c.address;
    EXPECT_EQ(s.field(), c.field) << c.address << ": " << s.ToString();
  }
}

TEST(PanelNotifyFormTest, MyNotificationsBodyTrimsTheAddress) {
  EXPECT_EQ(MyNotificationsBody(" me@lab.org\n", "failure"),
            json::parse(R"({"email": "me@lab.org", "notify_default": "failure"})"));
}

}  // namespace
}  // namespace gpuq
