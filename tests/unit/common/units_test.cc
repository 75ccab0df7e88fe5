#include "common/units.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

TEST(ParseMemMibTest, ReadsEveryUnitSpelling) {
  const struct {
    const char* text;
    int64_t mib;
  } kCases[] = {
      {"8000", 8000},      {"0", 0},        {"8G", 8192},   {"8g", 8192},    {"8GB", 8192},
      {"8gib", 8192},      {"8GiB", 8192},  {"512M", 512},  {"512mb", 512},  {"512MiB", 512},
      {"1.5G", 1536},      {"1.25g", 1280}, {"0.5M", 1},    {"1K", 1},       {"2048k", 2},
      {"2049KiB", 3},      {"1T", 1048576}, {" 8G ", 8192}, {"8 GiB", 8192}, {"80.0G", 81920},
      {"1.000001G", 1025},
  };
  for (const auto& c : kCases) {
    Result<int64_t> mib = ParseMemMib(c.text);
    ASSERT_TRUE(mib.ok()) << c.text << ": " << mib.status().ToString();
    EXPECT_EQ(*mib, c.mib) << c.text;
  }
}

TEST(ParseMemMibTest, RefusesWhatIsNotASize) {
  for (const char* text : {"", " ", "G", "8X", "8GG", "-1", "-1G", "1.G", ".5G", "8 G B", "8  G",
                           "1e3", "8,5G", "1.0000001G", "0x10", "8Gb2"}) {
    Result<int64_t> mib = ParseMemMib(text);
    ASSERT_FALSE(mib.ok()) << text;
    EXPECT_EQ(mib.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(mib.status().message(), "must be a size like 8000 (MiB), 512M, 8G or 1.5G") << text;
  }
}

TEST(ParseMemMibTest, RefusesAbsurdSizes) {
  EXPECT_EQ(ParseMemMib("99999999999999999999").status().message(), "is too large");
  EXPECT_EQ(ParseMemMib("2000000T").status().message(), "is too large");
  EXPECT_TRUE(ParseMemMib("1048576T").ok());  // 2^40 MiB, the limit
  EXPECT_FALSE(ParseMemMib("1048577T").ok());
}

TEST(ParseDurationSecondsTest, ReadsPartsLargestFirst) {
  const struct {
    const char* text;
    int64_t seconds;
  } kCases[] = {
      {"90", 90},         {"0", 0},       {"90s", 90},     {"30m", 1800},   {"2h", 7200},
      {"1d", 86400},      {"1w", 604800}, {"1h30m", 5400}, {"1H30M", 5400}, {"1d12h", 129600},
      {"1d 12h", 129600}, {" 2h ", 7200}, {"1h5s", 3605},  {"90m", 5400},   {"1w2d3h4m5s", 788645},
  };
  for (const auto& c : kCases) {
    Result<int64_t> s = ParseDurationSeconds(c.text);
    ASSERT_TRUE(s.ok()) << c.text << ": " << s.status().ToString();
    EXPECT_EQ(*s, c.seconds) << c.text;
  }
}

TEST(ParseDurationSecondsTest, RefusesOtherText) {
  for (const char* text : {"", "h", "1x", "-5", "1.5h", "1h30", "30m1h", "1h1h", "1 h", "1min",
                           "01:30:00", "2hours"}) {
    Result<int64_t> s = ParseDurationSeconds(text);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find("must be a duration like"), std::string::npos) << text;
  }
  EXPECT_EQ(ParseDurationSeconds("30m1h").status().message(),
            "must be a duration like 90 (seconds), 90s, 30m, 2h, 1d or 1h30m (units largest "
            "first, each once)");
  EXPECT_EQ(ParseDurationSeconds("99999999999w").status().message(), "is too long");
  EXPECT_EQ(ParseDurationSeconds("40000d").status().message(), "is too long");
}

TEST(FormatDurationTest, ShortestFormThatReadsBack) {
  const struct {
    int64_t seconds;
    const char* text;
  } kCases[] = {{0, "0s"},      {45, "45s"},   {90, "1m30s"},    {3600, "1h"},    {5400, "1h30m"},
                {3605, "1h5s"}, {86400, "1d"}, {183600, "2d3h"}, {-90, "-1m30s"}, {1209600, "14d"}};
  for (const auto& c : kCases) {
    EXPECT_EQ(FormatDuration(c.seconds), c.text) << c.seconds;
    if (c.seconds >= 0) {
      EXPECT_EQ(*ParseDurationSeconds(FormatDuration(c.seconds)), c.seconds);
    }
  }
}

TEST(FormatMibTest, GibWhenExactElseMib) {
  const struct {
    int64_t mib;
    const char* text;
  } kCases[] = {{0, "0"},      {8192, "8G"},    {1536, "1.5G"}, {1280, "1.25G"}, {1792, "1.75G"},
                {500, "500M"}, {1000, "1000M"}, {81920, "80G"}, {256, "256M"},   {1025, "1025M"}};
  for (const auto& c : kCases) {
    EXPECT_EQ(FormatMib(c.mib), c.text) << c.mib;
    EXPECT_EQ(*ParseMemMib(FormatMib(c.mib)), c.mib) << c.mib;
  }
}

}  // namespace
}  // namespace gpuq
