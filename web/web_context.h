#ifndef GPUQ_WEB_WEB_CONTEXT_H_
#define GPUQ_WEB_WEB_CONTEXT_H_

#include <string>

#include "common/cluster_state.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"
#include "master/secrets/secret_box.h"
#include "master/store/database.h"
#include "web/login_limiter.h"

namespace gpuq {

// What the web layer may ask the master to do. The web layer reads the store and the
// cluster state itself, but never talks to nodes (DESIGN.md, module map).
class MasterActions {
 public:
  virtual ~MasterActions() = default;
  virtual void NodeChanged(NodeId node) = 0;  // added, edited, key accepted
  virtual void NodeRemoved(NodeId node) = 0;
  virtual void CredentialChanged(UserId user) = 0;
  // "SHA256:..." of a private key's public half; InvalidArgument (field "private_key") when
  // the text is not a key gpuq can use.
  virtual Result<std::string> FingerprintPrivateKey(const std::string& key_text) = 0;
};

// Everything the HTTP handlers use. Pointers are owned by the master and outlive the server.
struct WebContext {
  Database* db = nullptr;
  Clock* clock = nullptr;
  const SecretBox* secrets = nullptr;
  const ClusterState* cluster = nullptr;
  MasterActions* actions = nullptr;
  LoginLimiter* login_limiter = nullptr;
};

}  // namespace gpuq

#endif  // GPUQ_WEB_WEB_CONTEXT_H_
