#include "web/login_limiter.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

using std::chrono::milliseconds;

TEST(LoginLimiterTest, BlocksAfterMaxFailuresUntilLockoutPasses) {
  FakeClock clock;
  LoginLimiter limiter(&clock, {3, milliseconds(60'000), milliseconds(30'000)});
  for (int i = 0; i < 2; ++i) limiter.RecordFailure("alice", "10.0.0.1");
  EXPECT_FALSE(limiter.Blocked("alice", "10.0.0.1"));
  limiter.RecordFailure("alice", "10.0.0.1");
  EXPECT_TRUE(limiter.Blocked("alice", "10.0.0.1"));
  EXPECT_TRUE(limiter.Blocked("alice", "10.0.0.2"));  // by name, from anywhere
  EXPECT_TRUE(limiter.Blocked("bob", "10.0.0.1"));    // by address, for any name
  EXPECT_FALSE(limiter.Blocked("bob", "10.0.0.2"));
  clock.Advance(milliseconds(29'999));
  EXPECT_TRUE(limiter.Blocked("alice", "10.0.0.2"));
  clock.Advance(milliseconds(1));
  EXPECT_FALSE(limiter.Blocked("alice", "10.0.0.2"));
}

TEST(LoginLimiterTest, FailuresSpreadBeyondTheWindowDoNotBlock) {
  FakeClock clock;
  LoginLimiter limiter(&clock, {3, milliseconds(10'000), milliseconds(5'000)});
  for (int i = 0; i < 5; ++i) {
    limiter.RecordFailure("alice", "a");
    EXPECT_FALSE(limiter.Blocked("alice", "a")) << i;
    clock.Advance(milliseconds(6'000));
  }
}

TEST(LoginLimiterTest, SuccessClearsTheNameButNotTheAddress) {
  FakeClock clock;
  LoginLimiter limiter(&clock, {2, milliseconds(60'000), milliseconds(60'000)});
  limiter.RecordFailure("alice", "a");
  limiter.RecordFailure("alice", "a");
  limiter.RecordSuccess("alice");
  EXPECT_FALSE(limiter.Blocked("alice", "b"));
  EXPECT_TRUE(limiter.Blocked("alice", "a"));
}

}  // namespace
}  // namespace gpuq
