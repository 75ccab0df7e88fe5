#include "common/csv_queue.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

constexpr char kHeader[] =
    "task_id,task_name,command,work_dir,n_gpus,execution,notify,status,allocated_gpus,"
    "start_time,end_time\n";

std::vector<CsvQueueTask> Parse(const std::string& text) {
  Result<std::vector<CsvQueueTask>> tasks = ParseCsvQueue(text);
  EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
  return tasks.ok() ? *tasks : std::vector<CsvQueueTask>();
}

TEST(CsvQueueTest, SeedFormatRows) {
  std::vector<CsvQueueTask> t =
      Parse(std::string(kHeader) +
            "1,train,python train.py,/data/x,2,Yes,Yes,done,\"0,1\","
            "2024-01-01 10:00,2024-01-01 11:00\n"
            "2, eval ,\"python eval.py --name \"\"a b\"\"\", ,0,No,No,,,,\n");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].line, 2);
  EXPECT_EQ(t[0].spec.name, "train");
  EXPECT_EQ(t[0].spec.command, "python train.py");
  EXPECT_EQ(t[0].spec.workdir, "/data/x");
  EXPECT_EQ(t[0].spec.gpus, 2);
  EXPECT_FALSE(t[0].spec.hold);
  EXPECT_EQ(t[0].spec.notify, "end");
  EXPECT_EQ(t[1].line, 3);
  EXPECT_EQ(t[1].spec.name, "eval");
  EXPECT_EQ(t[1].spec.command, "python eval.py --name \"a b\"");
  EXPECT_EQ(t[1].spec.workdir, "");
  EXPECT_EQ(t[1].spec.gpus, 0);
  EXPECT_TRUE(t[1].spec.hold);
  EXPECT_EQ(t[1].spec.notify, "off");
}

TEST(CsvQueueTest, MultiLineCommandsKeepTheirBytesAndLineNumbersFollow) {
  std::vector<CsvQueueTask> t =
      Parse(std::string(kHeader) +
            "1,a,\"cd /x\nfor i in 1 2; do\n  echo $i `date`\ndone\",,1,,,,,,\n"
            "2,b,echo 'q',,1,,,,,,\n");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].spec.command, "cd /x\nfor i in 1 2; do\n  echo $i `date`\ndone");
  EXPECT_EQ(t[1].line, 6);
  EXPECT_EQ(t[1].spec.command, "echo 'q'");
}

TEST(CsvQueueTest, HeaderInAnyOrderAnyCaseWithExtraColumnsAndDefaults) {
  std::vector<CsvQueueTask> t =
      Parse(" Command ,owner,N_GPUS\r\necho hi,alice,\r\necho 2,bob,2.0\r\n");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].spec.command, "echo hi");
  EXPECT_EQ(t[0].spec.gpus, 1);  // empty: the default
  EXPECT_FALSE(t[0].spec.hold);
  EXPECT_EQ(t[0].spec.notify, "off");
  EXPECT_EQ(t[1].spec.gpus, 2);  // spreadsheets write whole numbers as 2.0
}

TEST(CsvQueueTest, YesNoSpellings) {
  std::vector<CsvQueueTask> t = Parse(
      "command,execution,notify\nx,no,yes\nx,N,y\nx,FALSE,TRUE\nx,0,1\nx,yes,failure\nx,Y,off\n");
  ASSERT_EQ(t.size(), 6u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(t[i].spec.hold) << i;
    EXPECT_EQ(t[i].spec.notify, "end") << i;
  }
  EXPECT_FALSE(t[4].spec.hold);
  EXPECT_EQ(t[4].spec.notify, "failure");
  EXPECT_FALSE(t[5].spec.hold);
  EXPECT_EQ(t[5].spec.notify, "off");
}

TEST(CsvQueueTest, BlankRowsAreSkippedAndHeaderOnlyIsEmpty) {
  EXPECT_EQ(Parse(std::string(kHeader) + ",,,,,,,,,,\n\n").size(), 0u);
  EXPECT_EQ(Parse(kHeader).size(), 0u);
  EXPECT_EQ(Parse("").size(), 0u);
}

// Any bad row fails the whole file with its line and column.
TEST(CsvQueueTest, BadRowsNameLineAndColumn) {
  const std::string good = "1,a,echo,,1,Yes,No,,,,\n";
  const struct {
    std::string bad_row;
    const char* column;
    const char* message;
  } kCases[] = {
      {"9,a,echo,,x,Yes,No,,,,\n", "n_gpus",
       "line 3: n_gpus: must be a whole number from 0 to 64 (found \"x\")"},
      {"9,a,echo,,65,Yes,No,,,,\n", "n_gpus", ""},
      {"9,a,echo,,-1,Yes,No,,,,\n", "n_gpus", ""},
      {"9,a,echo,,1.5,Yes,No,,,,\n", "n_gpus", ""},
      {"9,a,echo,,1,maybe,No,,,,\n", "execution",
       "line 3: execution: must be Yes or No (No imports the task held)"},
      {"9,a,echo,,1,Yes,sometimes,,,,\n", "notify", "line 3: notify: must be Yes or No"},
      {"9,a,,,1,Yes,No,,,,\n", "command", "line 3: command: is required"},
      {"9,a,\"  \",,1,Yes,No,,,,\n", "command", ""},
      {"9,\"a\nb\",echo,,1,Yes,No,,,,\n", "task_name", ""},
      {"9,a,echo,\"/x\ny\",1,Yes,No,,,,\n", "work_dir", ""},
      {"9,a,echo \xff,,1,Yes,No,,,,\n", "command", "line 3: command: is not valid UTF-8 text"},
      {"9,a,echo a,b,,1,Yes,No,,,,\n", "",
       "line 3: has 12 fields, the header has 11 (quote a field that holds a comma or a line "
       "break)"},
      {"9,a,echo\n", "", ""},
  };
  for (const auto& c : kCases) {
    int line = 0;
    Result<std::vector<CsvQueueTask>> t =
        ParseCsvQueue(std::string(kHeader) + good + c.bad_row + good, &line);
    ASSERT_FALSE(t.ok()) << c.bad_row;
    EXPECT_EQ(t.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(line, 3) << c.bad_row;
    EXPECT_EQ(t.status().field(), c.column) << c.bad_row << t.status().message();
    if (*c.message) {
      EXPECT_EQ(t.status().message(), c.message);
    }
    EXPECT_EQ(t.status().message().rfind("line 3: ", 0), 0u) << t.status().message();
  }
}

TEST(CsvQueueTest, FileLevelErrors) {
  int line = 0;
  Result<std::vector<CsvQueueTask>> t = ParseCsvQueue("1,a,echo,,1,Yes,No,,,,\n", &line);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(line, 1);
  EXPECT_NE(t.status().message().find("the first line must be the header"), std::string::npos);
  EXPECT_NE(t.status().message().find("task_id,task_name,command,work_dir"), std::string::npos);
  EXPECT_EQ(ParseCsvQueue("command,Command\nx,y\n").status().message(),
            "line 1: the header names the column \"command\" twice");
  t = ParseCsvQueue(std::string(kHeader) + "1,a,\"never closed\n", &line);
  EXPECT_EQ(line, 2);
  EXPECT_EQ(t.status().message().rfind("line 2: unterminated quoted field", 0), 0u);
}

TEST(ParseCsvQueueTest, PinningColumnsAreRead) {
  Result<std::vector<CsvQueueTask>> tasks =
      ParseCsvQueue("command,n_gpus,gpu_ids,prefer_gpus\nx,2,\"0,2\",1\ny,1,,\n");
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  EXPECT_EQ((*tasks)[0].spec.gpu_ids, (std::vector<int>{0, 2}));
  EXPECT_EQ((*tasks)[0].spec.prefer_gpus, (std::vector<int>{1}));
  EXPECT_TRUE((*tasks)[1].spec.gpu_ids.empty());
  Result<std::vector<CsvQueueTask>> bad = ParseCsvQueue("command,gpu_ids\nx,a\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "gpu_ids");
}
}  // namespace
}  // namespace gpuq
