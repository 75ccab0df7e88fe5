#include "master/node/exec_link.h"

#include <spdlog/spdlog.h>

namespace gpuq {

using std::chrono::milliseconds;

namespace {
constexpr milliseconds kBackoffMin(200);
constexpr milliseconds kBackoffMax(10000);
// How long the link waits for run events when no request is queued. It bounds how long a
// newly queued request waits to be sent.
constexpr milliseconds kEventWait(5);
}  // namespace

ExecLink::ExecLink(NodeId node, ConnectParams params, NodeTransport* transport,
                   ExecLinkListener* listener)
    : node_(node), params_(std::move(params)), transport_(transport), listener_(listener) {
  params_.follow_events = true;
  thread_ = std::thread([this] { Run(); });
}

ExecLink::~ExecLink() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  FailQueued(Status::Unavailable("the master is stopping"));
}

void ExecLink::Submit(std::string verb, std::string arg, milliseconds timeout, Done done) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Request{std::move(verb), std::move(arg), timeout, std::move(done)});
  }
  wake_.notify_all();
}

void ExecLink::FailQueued(const Status& why) {
  std::deque<Request> failed;
  {
    std::lock_guard lock(mu_);
    failed.swap(queue_);
  }
  for (Request& r : failed) r.done(why);
}

void ExecLink::Run() {
  std::unique_ptr<NodeConnection> connection;
  milliseconds backoff = kBackoffMin;
  auto drop = [&](const Status& why) {
    connection.reset();
    connected_ = false;
    FailQueued(why);
    listener_->OnExecDown(node_, params_.remote_user, why);
  };

  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    if (connection == nullptr) {
      HostKeySeen seen;
      Result<std::unique_ptr<NodeConnection>> opened = transport_->Connect(params_, &seen);
      if (!opened.ok()) {
        drop(opened.status());
        std::unique_lock lock(mu_);
        wake_.wait_for(lock, backoff, [&] { return stop_; });
        backoff = std::min(backoff * 2, kBackoffMax);
        continue;
      }
      connection = std::move(*opened);
      connected_ = true;
      backoff = kBackoffMin;
      listener_->OnExecConnected(node_, params_.remote_user);
    }

    std::deque<Request> batch;
    {
      std::lock_guard lock(mu_);
      batch.swap(queue_);
    }
    bool broken = false;
    while (!batch.empty()) {
      Request r = std::move(batch.front());
      batch.pop_front();
      Result<RemoteReply> reply = connection->Call(r.verb, r.arg, r.timeout);
      Status status = reply.status();
      r.done(std::move(reply));
      if (!status.ok()) {
        for (Request& rest : batch) rest.done(status);
        drop(status);
        broken = true;
        break;
      }
    }
    if (broken) continue;

    Result<std::vector<std::string>> events = connection->ReadEvents(kEventWait);
    if (!events.ok()) {
      drop(events.status());
      continue;
    }
    for (const std::string& line : *events) listener_->OnRunEvent(node_, params_.remote_user, line);
  }
}

}  // namespace gpuq
