#ifndef GPUQ_MASTER_EXEC_EXECUTOR_H_
#define GPUQ_MASTER_EXEC_EXECUTOR_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/latency_histogram.h"
#include "common/policy.h"
#include "master/exec/run_ledger.h"
#include "master/node/exec_link.h"
#include "master/secrets/secret_box.h"
#include "master/store/database.h"

namespace gpuq {

struct ExecOptions {
  std::string data_dir;                           // logs go to DATA/logs/<run>.log
  std::chrono::milliseconds kill_grace{10'000};   // TERM, then KILL after this
  std::chrono::milliseconds lost_after{600'000};  // a node away this long: its runs are lost
  std::chrono::milliseconds log_pull_interval{1000};
  // How often live runs are checked against the node even without events.
  std::chrono::milliseconds reconcile_interval{5000};
  std::chrono::milliseconds connect_timeout{5000};
  // The time limit of tasks that set none (the --default-time-limit flag); the settings
  // table's default_time_limit wins when set (master/store/sched_settings.h).
  std::optional<int64_t> default_time_limit_s;
};

// Starts placed tasks on their nodes and follows them to their end (DESIGN.md "The remote
// side"): one ExecLink per (node, account), launches that never run a task twice, run ends
// from the node's event stream, output pulled into DATA/logs as it grows, cancel and time
// limits as TERM then KILL of the whole process group, and reconciliation of every live run
// whenever a link (re)connects — after a master restart too. Thread-safe.
class Executor final : public ExecLinkListener {
 public:
  Executor(Database* db, Clock* clock, const SecretBox* secrets, NodeTransport* transport,
           ExecOptions options);
  ~Executor() override;

  // Opens links for every node that has live runs, so they are reconciled, and starts the
  // watch thread (kills, time limits, logs, lost nodes).
  void Start();
  void Stop();

  // Called after every run end, with the node it ran on: the master re-probes that node at
  // once (its GPUs may be free) and wakes the scheduler.
  void SetOnRunEnded(std::function<void(NodeId)> on_run_ended) {
    on_run_ended_ = std::move(on_run_ended);
  }

  // Where the time from a placement to the task's pid on the node is recorded; may be null.
  // Set before Start().
  void SetLaunchHistogram(LatencyHistogram* histogram) { launch_histogram_ = histogram; }

  // Reserves the run (one transaction) and sends the launch. Runs on the caller's thread
  // until the launch is queued; the rest happens on the link's thread.
  void Launch(const Placement& placement, const std::string& node_name);
  void CancelRequested(TaskId task);

  // When gpuq last released this GPU: the policy ignores samples from before it.
  UnixMs LastReleased(NodeId node, int gpu_index) const;

  // ExecLinkListener
  void OnExecConnected(NodeId node, const std::string& remote_user) override;
  void OnExecDown(NodeId node, const std::string& remote_user, const Status& why) override;
  void OnRunEvent(NodeId node, const std::string& remote_user, const std::string& line) override;

 private:
  using LinkKey = std::pair<int64_t, std::string>;  // node id, remote user
  struct LinkEntry {
    std::unique_ptr<ExecLink> link;
    UnixMs down_since = 0;      // 0 while connected
    UnixMs last_reconcile = 0;  // runs can vanish without an exit event (OOM kill, reboot)
  };
  // What the master is doing about one live run; not stored: rebuilt after a restart.
  struct RunWatch {
    // "cancelled", "timed_out" or "requeued" (timed out, to run again) once a kill started.
    std::string kill_reason;
    UnixMs term_sent_at = 0;
    UnixMs last_term_at = 0;
    bool kill_sent = false;
    std::optional<int> exit_code;  // the runner's code, while processes may still live
    bool finishing = false;        // final log pull and end in progress
    bool log_in_flight = false;
    UnixMs last_log_pull = 0;
    UnixMs launched_at = 0;  // a watch this young may be missing from an older snapshot
    // When a first launch was placed, until its "start" event records the launch latency.
    std::optional<std::chrono::steady_clock::time_point> placed_at;
  };

  // The link for an account on a node, opened on first use. nullptr + error when the node
  // or the owner's credential is gone.
  ExecLink* LinkFor(NodeId node, UserId owner, std::string* remote_user, Status* error);
  ExecLink* LinkForRun(const LiveRun& run);
  // Sends the launch of a reserved run; a repeated launch of the same run never runs twice.
  // `placed_at` is set for a first launch (its latency is recorded), not for a resend.
  void SendLaunch(ExecLink* link, RunId run, TaskId task, const std::string& node_name,
                  const std::vector<int>& gpus,
                  std::optional<std::chrono::steady_clock::time_point> placed_at = std::nullopt);
  void Signal(ExecLink* link, RunId run, const std::string& signal);
  // Reads the rest of the run's output into its log file, then calls `then`.
  void PullLog(ExecLink* link, RunId run, std::function<void()> then);
  // The runner's exit code is known: end the run once its processes are gone.
  void CheckGoneThenFinish(ExecLink* link, RunId run);
  void Finish(RunId run, const std::string& status, std::optional<int> code,
              const std::string& reason);
  void Reconcile(NodeId node, const std::string& remote_user);
  void WatchLoop();
  void WatchOnce();
  std::string LogPath(RunId run) const;

  Database* db_;
  Clock* clock_;
  const SecretBox* secrets_;
  NodeTransport* transport_;
  ExecOptions options_;
  RunLedger ledger_;
  std::function<void(NodeId)> on_run_ended_;
  LatencyHistogram* launch_histogram_ = nullptr;

  mutable std::mutex mu_;
  std::map<LinkKey, LinkEntry> links_;
  std::map<RunId, RunWatch> watches_;
  std::map<std::pair<int64_t, int>, UnixMs> last_released_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread watcher_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_EXEC_EXECUTOR_H_
