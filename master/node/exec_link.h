#ifndef GPUQ_MASTER_NODE_EXEC_LINK_H_
#define GPUQ_MASTER_NODE_EXEC_LINK_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/ids.h"
#include "master/node/node_transport.h"

namespace gpuq {

// What an exec link reports, on its own thread. Implementations must be thread-safe and
// quick: a slow listener delays this link's requests.
class ExecLinkListener {
 public:
  virtual ~ExecLinkListener() = default;
  // A session as `remote_user` is (again) open: runs there may have changed while it was
  // not, so the listener reconciles them.
  virtual void OnExecConnected(NodeId node, const std::string& remote_user) = 0;
  virtual void OnExecDown(NodeId node, const std::string& remote_user, const Status& why) = 0;
  // One line of the account's run events: "start RUN PID" or "exit RUN CODE".
  virtual void OnRunEvent(NodeId node, const std::string& remote_user, const std::string& line) = 0;
};

// The master's hands on one account of one node: an SSH session as that account (the task
// owner's credential) with the remote side and its run-event stream, kept open and
// reconnected with backoff. Launch, signal, status and log reads are queued from any
// thread and sent in order over the open channel, several at once when several wait (the
// node answers them in order, without a round trip between them); run events arrive as they
// happen.
// Thread-safe.
class ExecLink {
 public:
  ExecLink(NodeId node, ConnectParams params, NodeTransport* transport, ExecLinkListener* listener);
  ~ExecLink();  // stops and joins; may wait up to one connect or request timeout

  using Done = std::function<void(Result<RemoteReply>)>;
  // Queues a request; `done` runs on the link's thread with the reply, or with an error when
  // the link is down or breaks: requests are never replayed after a reconnect (the listener
  // reconciles instead). `done` must be quick.
  void Submit(std::string verb, std::string arg, std::chrono::milliseconds timeout, Done done);

  bool connected() const { return connected_.load(); }
  const std::string& remote_user() const { return params_.remote_user; }

 private:
  struct Request {
    std::string verb, arg;
    std::chrono::milliseconds timeout;
    Done done;
  };
  void Run();
  void FailQueued(const Status& why);
  void WakeUp();
  // Sleeps until the node sends something, a request is queued, or `limit` passes.
  void WaitForWork(NodeConnection* connection, std::chrono::milliseconds limit);

  NodeId node_;
  ConnectParams params_;
  NodeTransport* transport_;
  ExecLinkListener* listener_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Request> queue_;
  bool stop_ = false;
  std::atomic<bool> connected_{false};
  int wake_fd_ = -1;  // eventfd: Submit() and the destructor wake the link's poll()
  std::thread thread_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_NODE_EXEC_LINK_H_
