#include "web/login_limiter.h"

namespace gpuq {

LoginLimiter::LoginLimiter(const Clock* clock, LoginLimiterOptions options)
    : clock_(clock), options_(options) {}

void LoginLimiter::Prune(std::deque<UnixMs>* failures, UnixMs now) const {
  // A failure older than window + lockout can no longer keep anyone locked out.
  UnixMs horizon = now - (options_.window + options_.lockout).count();
  while (!failures->empty() && failures->front() < horizon) failures->pop_front();
}

bool LoginLimiter::BlockedKey(const std::string& key, UnixMs now) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return false;
  std::deque<UnixMs>& f = it->second;
  Prune(&f, now);
  if (f.empty()) {
    failures_.erase(it);
    return false;
  }
  UnixMs last = f.back();
  if (now >= last + options_.lockout.count()) return false;
  // Locked while max_failures fell within one window ending at the latest failure.
  int in_window = 0;
  for (UnixMs t : f) {
    if (t > last - options_.window.count()) ++in_window;
  }
  return in_window >= options_.max_failures;
}

bool LoginLimiter::Blocked(const std::string& username, const std::string& address) {
  std::lock_guard lock(mu_);
  UnixMs now = clock_->NowUnixMs();
  return BlockedKey("u:" + username, now) || BlockedKey("a:" + address, now);
}

void LoginLimiter::RecordFailure(const std::string& username, const std::string& address) {
  std::lock_guard lock(mu_);
  UnixMs now = clock_->NowUnixMs();
  for (const std::string& key : {"u:" + username, "a:" + address}) {
    std::deque<UnixMs>& f = failures_[key];
    Prune(&f, now);
    f.push_back(now);
  }
  // Bound memory under a flood of random names: forget the stalest keys.
  if (failures_.size() > 100'000) failures_.clear();
}

void LoginLimiter::RecordSuccess(const std::string& username) {
  std::lock_guard lock(mu_);
  failures_.erase("u:" + username);
}

}  // namespace gpuq
