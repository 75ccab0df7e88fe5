#include "master/node/exec_link.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace gpuq {

using std::chrono::milliseconds;

namespace {
constexpr milliseconds kBackoffMin(200);
constexpr milliseconds kBackoffMax(10000);
// Without a pollable descriptor (test fakes) the link wakes this often.
constexpr milliseconds kFallbackWait(5);
// A poll() that sees nothing still returns this often, to notice a stop request.
constexpr milliseconds kIdleWait(1000);
// Requests sent at once before their replies are read (a wave of launches, the exits that
// follow): bounded so the lines stay far below the SSH channel's window.
constexpr size_t kMaxPipelined = 32;
constexpr size_t kMaxPipelinedBytes = 64 << 10;
}  // namespace

ExecLink::ExecLink(NodeId node, ConnectParams params, NodeTransport* transport,
                   ExecLinkListener* listener)
    : node_(node), params_(std::move(params)), transport_(transport), listener_(listener) {
  params_.follow_events = true;
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  thread_ = std::thread([this] { Run(); });
}

ExecLink::~ExecLink() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  WakeUp();
  thread_.join();
  FailQueued(Status::Unavailable("the master is stopping"));
  if (wake_fd_ >= 0) close(wake_fd_);
}

void ExecLink::WakeUp() {
  wake_.notify_all();
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  }
}

void ExecLink::WaitForWork(NodeConnection* connection, milliseconds limit) {
  {
    std::lock_guard lock(mu_);
    if (stop_ || !queue_.empty()) return;
  }
  int fd = connection->PollFd();
  if (fd < 0 || wake_fd_ < 0) {
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, std::min(limit, kFallbackWait), [&] { return stop_ || !queue_.empty(); });
    return;
  }
  pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  poll(fds, 2, static_cast<int>(limit.count()));
  if (fds[1].revents & POLLIN) {
    uint64_t count = 0;
    [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof(count));
  }
}

void ExecLink::Submit(std::string verb, std::string arg, milliseconds timeout, Done done) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Request{std::move(verb), std::move(arg), timeout, std::move(done)});
  }
  WakeUp();
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
      size_t n = 0;
      size_t bytes = 0;
      std::vector<RemoteRequest> requests;
      while (n < batch.size() && n < kMaxPipelined &&
             (n == 0 || bytes + batch[n].arg.size() < kMaxPipelinedBytes)) {
        bytes += batch[n].arg.size();
        requests.push_back(RemoteRequest{batch[n].verb, batch[n].arg, batch[n].timeout});
        ++n;
      }
      size_t answered = 0;
      Status status = connection->CallAll(requests, [&](size_t i, RemoteReply reply) {
        answered = i + 1;
        batch[i].done(std::move(reply));
      });
      if (!status.ok()) {
        for (size_t i = answered; i < batch.size(); ++i) batch[i].done(status);
        drop(status);
        broken = true;
        break;
      }
      batch.erase(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(n));
    }
    if (broken) continue;

    // Take what has arrived without waiting, then sleep until more arrives or a request is
    // queued: nothing in libssh runs between the two, so no event can sit unseen in its
    // buffers while we sleep.
    Result<std::vector<std::string>> events = connection->ReadEvents(milliseconds(0));
    if (!events.ok()) {
      drop(events.status());
      continue;
    }
    for (const std::string& line : *events) listener_->OnRunEvent(node_, params_.remote_user, line);
    if (events->empty()) WaitForWork(connection.get(), kIdleWait);
  }
}

}  // namespace gpuq
