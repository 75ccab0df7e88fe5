#ifndef GPUQ_MASTER_NODE_NODE_LINK_H_
#define GPUQ_MASTER_NODE_NODE_LINK_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/gpu.h"
#include "common/ids.h"
#include "common/status.h"
#include "master/node/node_transport.h"

namespace gpuq {

// Everything a link needs to reach and probe one node. Built by the master from the store.
struct NodeLinkConfig {
  NodeId id;
  std::string name;
  ConnectParams connect;
  // "nvidia-smi" (default), "gpustat", or the absolute path of an nvidia-smi-compatible tool.
  std::string probe = "nvidia-smi";
  // When set, the link does not try to connect and reports this as the node's error
  // (e.g. no SSH credential stored for the probe account yet).
  std::string config_error;
  std::chrono::milliseconds interval{1000};
  // A probe that takes longer marks the node unavailable; the session is then dropped and
  // opened again (this is also the keep-alive: a dead peer is found within one timeout).
  std::chrono::milliseconds probe_timeout{5000};
  std::chrono::milliseconds backoff_min{500};
  std::chrono::milliseconds backoff_max{30000};
};

// What a link reports. Called on the link's own thread; implementations must be thread-safe
// across links and must not block for long (they delay this node's next probe).
class NodeLinkListener {
 public:
  virtual ~NodeLinkListener() = default;
  virtual void OnSample(NodeId node, const NodeSample& sample, double probe_rtt_ms) = 0;
  virtual void OnUnavailable(NodeId node, const Status& why) = 0;
  // First contact with a node that had no pinned key: the listener pins it.
  virtual void OnHostKeyFirstSeen(NodeId node, const std::string& sha256) = 0;
  // The node shows another key than the pinned one: the listener stores it as pending for
  // an admin to accept. The link stays down until it is restarted with a new config.
  virtual void OnHostKeyChanged(NodeId node, const std::string& sha256) = 0;
};

// The link's logic, one step at a time, with no thread of its own so tests can drive it with
// a fake clock and a scripted transport. Not thread-safe.
class NodeLinkCore {
 public:
  NodeLinkCore(NodeLinkConfig config, NodeTransport* transport, const Clock* clock,
               NodeLinkListener* listener);

  // Does what is due (connect, probe) and returns when it wants to be called again.
  std::chrono::steady_clock::time_point Step();

  // The next Step() probes at once (e.g. a run just ended here: its GPUs may be free), or
  // kMinProbeGap after the last probe began: a node whose runs end by the dozen each second
  // is probed a few times a second, not once per end (each probe costs the node a few ms).
  void ProbeNow();
  static constexpr std::chrono::milliseconds kMinProbeGap{250};

  bool connected() const { return connection_ != nullptr; }
  std::chrono::milliseconds current_backoff() const { return backoff_; }

 private:
  void Fail(const Status& why);
  std::chrono::steady_clock::time_point Backoff();

  NodeLinkConfig config_;
  NodeTransport* transport_;
  const Clock* clock_;
  NodeLinkListener* listener_;
  std::unique_ptr<NodeConnection> connection_;
  std::chrono::milliseconds backoff_;
  bool blocked_on_host_key_ = false;
  std::chrono::steady_clock::time_point next_probe_{};
  std::chrono::steady_clock::time_point last_probe_{};  // when the last probe began
};

// Runs a NodeLinkCore on its own thread, so a node that hangs delays only itself.
class NodeLink {
 public:
  NodeLink(NodeLinkConfig config, NodeTransport* transport, const Clock* clock,
           NodeLinkListener* listener);
  ~NodeLink();  // stops and joins; may wait up to one connect or probe timeout

  // Asks the thread to stop without waiting for it.
  void RequestStop();
  // Asks for a probe as soon as the current step is done.
  void ProbeSoon();
  bool finished() const { return finished_.load(); }

 private:
  void Run();

  NodeLinkCore core_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool probe_soon_ = false;
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_NODE_NODE_LINK_H_
