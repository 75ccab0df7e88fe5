#include "master/store/settings_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

using store_test::StoreTest;
using ::testing::ElementsAre;
using ::testing::Pair;

TEST_F(StoreTest, SettingsGetSetDeleteAll) {
  SettingsStore settings(db_.get(), &clock_);
  EXPECT_EQ(settings.Get("smtp.host").value(), std::nullopt);
  ASSERT_TRUE(settings.Set("smtp.host", "mail.lab").ok());
  ASSERT_TRUE(settings.Set("a.first", "").ok());
  EXPECT_EQ(settings.Get("smtp.host").value(), "mail.lab");
  EXPECT_EQ(settings.Get("a.first").value(), "") << "an empty value is still set";

  ASSERT_TRUE(settings.Set("smtp.host", "smtp.lab").ok());
  EXPECT_EQ(settings.Get("smtp.host").value(), "smtp.lab");
  EXPECT_THAT(settings.All().value(),
              ElementsAre(Pair("a.first", ""), Pair("smtp.host", "smtp.lab")));

  ASSERT_TRUE(settings.Delete("smtp.host").ok());
  ASSERT_TRUE(settings.Delete("never.set").ok());
  EXPECT_EQ(settings.Get("smtp.host").value(), std::nullopt);
  EXPECT_THAT(settings.All().value(), ElementsAre(Pair("a.first", "")));
}

}  // namespace
}  // namespace gpuq
