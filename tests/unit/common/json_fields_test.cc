#include "common/json_fields.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

TEST(JsonFieldsTest, ParseObjectRejectsNonObjects) {
  EXPECT_FALSE(JsonFields::ParseObject("{").ok());
  EXPECT_FALSE(JsonFields::ParseObject("[1]").ok());
  EXPECT_TRUE(JsonFields::ParseObject("{\"a\":1}").ok());
}

TEST(JsonFieldsTest, TypedFieldsNameTheFieldOnError) {
  nlohmann::json j = {{"name", "n1"}, {"port", "22"}, {"big", 70000}, {"flag", 1}, {"none", nullptr}};
  JsonFields f(j);
  EXPECT_EQ(**f.String("name"), "n1");
  EXPECT_FALSE(f.String("missing")->has_value());
  EXPECT_FALSE(f.String("none")->has_value());
  auto port = f.Int("port", 1, 65535);
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().field(), "port");
  EXPECT_EQ(port.status().message(), "must be an integer");
  EXPECT_EQ(f.Int("big", 1, 65535).status().message(), "must be between 1 and 65535");
  EXPECT_EQ(f.Bool("flag").status().field(), "flag");
  EXPECT_EQ(f.RequiredString("missing").status().message(), "is required");
  EXPECT_EQ(f.String("name", 1).status().message(), "must be at most 1 bytes");
}

TEST(JsonFieldsTest, RejectUnknownNamesTheTypo) {
  nlohmann::json j = {{"name", "n1"}, {"prot", 22}};
  Status s = JsonFields(j).RejectUnknown({"name", "port"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.field(), "prot");
}

}  // namespace
}  // namespace gpuq
