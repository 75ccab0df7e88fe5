#ifndef GPUQ_MASTER_STORE_NODE_STORE_H_
#define GPUQ_MASTER_STORE_NODE_STORE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"

namespace gpuq {

class Database;
class Statement;

// What an admin says about a node when adding it.
struct NodeSpec {
  std::string name;
  std::string host;
  int port = 22;
  std::string probe = "nvidia-smi";  // "nvidia-smi", "gpustat" or an absolute path
  bool schedulable = true;
};

// A partial update: fields left empty keep their value.
struct NodeUpdate {
  std::optional<std::string> name;
  std::optional<std::string> host;
  std::optional<int> port;
  std::optional<std::string> probe;
  std::optional<bool> schedulable;
};

struct NodeRow {
  NodeId id;
  std::string name;
  std::string host;
  int port = 22;
  std::string probe;
  bool schedulable = true;
  // The SSH host key fingerprint pinned at first contact; nullopt before it.
  std::optional<std::string> host_key_sha256;
  // A different key the node presented, waiting for an admin to accept it.
  std::optional<std::string> pending_host_key_sha256;
  UnixMs created_at = 0;
  UnixMs updated_at = 0;
};

// The nodes table. Validation of names, hosts and probes is the caller's; this enforces only
// what the schema does (unique name, port 1..65535). Thread-safe (see Database).
class NodeStore {
 public:
  // Does not take ownership; both must outlive the NodeStore.
  NodeStore(Database* db, Clock* clock) : db_(db), clock_(clock) {}

  // kAlreadyExists with field "name" when the name is taken; kInvalidArgument for a value
  // the schema refuses.
  Result<NodeId> Create(const NodeSpec& spec);

  // kNotFound ("node 7 not found", "node \"gpu1\" not found") when there is no such node.
  Result<NodeRow> Get(NodeId id);
  Result<NodeRow> GetByName(std::string_view name);
  // Every node, by id.
  Result<std::vector<NodeRow>> List();

  // Changes the fields that `update` sets. kNotFound; kAlreadyExists with field "name" for a
  // rename onto a taken name. The pinned host key is kept even when host or port change: a
  // different machine then shows up as a pending key for an admin to accept.
  Status Update(NodeId id, const NodeUpdate& update);

  // Deletes the node and its GPU inventory. kNotFound when there is no such node. Whether a
  // node with live runs may go is the caller's decision.
  Status Delete(NodeId id);

  // Host key trust-on-first-use: PinHostKey records the key seen at first contact (and clears
  // any pending key); SetPendingHostKey records (or, with nullopt, clears) a different key the
  // node presented later; AcceptPendingHostKey makes the pending key the pinned one, or fails
  // with kFailedPrecondition when none is pending. All: kNotFound when there is no such node.
  Status PinHostKey(NodeId id, std::string_view sha256);
  Status SetPendingHostKey(NodeId id, std::optional<std::string_view> sha256);
  Status AcceptPendingHostKey(NodeId id);

 private:
  Database* db_;
  Clock* clock_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_NODE_STORE_H_
