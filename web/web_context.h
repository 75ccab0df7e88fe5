#ifndef GPUQ_WEB_WEB_CONTEXT_H_
#define GPUQ_WEB_WEB_CONTEXT_H_

#include <string>

#include "common/clock.h"
#include "common/cluster_state.h"
#include "common/ids.h"
#include "common/latency_histogram.h"
#include "common/snapshot.h"
#include "common/status.h"
#include "master/secrets/secret_box.h"
#include "master/store/database.h"
#include "web/login_limiter.h"

namespace gpuq {

class Notifier;  // master/notify/notifier.h

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

  // Tasks. The task store is the web layer's to write (submit, edit, hold, cancel of a task
  // not yet started); these tell the master what changed.
  // The queue changed (submit, edit, release, cancel of a queued task): wake the scheduler.
  virtual void TasksChanged() = 0;
  // A starting or running task was asked to stop: the master kills its process group on the
  // node and records the end once the processes are gone.
  virtual void CancelRequested(TaskId task) = 0;
  // Why a queued task is not running yet; empty when the scheduler has not looked at it yet.
  virtual std::string WaitingReason(TaskId task) = 0;
  // A warning when no registered node could ever run a task of this shape (more GPUs or
  // memory than any node has, a node or model that does not exist); empty when it could.
  virtual std::string NeverFitsWarning(const TaskRequest& task) = 0;
};

// Everything the HTTP handlers use. Pointers are owned by the master and outlive the server.
struct WebContext {
  Database* db = nullptr;
  Clock* clock = nullptr;
  const SecretBox* secrets = nullptr;
  const ClusterState* cluster = nullptr;
  MasterActions* actions = nullptr;
  LoginLimiter* login_limiter = nullptr;
  const MasterMetrics* metrics = nullptr;  // the master's own timings, for /metrics
  // The master's data folder: run logs are read from DATA/logs/<run id>.log.
  std::string data_dir;
  // The panel is served over TLS: its cookies are marked Secure.
  bool tls = false;
  // Notification settings, targets, outbox and "send test" (web/api_notify.cc).
  Notifier* notifier = nullptr;
};

}  // namespace gpuq

#endif  // GPUQ_WEB_WEB_CONTEXT_H_
