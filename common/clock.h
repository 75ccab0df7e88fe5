#ifndef GPUQ_COMMON_CLOCK_H_
#define GPUQ_COMMON_CLOCK_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace gpuq {

// Wall-clock time as Unix milliseconds: what the store keeps and the API shows.
using UnixMs = int64_t;

// Time behind one interface (leveldb's Env), so tests can drive it.
// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, for timestamps people read.
  virtual UnixMs NowUnixMs() const = 0;
  // Monotonic time, for intervals and timeouts.
  virtual std::chrono::steady_clock::time_point NowSteady() const = 0;
};

class RealClock final : public Clock {
 public:
  UnixMs NowUnixMs() const override;
  std::chrono::steady_clock::time_point NowSteady() const override;
  static RealClock* Get();  // a process-wide instance
};

// A clock that moves only when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(UnixMs start_unix_ms = 1'700'000'000'000) : unix_ms_(start_unix_ms) {}
  UnixMs NowUnixMs() const override;
  std::chrono::steady_clock::time_point NowSteady() const override;
  void Advance(std::chrono::milliseconds by);

 private:
  mutable std::mutex mu_;
  UnixMs unix_ms_;
  std::chrono::milliseconds steady_offset_{0};
};

// RFC 3339 UTC with milliseconds: "2026-11-21T22:56:43.123Z". Empty for 0.
std::string FormatRfc3339(UnixMs t);

}  // namespace gpuq

#endif  // GPUQ_COMMON_CLOCK_H_
