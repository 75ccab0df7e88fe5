#ifndef GPUQ_WEB_LOGIN_LIMITER_H_
#define GPUQ_WEB_LOGIN_LIMITER_H_

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "common/clock.h"

namespace gpuq {

struct LoginLimiterOptions {
  int max_failures = 5;                          // failures allowed within the window...
  std::chrono::milliseconds window{5 * 60'000};  // ...before logins are refused
  std::chrono::milliseconds lockout{5 * 60'000}; // for this long after the last failure
};

// Counts failed logins per username and per client address; once either passes
// max_failures within the window, logins for it are refused (HTTP 429) until `lockout` after
// its last failure, even with the right password, so guessing stays slow. Thread-safe.
class LoginLimiter {
 public:
  explicit LoginLimiter(const Clock* clock, LoginLimiterOptions options = {});

  // True when a login attempt for this user from this address must be refused now.
  bool Blocked(const std::string& username, const std::string& address);
  void RecordFailure(const std::string& username, const std::string& address);
  // A good login clears the username's count (not the address's: one host trying many
  // names stays limited).
  void RecordSuccess(const std::string& username);

 private:
  bool BlockedKey(const std::string& key, UnixMs now);
  void Prune(std::deque<UnixMs>* failures, UnixMs now) const;

  const Clock* clock_;
  LoginLimiterOptions options_;
  std::mutex mu_;
  std::map<std::string, std::deque<UnixMs>> failures_;  // "u:NAME" or "a:ADDRESS"
};

}  // namespace gpuq

#endif  // GPUQ_WEB_LOGIN_LIMITER_H_
