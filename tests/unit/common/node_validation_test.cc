#include "common/node_validation.h"

#include <gtest/gtest.h>

#include "common/shell_quote.h"

namespace gpuq {
namespace {

struct Case {
  const char* input;
  bool ok;
};

TEST(NodeValidationTest, Names) {
  const Case cases[] = {
      {"node1", true},  {"gpu-01.lab", true}, {"a_b", true}, {"", false},
      {"-x", false},    {"has space", false}, {"n;rm", false},
      {"0123456789012345678901234567890123456789012345678901234567890123", true},
      {"01234567890123456789012345678901234567890123456789012345678901234", false},
  };
  for (const Case& c : cases) {
    Status s = ValidateNodeName(c.input);
    EXPECT_EQ(s.ok(), c.ok) << c.input;
    if (!s.ok()) {
      EXPECT_EQ(s.field(), "name");
    }
  }
}

TEST(NodeValidationTest, Hosts) {
  const Case cases[] = {{"127.0.0.11", true}, {"gpu1.lab.example", true}, {"::1", true},
                        {"", false},          {"-oProxyCommand=x", false}, {"a b", false},
                        {"a\nb", false}};
  for (const Case& c : cases) EXPECT_EQ(ValidateNodeHost(c.input).ok(), c.ok) << c.input;
  EXPECT_EQ(ValidateNodeHost("").field(), "host");
}

TEST(NodeValidationTest, Ports) {
  EXPECT_TRUE(ValidateNodePort(22).ok());
  EXPECT_TRUE(ValidateNodePort(65535).ok());
  EXPECT_FALSE(ValidateNodePort(0).ok());
  EXPECT_EQ(ValidateNodePort(70000).field(), "port");
}

TEST(NodeValidationTest, Probes) {
  const Case cases[] = {{"nvidia-smi", true},        {"gpustat", true},
                        {"/opt/sim/nvidia-smi", true}, {"/path with space/smi", true},
                        {"nvidia-smi -L", false},     {"relative/smi", false},
                        {"/bin/x\nrm -rf /", false},  {"", false}};
  for (const Case& c : cases) EXPECT_EQ(ValidateProbe(c.input).ok(), c.ok) << c.input;
  EXPECT_EQ(ValidateProbe("x").field(), "probe");
}

TEST(ShellQuoteTest, QuotesEveryByteLiterally) {
  EXPECT_EQ(ShellQuote("plain"), "'plain'");
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote("$HOME `id` \"x\"\n"), "'$HOME `id` \"x\"\n'");
}

}  // namespace
}  // namespace gpuq
