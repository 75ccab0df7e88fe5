#ifndef GPUQ_MASTER_APP_LINK_MANAGER_H_
#define GPUQ_MASTER_APP_LINK_MANAGER_H_

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "master/node/node_link.h"
#include "master/secrets/secret_box.h"
#include "master/store/database.h"
#include "master/store/node_store.h"

namespace gpuq {

struct LinkOptions {
  std::chrono::milliseconds probe_interval{1000};
  std::chrono::milliseconds probe_timeout{5000};
  std::chrono::milliseconds connect_timeout{5000};
  // Probing uses this account's SSH credential (INTERFACE.md: the admin account's).
  std::string probe_account = "admin";
};

// Keeps one NodeLink per registered node, built from the store: the node's address and
// pinned host key, and the probe account's decrypted private key. Restart() picks up any
// change (node edited, key accepted, credential replaced). Thread-safe.
class LinkManager {
 public:
  LinkManager(Database* db, Clock* clock, const SecretBox* secrets, NodeTransport* transport,
              NodeLinkListener* listener, LinkOptions options);
  ~LinkManager();  // StopAll()

  Status StartAll();
  void Restart(NodeId node);  // (re)reads the node; starts it if new
  void Remove(NodeId node);
  void RestartAll();          // e.g. the probe credential changed
  void ProbeSoon(NodeId node);  // a fresh sample now, e.g. after a run ended there
  void StopAll();             // joins every link; waits at most one connect/probe timeout

 private:
  NodeLinkConfig BuildConfig(const NodeRow& node);
  void RetireLocked(NodeId node);

  Database* db_;
  Clock* clock_;
  const SecretBox* secrets_;
  NodeTransport* transport_;
  NodeLinkListener* listener_;
  LinkOptions options_;

  std::mutex mu_;
  std::map<NodeId, std::unique_ptr<NodeLink>> links_;
  // Links told to stop whose thread may still be inside a connect or probe; joined later so
  // a request that edits a node never waits for a hung node.
  std::vector<std::unique_ptr<NodeLink>> retiring_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_APP_LINK_MANAGER_H_
