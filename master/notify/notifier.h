#ifndef GPUQ_MASTER_NOTIFY_NOTIFIER_H_
#define GPUQ_MASTER_NOTIFY_NOTIFIER_H_

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "common/clock.h"
#include "common/cluster_state.h"
#include "master/notify/notify_message.h"
#include "master/notify/notify_settings.h"
#include "master/notify/sender.h"
#include "master/secrets/secret_box.h"
#include "master/store/database.h"
#include "master/store/notify_store.h"

namespace gpuq {

struct NotifierOptions {
  NotifySettings startup;  // the master's flag/env/config values; the panel's override them
  std::string data_dir;    // run output is read from DATA/logs/<run>.log
  // Retries: the n-th failed attempt waits retry_base * 2^(n-1), at most retry_max; after
  // max_attempts failed attempts the message is failed for good (shown, retryable by hand).
  std::chrono::milliseconds retry_base{30'000};
  std::chrono::milliseconds retry_max{3'600'000};
  int max_attempts = 10;
  std::chrono::milliseconds tick{1000};  // how often events, nodes and idle GPUs are looked at
  int log_tail_lines = 30;
  int idle_util_pct = 2;             // a GPU at or below this utilisation counts as idle
  std::chrono::hours keep{24 * 30};  // sent/failed messages and old events are pruned after
};

// Turns recorded events into messages and delivers them (DESIGN.md step 5: "notifications go
// out"). One thread does it all, so the scheduler and executor never wait on SMTP or HTTP:
// they only record events in their own transactions (NotifyOutbox::RecordEvent).
//
// Each tick: (1) every undispatched event becomes one message per recipient, rendered, in
// one transaction with marking the event dispatched; (2) due messages are sent, each marked
// sent right after the server accepted it, or retried later with backoff; (3) node
// availability changes in the ClusterState become node_down/node_up events; (4) GPUs of
// running runs idle for the configured minutes become a gpu_idle event (once per run).
// Thread-safe.
class Notifier {
 public:
  Notifier(Database* db, Clock* clock, const SecretBox* secrets, Sender* sender,
           const ClusterState* cluster, NotifierOptions options);
  ~Notifier();

  void Start();
  void Stop();
  // Look at the outbox now rather than at the next tick.
  void Wake();

  // One pass of the loop, on the caller's thread (tests drive it with a FakeClock).
  void RunOnce();

  // The settings in effect, and the startup values under them.
  Result<NotifySettings> Settings() const;
  const NotifySettings& startup() const { return options_.startup; }

  // "Send test": sends a test message to a target (or an address) now, on the caller's
  // thread, and says whether the server accepted it. Nothing is queued.
  Status SendTest(int64_t target_id);
  Status SendTestMail(const std::string& to);

 private:
  // What a test message says: now, linking to the settings page.
  NotifyFacts TestFacts(const NotifySettings& settings) const;
  void Loop();
  void DispatchEvents();
  void DeliverDue();
  void WatchNodes();
  void WatchIdleGpus();
  // The messages an event becomes (empty: nobody wants it).
  Result<std::vector<NotificationRow>> MessagesFor(const NotifyEventRow& event,
                                                   const NotifySettings& settings);
  Status Deliver(const NotificationRow& message, const NotifySettings& settings);
  std::string LogTail(RunId run) const;
  std::string NodeName(NodeId node) const;

  Database* db_;
  Clock* clock_;
  const SecretBox* secrets_;
  Sender* sender_;
  const ClusterState* cluster_;
  NotifierOptions options_;
  NotifyOutbox outbox_;

  // Only the loop's thread touches these.
  std::map<NodeId, bool> node_available_;
  std::set<NodeId> down_notified_;
  std::map<std::pair<int64_t, int>, UnixMs> idle_since_;  // (run, gpu) -> first idle sample
  std::set<int64_t> idle_notified_;                       // runs
  std::chrono::steady_clock::time_point last_idle_check_{};
  std::chrono::steady_clock::time_point last_prune_{};

  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_NOTIFY_NOTIFIER_H_
