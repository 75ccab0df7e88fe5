#include "web/i18n.h"

#include <gtest/gtest.h>

#include "common/embedded_file.h"

namespace gpuq {

extern const EmbeddedFile kPanelI18n[];
extern const int kPanelI18nCount;

namespace {

TEST(I18nTest, ParseCatalogueReadsKeyEqualsTextLines) {
  auto m = ParseCatalogue("# comment\nnav.a = Alpha\n\n  nav.b =  Beta = B  \nbroken line\n");
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m["nav.a"], "Alpha");
  EXPECT_EQ(m["nav.b"], "Beta = B");
}

TEST(I18nTest, PickLanguagePrefersTheUsersChoiceThenTheBrowsers) {
  struct Case {
    const char* user;
    const char* accept;
    const char* want;
  } cases[] = {
      {"zh", "en-US,en;q=0.9", "zh"},
      {"en", "zh-CN,zh;q=0.9", "en"},
      {"", "zh-CN,zh;q=0.9,en;q=0.8", "zh"},
      {"", "en-GB,en;q=0.9,zh;q=0.8", "en"},
      {"", "fr-FR,fr;q=0.9,zh-TW;q=0.5,en;q=0.4", "zh"},
      {"", "de, en;q=0.3, zh;q=0.7", "zh"},
      {"", "ZH-cn", "zh"},
      {"", "fr", "en"},
      {"", "", "en"},
      {"", "zh;q=0", "en"},  // q=0 means "not this one"
      {"", ";;;,,q=", "en"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PickLanguage(c.user, c.accept), c.want) << c.user << " / " << c.accept;
  }
}

TEST(I18nTest, LooksUpAndFallsBackToEnglishThenTheKey) {
  Translator zh("zh");
  Translator en("en");
  EXPECT_EQ(en("nav.tasks"), "Tasks");
  EXPECT_EQ(zh("nav.tasks"), "任务");
  EXPECT_EQ(zh("no.such.key"), "no.such.key");
  EXPECT_EQ(Translator("fr").lang(), "en");
}

// Every message has both languages: a key only in one catalogue is a missing translation.
TEST(I18nTest, BothCataloguesHoldTheSameKeys) {
  ASSERT_EQ(kPanelI18nCount, 2);
  auto a = ParseCatalogue(kPanelI18n[0].contents);
  auto b = ParseCatalogue(kPanelI18n[1].contents);
  EXPECT_GT(a.size(), 100u);
  for (const auto& [key, text] : a)
    EXPECT_TRUE(b.count(key)) << key << " missing in " << kPanelI18n[1].name;
  for (const auto& [key, text] : b)
    EXPECT_TRUE(a.count(key)) << key << " missing in " << kPanelI18n[0].name;
}

}  // namespace
}  // namespace gpuq
