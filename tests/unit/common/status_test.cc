#include "common/status.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace gpuq {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, InvalidArgumentNamesTheField) {
  Status s = Status::InvalidArgument("must be between 0 and 64", "gpus");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "gpus");
  EXPECT_EQ(s.ToString(), "invalid argument: gpus: must be between 0 and 64");
}

TEST(StatusTest, WithPrefixKeepsCodeAndField) {
  Status s = Status::Unavailable("connection refused").WithPrefix("node n1");
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(s.message(), "node n1: connection refused");
  EXPECT_TRUE(Status::Ok().WithPrefix("x").ok());
}

Status FailsWhen(bool fail) {
  GPUQ_RETURN_IF_ERROR(fail ? Status::Internal("boom") : Status::Ok());
  return Status::NotFound("reached the end");
}

TEST(StatusTest, ReturnIfErrorReturnsEarly) {
  EXPECT_EQ(FailsWhen(true).code(), ErrorCode::kInternal);
  EXPECT_EQ(FailsWhen(false).code(), ErrorCode::kNotFound);
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good(42);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  EXPECT_TRUE(good.status().ok());

  Result<int> bad(Status::Corruption("bad row"));
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kCorruption);
}

TEST(ClockTest, FakeClockMovesOnlyWhenAdvanced) {
  FakeClock clock(1000);
  auto steady = clock.NowSteady();
  EXPECT_EQ(clock.NowUnixMs(), 1000);
  clock.Advance(std::chrono::milliseconds(250));
  EXPECT_EQ(clock.NowUnixMs(), 1250);
  EXPECT_EQ(clock.NowSteady() - steady, std::chrono::milliseconds(250));
}

TEST(ClockTest, FormatsRfc3339Utc) {
  EXPECT_EQ(FormatRfc3339(0), "");
  EXPECT_EQ(FormatRfc3339(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
}

}  // namespace
}  // namespace gpuq
