#include "master/notify/notify_settings.h"

#include <gtest/gtest.h>

#include "master/store/settings_store.h"
#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

using nlohmann::json;

class NotifySettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = store_test::OpenMemoryDb();
    startup_.smtp.host = "smtp.env";
    startup_.smtp.from = "env@lab.org";
    startup_.public_url = "http://gpuq:8000";
  }
  Status Update(const std::string& body) {
    return UpdateNotifySettings(db_.get(), &clock_, &box_, json::parse(body));
  }
  NotifySettings Load() { return *LoadNotifySettings(db_.get(), &clock_, &box_, startup_); }

  FakeClock clock_;
  SecretBox box_ = SecretBox::FromKeyForTesting(std::string(SecretBox::kKeyBytes, 's'));
  std::unique_ptr<Database> db_;
  NotifySettings startup_;
};

TEST_F(NotifySettingsTest, StoredValuesOverrideStartupAndNullGoesBack) {
  ASSERT_TRUE(Update(R"({"smtp": {"host": "mail.lab", "port": 2525, "security": "starttls",
                                    "user": "bot", "password": "pw", "from": "gpuq@lab.org"},
                         "public_url": "https://gpuq.lab/", "gpu_idle_minutes": 15})")
                  .ok());
  NotifySettings s = Load();
  EXPECT_EQ(s.smtp.host, "mail.lab");
  EXPECT_EQ(s.smtp.EffectivePort(), 2525);
  EXPECT_EQ(s.smtp.security, "starttls");
  EXPECT_EQ(s.smtp.user, "bot");
  EXPECT_EQ(s.smtp.password, "pw");
  EXPECT_EQ(s.smtp.from, "gpuq@lab.org");
  EXPECT_EQ(s.public_url, "https://gpuq.lab");  // no trailing slash in links
  EXPECT_EQ(s.gpu_idle_minutes, 15);

  ASSERT_TRUE(Update(R"({"smtp": {"host": null, "port": null, "from": ""}})").ok());
  s = Load();
  EXPECT_EQ(s.smtp.host, "smtp.env");
  EXPECT_EQ(s.smtp.from, "env@lab.org");
  EXPECT_EQ(s.smtp.EffectivePort(), 587);  // starttls's port
  EXPECT_EQ(s.smtp.user, "bot");           // absent: unchanged
}

TEST_F(NotifySettingsTest, ThePasswordIsStoredSealedAndNeverShown) {
  ASSERT_TRUE(Update(R"({"smtp": {"password": "hunter2-secret"}})").ok());
  std::map<std::string, std::string> raw = *SettingsStore(db_.get(), &clock_).All();
  ASSERT_EQ(raw.count("notify.smtp_password"), 1u);
  EXPECT_EQ(raw["notify.smtp_password"].find("hunter2"), std::string::npos);
  json shown = NotifySettingsJson(db_.get(), &clock_, &box_, startup_);
  EXPECT_EQ(shown.dump().find("hunter2"), std::string::npos);
  EXPECT_EQ(shown["smtp"]["password_set"], true);
  EXPECT_EQ(shown["source"]["smtp_password"], "settings");
  EXPECT_EQ(shown["source"]["smtp_host"], "startup");

  // Another key cannot open it: an error, not a blank password.
  SecretBox other = SecretBox::FromKeyForTesting(std::string(SecretBox::kKeyBytes, 'o'));
  EXPECT_EQ(LoadNotifySettings(db_.get(), &clock_, &other, startup_).status().code(),
            ErrorCode::kCorruption);
}

TEST_F(NotifySettingsTest, BadInputNamesTheFieldAndWritesNothing) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"smtp": {"host": "ok.lab", "port": 0}})", "smtp.port"},
      {R"({"smtp": {"host": "ok.lab", "port": "25"}})", "smtp.port"},
      {R"({"smtp": {"host": "ok.lab", "security": "ssl"}})", "smtp.security"},
      {R"({"smtp": {"host": "a b"}})", "smtp.host"},
      {R"({"smtp": {"host": "ok.lab", "from": "two@a.org, three@b.org"}})", "smtp.from"},
      {R"({"smtp": {"host": "ok.lab", "from": "no-at-sign"}})", "smtp.from"},
      {R"({"smtp": {"host": "ok.lab", "user": 5}})", "smtp.user"},
      {R"({"smtp": {"host": "ok.lab", "tls": true}})", "smtp.tls"},
      {R"({"smtp": "mail.lab"})", "smtp"},
      {R"({"public_url": "ftp://x"})", "public_url"},
      {R"({"gpu_idle_minutes": -1})", "gpu_idle_minutes"},
      {R"({"gpu_idle_minutes": "30"})", "gpu_idle_minutes"},
      {R"({"colour": "red"})", "colour"},
  };
  for (const Case& c : cases) {
    Status s = Update(c.body);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << c.body;
    EXPECT_EQ(s.field(), c.field) << c.body << ": " << s.ToString();
    // The check alone (the panel's) says the same.
    Status checked = CheckNotifySettings(json::parse(c.body));
    EXPECT_EQ(checked.code(), ErrorCode::kInvalidArgument) << c.body;
    EXPECT_EQ(checked.field(), c.field) << c.body;
  }
  EXPECT_TRUE(SettingsStore(db_.get(), &clock_).All()->empty());
}

TEST_F(NotifySettingsTest, CheckAcceptsWhatUpdateStoresAndStoresNothing) {
  const char* body = R"({"smtp": {"host": "mail.lab", "port": 2525, "password": "pw"},
                         "gpu_idle_minutes": 0.5, "public_url": null})";
  EXPECT_TRUE(CheckNotifySettings(json::parse(body)).ok());
  EXPECT_TRUE(SettingsStore(db_.get(), &clock_).All()->empty());
  EXPECT_TRUE(Update(body).ok());
}

TEST(SmtpConfigTest, PortFollowsSecurityUnlessSet) {
  SmtpConfig smtp;
  EXPECT_EQ(smtp.EffectivePort(), 25);
  smtp.security = "tls";
  EXPECT_EQ(smtp.EffectivePort(), 465);
  smtp.port = 2465;
  EXPECT_EQ(smtp.EffectivePort(), 2465);
}

}  // namespace
}  // namespace gpuq
