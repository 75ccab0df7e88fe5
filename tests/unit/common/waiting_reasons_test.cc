// WaitingReasons: texts shared by many tasks, found by task id whatever order they came in.

#include "common/waiting_reasons.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

TEST(WaitingReasonsTest, FindsEachTaskItsTextWhateverTheOrder) {
  WaitingReasons reasons({"held", "never"},
                         {{TaskId(9), 0}, {TaskId(2), 1}, {TaskId(5), 0}, {TaskId(7), 1}});
  ASSERT_EQ(reasons.size(), 4u);
  EXPECT_EQ(*reasons.Find(TaskId(2)), "never");
  EXPECT_EQ(*reasons.Find(TaskId(5)), "held");
  EXPECT_EQ(*reasons.Find(TaskId(7)), "never");
  EXPECT_EQ(*reasons.Find(TaskId(9)), "held");
  EXPECT_EQ(reasons.Find(TaskId(1)), nullptr);
  EXPECT_EQ(reasons.Find(TaskId(6)), nullptr);
  EXPECT_EQ(reasons.Find(TaskId(10)), nullptr);
  EXPECT_TRUE(reasons.contains(TaskId(5)));
  EXPECT_FALSE(reasons.contains(TaskId(3)));
}

TEST(WaitingReasonsTest, EqualWhenEveryTaskHasTheSameTextHoweverStored) {
  WaitingReasons shared({"busy"}, {{TaskId(1), 0}, {TaskId(2), 0}});
  WaitingReasons copied({"busy", "busy"}, {{TaskId(2), 1}, {TaskId(1), 0}});
  EXPECT_EQ(shared, copied);
  EXPECT_EQ(shared.ToMap(),
            (std::map<TaskId, std::string>{{TaskId(1), "busy"}, {TaskId(2), "busy"}}));
  EXPECT_FALSE(shared == WaitingReasons({"busy", "idle"}, {{TaskId(1), 0}, {TaskId(2), 1}}));
}

TEST(WaitingReasonsTest, EmptyByDefault) {
  WaitingReasons none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.Find(TaskId(1)), nullptr);
}

}  // namespace
}  // namespace gpuq
