#include "common/clock.h"

#include <ctime>

namespace gpuq {

UnixMs RealClock::NowUnixMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::chrono::steady_clock::time_point RealClock::NowSteady() const {
  return std::chrono::steady_clock::now();
}

RealClock* RealClock::Get() {
  static RealClock clock;
  return &clock;
}

UnixMs FakeClock::NowUnixMs() const {
  std::lock_guard lock(mu_);
  return unix_ms_;
}

std::chrono::steady_clock::time_point FakeClock::NowSteady() const {
  std::lock_guard lock(mu_);
  return std::chrono::steady_clock::time_point(steady_offset_);
}

void FakeClock::Advance(std::chrono::milliseconds by) {
  std::lock_guard lock(mu_);
  unix_ms_ += by.count();
  steady_offset_ += by;
}

std::string FormatRfc3339(UnixMs t) {
  if (t == 0) return "";
  time_t secs = static_cast<time_t>(t / 1000);
  int ms = static_cast<int>(t % 1000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char buf[40];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm_utc);
  snprintf(buf + n, sizeof(buf) - n, ".%03dZ", ms);
  return buf;
}

}  // namespace gpuq
