#include "common/csv.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

using Fields = std::vector<std::string>;

std::vector<CsvRecord> Parse(std::string_view text) {
  Result<std::vector<CsvRecord>> records = ParseCsv(text);
  EXPECT_TRUE(records.ok()) << records.status().ToString();
  return records.ok() ? *records : std::vector<CsvRecord>();
}

TEST(CsvTest, PlainRecords) {
  std::vector<CsvRecord> r = Parse("a,b,c\n1,2,3\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(r[1].fields, (Fields{"1", "2", "3"}));
  EXPECT_EQ(r[0].line, 1);
  EXPECT_EQ(r[1].line, 2);
}

TEST(CsvTest, EmptyFieldsAndNoFinalLineBreak) {
  std::vector<CsvRecord> r = Parse("a,,c,\n,\nx");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].fields, (Fields{"a", "", "c", ""}));
  EXPECT_EQ(r[1].fields, (Fields{"", ""}));
  EXPECT_EQ(r[2].fields, (Fields{"x"}));
}

TEST(CsvTest, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  std::vector<CsvRecord> r =
      Parse("id,cmd\n1,\"echo \"\"a, b\"\"\nline 2\r\nline 3\"\n2,\"\"\n3,\"x\"\n");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[1].fields, (Fields{"1", "echo \"a, b\"\nline 2\r\nline 3"}));
  EXPECT_EQ(r[1].line, 2);
  EXPECT_EQ(r[2].fields, (Fields{"2", ""}));
  EXPECT_EQ(r[2].line, 5);  // the record before spans lines 2-4
  EXPECT_EQ(r[3].fields, (Fields{"3", "x"}));
  EXPECT_EQ(r[3].line, 6);
}

TEST(CsvTest, CrlfLoneCrBomAndEmptyLines) {
  std::vector<CsvRecord> r = Parse("\xEF\xBB\xBFh1,h2\r\n\r\na,b\r\n\n\rc,d\re,f\r\n");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].fields, (Fields{"h1", "h2"}));
  EXPECT_EQ(r[1].fields, (Fields{"a", "b"}));
  EXPECT_EQ(r[1].line, 3);
  EXPECT_EQ(r[2].fields, (Fields{"c", "d"}));
  EXPECT_EQ(r[2].line, 6);
  EXPECT_EQ(r[3].fields, (Fields{"e", "f"}));
  EXPECT_EQ(r[3].line, 7);
}

TEST(CsvTest, QuoteInsideUnquotedFieldIsKept) {
  std::vector<CsvRecord> r = Parse("say \"hi\",x\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].fields, (Fields{"say \"hi\"", "x"}));
}

TEST(CsvTest, EmptyInputHasNoRecords) {
  EXPECT_TRUE(Parse("").empty());
  EXPECT_TRUE(Parse("\n\r\n").empty());
  EXPECT_TRUE(Parse("\xEF\xBB\xBF").empty());
}

TEST(CsvTest, UnterminatedQuoteNamesTheLineWhereTheFieldStarts) {
  int line = 0;
  Result<std::vector<CsvRecord>> r = ParseCsv("a,b\n1,2\n3,\"open\nmore\nstill\n", &line);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(line, 3);
  EXPECT_EQ(r.status().message(),
            "line 3: unterminated quoted field (a field that opens with \" never closes)");
}

TEST(CsvTest, TextAfterClosingQuoteIsAnError) {
  int line = 0;
  Result<std::vector<CsvRecord>> r = ParseCsv("a,b\n\"x\"y,z\n", &line);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(line, 2);
  EXPECT_EQ(r.status().message().rfind("line 2: text after the closing quote", 0), 0u)
      << r.status().message();
}

TEST(FormatCsvRecordTest, QuotesOnlyWhatNeedsItAndReadsBack) {
  const std::vector<std::string> fields = {"plain", "a,b", "say \"hi\"", "two\nlines",
                                           " pad",  "",    "x\r"};
  const std::string line = FormatCsvRecord(fields);
  EXPECT_EQ(line, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" pad\",,\"x\r\"\n");
  Result<std::vector<CsvRecord>> back = ParseCsv(line + FormatCsvRecord({"1"}, "\r\n"));
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].fields, fields);
  EXPECT_EQ((*back)[1].fields, std::vector<std::string>{"1"});
}
}  // namespace
}  // namespace gpuq
