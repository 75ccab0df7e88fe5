#ifndef GPUQ_MASTER_NODE_NODE_TRANSPORT_H_
#define GPUQ_MASTER_NODE_NODE_TRANSPORT_H_

// The seam between node links and the network: a transport opens a connection to a node and
// runs the remote side there; the connection answers requests over that one open session.
// The real one is libssh (ssh_transport.h); tests use scripted fakes.

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "master/node/remote_protocol.h"

namespace gpuq {

struct ConnectParams {
  std::string host;
  int port = 22;
  std::string remote_user;
  std::string private_key;  // OpenSSH or PEM text; held in memory only
  // The pinned host key ("SHA256:..."). Empty: trust on first use, the caller pins it.
  std::string pinned_host_key_sha256;
  std::chrono::milliseconds connect_timeout{5000};
  // Also open a second channel that follows the account's run events (~/.gpuq/events):
  // "start RUN PID" and "exit RUN CODE" lines, streamed the moment the runner writes them.
  bool follow_events = false;
};

// One request of a pipelined batch (NodeConnection::CallAll); views into the caller's strings.
struct RemoteRequest {
  std::string_view verb;
  std::string_view arg;
  std::chrono::milliseconds timeout;
};

// What Connect saw of the host key, whatever the outcome.
struct HostKeySeen {
  std::string sha256;  // "SHA256:base64", empty if the handshake never got that far
  bool mismatch = false;
};

// One open session to a node with the remote side running.
// Not thread-safe: a connection belongs to the one thread that uses it.
class NodeConnection {
 public:
  virtual ~NodeConnection() = default;

  // Sends `verb arg` and waits for the framed reply. kTimeout when no reply came within
  // `timeout`; kUnavailable when the session broke. After any error the connection is
  // unusable and must be dropped.
  virtual Result<RemoteReply> Call(std::string_view verb, std::string_view arg,
                                   std::chrono::milliseconds timeout) = 0;

  // Sends all requests at once and then takes their replies in order, handing each to
  // `on_reply` (the request's index, its reply) as it arrives: the node answers one after the
  // other without waiting for a round trip between them. Each reply may take up to its own
  // request's timeout after the one before. Returns OK when every request was answered, else
  // the first error (the requests from the unanswered one on got no reply), after which the
  // connection is unusable as after Call. This default sends them one at a time with Call.
  virtual Status CallAll(std::span<const RemoteRequest> requests,
                         const std::function<void(size_t, RemoteReply)>& on_reply) {
    for (size_t i = 0; i < requests.size(); ++i) {
      Result<RemoteReply> reply = Call(requests[i].verb, requests[i].arg, requests[i].timeout);
      if (!reply.ok()) return reply.status();
      on_reply(i, std::move(*reply));
    }
    return Status::Ok();
  }

  // Complete event lines that arrived on the events channel, waiting up to `wait` for the
  // first. Empty when the connection was opened without follow_events. kUnavailable when
  // the session broke.
  virtual Result<std::vector<std::string>> ReadEvents(std::chrono::milliseconds wait) = 0;

  // A descriptor that turns readable when the node sends anything (the SSH socket), so a
  // link can sleep in poll() instead of waking on a timer; -1 when there is none (fakes).
  virtual int PollFd() const { return -1; }
};

class NodeTransport {
 public:
  virtual ~NodeTransport() = default;

  // Connects, checks the host key against params.pinned_host_key_sha256 (refusing a
  // mismatch with kFailedPrecondition before authenticating), authenticates with the key
  // and starts the remote side. `seen` is always filled as far as the handshake got.
  virtual Result<std::unique_ptr<NodeConnection>> Connect(const ConnectParams& params,
                                                          HostKeySeen* seen) = 0;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_NODE_NODE_TRANSPORT_H_
