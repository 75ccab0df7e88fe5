#include "master/node/node_link.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "master/node/remote_protocol.h"

namespace gpuq {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

NodeLinkCore::NodeLinkCore(NodeLinkConfig config, NodeTransport* transport, const Clock* clock,
                           NodeLinkListener* listener)
    : config_(std::move(config)),
      transport_(transport),
      clock_(clock),
      listener_(listener),
      backoff_(config_.backoff_min) {}

void NodeLinkCore::Fail(const Status& why) {
  connection_.reset();
  listener_->OnUnavailable(config_.id, why);
}

steady_clock::time_point NodeLinkCore::Backoff() {
  steady_clock::time_point at = clock_->NowSteady() + backoff_;
  backoff_ = std::min(backoff_ * 2, config_.backoff_max);
  return at;
}

steady_clock::time_point NodeLinkCore::Step() {
  constexpr milliseconds kParked(3'600'000);  // until restarted with a new config
  if (!config_.config_error.empty()) {
    listener_->OnUnavailable(config_.id, Status::FailedPrecondition(config_.config_error));
    return clock_->NowSteady() + kParked;
  }
  if (blocked_on_host_key_) return clock_->NowSteady() + kParked;

  if (connection_ == nullptr) {
    HostKeySeen seen;
    Result<std::unique_ptr<NodeConnection>> connected = transport_->Connect(config_.connect, &seen);
    if (!connected.ok()) {
      if (seen.mismatch) {
        blocked_on_host_key_ = true;
        listener_->OnHostKeyChanged(config_.id, seen.sha256);
        Fail(connected.status());
        return clock_->NowSteady() + kParked;
      }
      Fail(connected.status());
      return Backoff();
    }
    if (config_.connect.pinned_host_key_sha256.empty() && !seen.sha256.empty()) {
      config_.connect.pinned_host_key_sha256 = seen.sha256;
      listener_->OnHostKeyFirstSeen(config_.id, seen.sha256);
    }
    connection_ = std::move(*connected);
    next_probe_ = clock_->NowSteady();
  }

  steady_clock::time_point now = clock_->NowSteady();
  if (now < next_probe_) return next_probe_;

  // Probes keep a fixed cadence; a slow probe pushes the next one, it never piles them up.
  last_probe_ = now;
  next_probe_ += config_.interval;
  if (next_probe_ <= now) next_probe_ = now + config_.interval;

  Result<RemoteReply> reply = connection_->Call("probe", config_.probe, config_.probe_timeout);
  steady_clock::time_point answered = clock_->NowSteady();
  if (!reply.ok()) {
    Fail(reply.status().WithPrefix("probe"));
    return Backoff();
  }
  // The session works; whatever the tool says, reconnects start from the short backoff.
  backoff_ = config_.backoff_min;
  Result<std::vector<GpuStatus>> gpus = ParseProbeReply(*reply);
  if (!gpus.ok()) {
    // The session is fine, the GPU tool is not (driver failure, missing tool): keep the
    // session and look again next interval.
    listener_->OnUnavailable(config_.id, gpus.status());
    return next_probe_;
  }
  NodeSample sample;
  sample.sampled_at = clock_->NowUnixMs();
  sample.gpus = std::move(*gpus);
  double rtt_ms = std::chrono::duration<double, std::milli>(answered - now).count();
  listener_->OnSample(config_.id, sample, rtt_ms);
  return next_probe_;
}

void NodeLinkCore::ProbeNow() {
  steady_clock::time_point soonest = std::max(clock_->NowSteady(), last_probe_ + kMinProbeGap);
  next_probe_ = std::min(next_probe_, soonest);
}

NodeLink::NodeLink(NodeLinkConfig config, NodeTransport* transport, const Clock* clock,
                   NodeLinkListener* listener)
    : core_(std::move(config), transport, clock, listener), thread_([this] { Run(); }) {}

NodeLink::~NodeLink() {
  RequestStop();
  thread_.join();
}

void NodeLink::RequestStop() {
  std::lock_guard lock(mu_);
  stop_ = true;
  wake_.notify_all();
}

void NodeLink::ProbeSoon() {
  std::lock_guard lock(mu_);
  probe_soon_ = true;
  wake_.notify_all();
}

void NodeLink::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (probe_soon_) {
      probe_soon_ = false;
      core_.ProbeNow();
    }
    lock.unlock();
    steady_clock::time_point next = core_.Step();
    lock.lock();
    wake_.wait_until(lock, next, [&] { return stop_ || probe_soon_; });
  }
  finished_ = true;
}

}  // namespace gpuq
