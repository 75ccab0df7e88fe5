#include "master/exec/executor.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "common/base64.h"
#include "common/gpu_indices.h"
#include "common/shell_quote.h"
#include "master/exec/connect_params.h"
#include "master/exec/run_env.h"
#include "master/node/remote_protocol.h"
#include "master/store/credential_store.h"
#include "master/store/node_store.h"
#include "master/store/sched_settings.h"

namespace gpuq {

using std::chrono::milliseconds;

namespace {

constexpr milliseconds kRequestTimeout(15'000);
constexpr size_t kLogChunk = 1 << 20;

// "export K='v'" lines for the run's environment: INTERFACE.md's variables, then the
// task's own. Every value is quoted, so it reaches the command byte for byte.
std::string EnvScript(const LaunchSpec& spec, RunId run, TaskId task, const std::string& node,
                      const std::vector<int>& gpus) {
  std::map<std::string, std::string> env = spec.env;
  env["CUDA_VISIBLE_DEVICES"] = FormatGpuIndices(gpus);
  env["GPUQ_GPU"] = GpuqGpuValue(gpus);
  env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID";
  env["GPUQ_TASK_ID"] = std::to_string(task.value);
  env["GPUQ_RUN_ID"] = std::to_string(run.value);
  env["GPUQ_NODE"] = node;
  std::string script;
  for (const auto& [key, value] : env) script += "export " + key + "=" + ShellQuote(value) + "\n";
  // The node runs this file with `. env.sh && . command`: an activation that fails stops
  // the command with its own error line in the run's log.
  return script + ActivationScript(spec.conda, spec.venv);
}

// The lines of a reply section, e.g. "7 running 4121".
std::vector<std::string> Lines(const RemoteReply& reply, const std::string& section) {
  std::vector<std::string> out;
  auto it = reply.sections.find(section);
  if (it == reply.sections.end()) return out;
  std::stringstream ss(it->second.text);
  std::string line;
  while (std::getline(ss, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

int64_t ToInt(const std::string& s, int64_t fallback = -1) {
  int64_t v = fallback;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string w;
  while (ss >> w) out.push_back(w);
  return out;
}

}  // namespace

Executor::Executor(Database* db, Clock* clock, const SecretBox* secrets, NodeTransport* transport,
                   ExecOptions options)
    : db_(db),
      clock_(clock),
      secrets_(secrets),
      transport_(transport),
      options_(std::move(options)),
      ledger_(db, clock) {
  std::filesystem::create_directories(options_.data_dir + "/logs");
}

Executor::~Executor() { Stop(); }

std::string Executor::LogPath(RunId run) const {
  return options_.data_dir + "/logs/" + std::to_string(run.value) + ".log";
}

void Executor::Start() {
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  Result<std::vector<LiveRun>> live = ledger_.Live();
  if (live.ok()) {
    {
      std::lock_guard lock(mu_);
      for (const LiveRun& run : *live) watches_[run.run];
    }
    for (const LiveRun& run : *live) LinkForRun(run);  // each connect reconciles
  } else {
    spdlog::error("cannot read live runs: {}", live.status().ToString());
  }
  watcher_ = std::thread([this] { WatchLoop(); });
}

void Executor::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_ && !watcher_.joinable()) return;
    stop_ = true;
  }
  wake_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  std::map<LinkKey, LinkEntry> links;
  {
    std::lock_guard lock(mu_);
    links.swap(links_);
  }
  links.clear();  // joins each link's thread outside our lock
}

ExecLink* Executor::LinkFor(NodeId node, UserId owner, std::string* remote_user, Status* error) {
  Result<std::optional<CredentialRow>> credential = CredentialStore(db_, clock_).Get(owner);
  if (!credential.ok() || !credential->has_value()) {
    *error = Status::FailedPrecondition("the task's owner has no SSH credential");
    return nullptr;
  }
  *remote_user = (*credential)->remote_user;
  LinkKey key{node.value, *remote_user};
  {
    std::lock_guard lock(mu_);
    auto it = links_.find(key);
    if (it != links_.end()) return it->second.link.get();
  }
  Result<NodeRow> row = NodeStore(db_, clock_).Get(node);
  if (!row.ok()) {
    *error = row.status();
    return nullptr;
  }
  Result<ConnectParams> params =
      NodeConnectParams(*row, **credential, *secrets_, options_.connect_timeout);
  if (!params.ok()) {
    *error = params.status();
    return nullptr;
  }
  std::lock_guard lock(mu_);
  LinkEntry& entry = links_[key];
  if (!entry.link) entry.link = std::make_unique<ExecLink>(node, *params, transport_, this);
  return entry.link.get();
}

ExecLink* Executor::LinkForRun(const LiveRun& run) {
  {
    std::lock_guard lock(mu_);
    auto it = links_.find({run.node.value, run.remote_user});
    if (it != links_.end()) return it->second.link.get();
  }
  std::string remote_user;
  Status error;
  ExecLink* link = LinkFor(run.node, run.owner, &remote_user, &error);
  if (link == nullptr) {
    spdlog::warn("run {}: no link to node {}: {}", run.run.value, run.node_name, error.ToString());
  }
  return link;
}

void Executor::Launch(const Placement& placement, const std::string& node_name) {
  auto placed_at = std::chrono::steady_clock::now();
  Result<LaunchSpec> spec = ledger_.Spec(placement.task);
  if (!spec.ok()) return;
  // The run starts as the owner's account on the node: no credential, no reservation.
  Result<std::optional<CredentialRow>> credential = CredentialStore(db_, clock_).Get(spec->owner);
  if (!credential.ok() || !credential->has_value()) return;
  UserId owner = spec->owner;

  // The global time limit as it stands now becomes this run's, if the task set none.
  SettingsStore settings(db_, clock_);
  SchedSettings flags;
  flags.default_time_limit_s = options_.default_time_limit_s;
  Result<SchedSettings> live = ReadSchedSettings(settings, flags);
  Result<RunId> run = ledger_.Reserve(
      placement.task, placement.node, node_name, placement.gpu_indices, (*credential)->remote_user,
      live.ok() ? live->default_time_limit_s : options_.default_time_limit_s);
  if (!run.ok()) {
    spdlog::info("task {}: not started: {}", placement.task.value, run.status().message());
    return;
  }
  {
    std::lock_guard lock(mu_);
    watches_[*run].launched_at = clock_->NowUnixMs();
  }
  std::string remote_user;
  Status error;
  ExecLink* link = LinkFor(placement.node, owner, &remote_user, &error);
  if (link == nullptr) {
    Finish(*run, "failed", std::nullopt, "cannot reach the node: " + error.message());
    return;
  }
  SendLaunch(link, *run, placement.task, node_name, placement.gpu_indices, placed_at);
}

void Executor::SendLaunch(ExecLink* link, RunId run, TaskId task, const std::string& node_name,
                          const std::vector<int>& gpus,
                          std::optional<std::chrono::steady_clock::time_point> placed_at) {
  Result<LaunchSpec> spec = ledger_.Spec(task);
  if (!spec.ok()) return;
  std::string arg = std::to_string(run.value) + " " + EscapeField(spec->command) + " " +
                    EscapeField(spec->workdir) + " " +
                    EscapeField(EnvScript(*spec, run, task, node_name, gpus));
  if (placed_at) {
    std::lock_guard lock(mu_);
    watches_[run].placed_at = placed_at;
  }
  link->Submit("launch", arg, kRequestTimeout, [this, run, link](Result<RemoteReply> reply) {
    if (!reply.ok()) {
      // The launch may or may not have reached the node: the run stays starting and the
      // reconnect reconciles it (a repeated launch of the same run id never runs it twice).
      spdlog::warn("run {}: launch not confirmed: {}", run.value, reply.status().message());
      return;
    }
    std::vector<std::string> lines = Lines(*reply, "launch");
    std::vector<std::string> words = lines.empty() ? std::vector<std::string>() : Words(lines[0]);
    // A first launch is answered "started" at once, without waiting for the command's
    // pid: the run's "start RUN PID" event brings it (OnRunEvent). A repeated launch
    // answers "exists PID" with the pid when the node knows it already.
    int64_t pid = words.size() >= 2 ? ToInt(words[1]) : -1;
    if (pid > 0) ledger_.MarkRunning(run, pid);
    bool kill_pending = false;
    {
      std::lock_guard lock(mu_);
      auto it = watches_.find(run);
      kill_pending = it != watches_.end() && !it->second.kill_reason.empty();
    }
    if (kill_pending) Signal(link, run, "TERM");  // cancelled while it was starting
  });
}

void Executor::Signal(ExecLink* link, RunId run, const std::string& signal) {
  link->Submit("signal", signal + " " + std::to_string(run.value), kRequestTimeout,
               [](Result<RemoteReply>) {});
}

void Executor::CancelRequested(TaskId task) {
  Result<std::vector<LiveRun>> live = ledger_.Live();
  if (!live.ok()) return;
  for (const LiveRun& run : *live) {
    if (run.task != task) continue;
    UnixMs now = clock_->NowUnixMs();
    {
      std::lock_guard lock(mu_);
      RunWatch& w = watches_[run.run];
      if (!w.kill_reason.empty()) continue;
      w.kill_reason = "cancelled";
      w.term_sent_at = w.last_term_at = now;
    }
    if (ExecLink* link = LinkForRun(run)) Signal(link, run.run, "TERM");
  }
  wake_.notify_all();
}

void Executor::PullLog(ExecLink* link, RunId run, std::function<void()> then) {
  std::error_code ec;
  auto size = std::filesystem::file_size(LogPath(run), ec);
  uint64_t offset = ec ? 0 : size;
  link->Submit(
      "read",
      std::to_string(run.value) + " " + std::to_string(offset) + " " + std::to_string(kLogChunk),
      kRequestTimeout,
      [this, link, run, offset, then = std::move(then)](Result<RemoteReply> reply) {
        if (!reply.ok()) {
          if (then) then();
          return;
        }
        auto log = reply->sections.find("log");
        std::string bytes;
        if (log != reply->sections.end()) {
          Result<std::string> decoded = Base64Decode(log->second.text);
          if (decoded.ok()) bytes = std::move(*decoded);
        }
        if (!bytes.empty()) {
          std::ofstream out(LogPath(run), std::ios::app | std::ios::binary);
          out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        }
        std::vector<std::string> size_lines = Lines(*reply, "size");
        int64_t remote_size = size_lines.empty() ? -1 : ToInt(size_lines[0]);
        bool more = !bytes.empty() && remote_size > static_cast<int64_t>(offset + bytes.size());
        if (more) {
          PullLog(link, run, then);  // a big log: keep reading
        } else if (then) {
          then();
        }
      });
}

void Executor::CheckGoneThenFinish(ExecLink* link, RunId run) {
  link->Submit("signal", "0 " + std::to_string(run.value), kRequestTimeout,
               [this, link, run](Result<RemoteReply> reply) {
                 if (!reply.ok()) return;  // the watch loop or a reconnect tries again
                 std::vector<std::string> lines = Lines(*reply, "runs");
                 bool dead = !lines.empty() && lines[0].find(" dead") != std::string::npos;
                 std::string status, reason;
                 std::optional<int> code;
                 {
                   std::lock_guard lock(mu_);
                   RunWatch& w = watches_[run];
                   if (!dead || w.finishing) return;
                   w.finishing = true;
                   code = w.exit_code;
                   if (w.kill_reason == "requeued") {
                     // The ledger sees the task's on_time_limit and puts it back in the queue.
                     status = "timed_out";
                     reason = "time limit reached; requeued to run again";
                   } else if (!w.kill_reason.empty()) {
                     status = w.kill_reason;
                     reason = w.kill_reason == "cancelled" ? "cancelled" : "time limit reached";
                   } else {
                     status = code == 0 ? "succeeded" : "failed";
                     reason = "exit code " + std::to_string(code.value_or(-1));
                   }
                 }
                 PullLog(link, run,
                         [this, run, status, code, reason] { Finish(run, status, code, reason); });
               });
}

void Executor::Finish(RunId run, const std::string& status, std::optional<int> code,
                      const std::string& reason) {
  // Remember when these GPUs were released before the run stops counting as live.
  Result<std::vector<LiveRun>> live = ledger_.Live();
  Result<bool> ended = ledger_.End(run, status, code, reason);
  if (!ended.ok()) {
    spdlog::error("run {}: cannot record its end: {}", run.value, ended.status().ToString());
    return;
  }
  NodeId node;
  {
    std::lock_guard lock(mu_);
    watches_.erase(run);
    if (live.ok()) {
      for (const LiveRun& l : *live) {
        if (l.run != run) continue;
        node = l.node;
        for (int gpu : l.gpu_indices) last_released_[{l.node.value, gpu}] = clock_->NowUnixMs();
      }
    }
  }
  if (*ended) spdlog::info("run {}: {} ({})", run.value, status, reason);
  if (on_run_ended_) on_run_ended_(node);
}

UnixMs Executor::LastReleased(NodeId node, int gpu_index) const {
  std::lock_guard lock(mu_);
  auto it = last_released_.find({node.value, gpu_index});
  return it == last_released_.end() ? 0 : it->second;
}

void Executor::OnRunEvent(NodeId node, const std::string& remote_user, const std::string& line) {
  std::vector<std::string> words = Words(line);
  if (words.size() < 3) return;
  RunId run(ToInt(words[1]));
  int64_t value = ToInt(words[2]);
  if (!run.valid()) return;
  ExecLink* link = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = links_.find({node.value, remote_user});
    if (it != links_.end()) link = it->second.link.get();
  }
  if (link == nullptr) return;
  std::optional<std::chrono::steady_clock::time_point> placed_at;
  bool kill_pending = false;
  {
    // The stream replays the account's whole history after each reconnect: only live runs
    // (which all have a watch) matter, and the reconnect's reconciliation covers them too.
    std::lock_guard lock(mu_);
    auto it = watches_.find(run);
    if (it == watches_.end()) return;
    if (words[0] == "exit") it->second.exit_code = static_cast<int>(value);
    if (words[0] == "start") {
      placed_at = std::exchange(it->second.placed_at, std::nullopt);
      kill_pending = !it->second.kill_reason.empty();
    }
  }
  if (placed_at && launch_histogram_ != nullptr) {
    launch_histogram_->Observe(std::chrono::steady_clock::now() - *placed_at);
  }
  if (words[0] == "start" && value > 0) {
    ledger_.MarkRunning(run, value);
    // Cancelled while starting: the TERM sent then may have found no process group yet (the
    // launch is answered before the command has a pid), so send it again now that it has.
    if (kill_pending) Signal(link, run, "TERM");
  } else if (words[0] == "exit") {
    CheckGoneThenFinish(link, run);
  }
}

void Executor::OnExecConnected(NodeId node, const std::string& remote_user) {
  {
    std::lock_guard lock(mu_);
    LinkEntry& entry = links_[{node.value, remote_user}];
    entry.down_since = 0;
    entry.last_reconcile = clock_->NowUnixMs();
  }
  Reconcile(node, remote_user);
}

void Executor::OnExecDown(NodeId node, const std::string& remote_user, const Status& why) {
  std::lock_guard lock(mu_);
  LinkEntry& entry = links_[{node.value, remote_user}];
  if (entry.down_since == 0) {
    entry.down_since = clock_->NowUnixMs();
    spdlog::warn("node {} as {}: {}", node.value, remote_user, why.message());
  }
}

void Executor::Reconcile(NodeId node, const std::string& remote_user) {
  Result<std::vector<LiveRun>> live = ledger_.Live();
  if (!live.ok()) return;
  std::map<RunId, LiveRun> mine;
  std::string ids;
  for (const LiveRun& run : *live) {
    if (run.node != node || run.remote_user != remote_user) continue;
    mine[run.run] = run;
    ids += (ids.empty() ? "" : " ") + std::to_string(run.run.value);
  }
  if (mine.empty()) return;
  ExecLink* link = LinkForRun(mine.begin()->second);
  if (link == nullptr) return;
  link->Submit("status", ids, kRequestTimeout, [this, link, mine](Result<RemoteReply> reply) {
    if (!reply.ok()) return;  // the link reconnects and reconciles again
    for (const std::string& line : Lines(*reply, "runs")) {
      std::vector<std::string> w = Words(line);
      if (w.size() < 2) continue;
      auto it = mine.find(RunId(ToInt(w[0])));
      if (it == mine.end()) continue;
      const LiveRun& run = it->second;
      if (w[1] == "running" && w.size() >= 3) {
        ledger_.MarkRunning(run.run, ToInt(w[2]));
      } else if (w[1] == "exited" && w.size() >= 3) {
        {
          std::lock_guard lock(mu_);
          watches_[run.run].exit_code = static_cast<int>(ToInt(w[2]));
        }
        CheckGoneThenFinish(link, run.run);
      } else if (w[1] == "gone") {
        // A run gpuq was killing ends as what the kill was for, even if its runner died
        // before it could record a code; otherwise it is lost.
        std::string kill_reason;
        {
          std::lock_guard lock(mu_);
          auto watch = watches_.find(run.run);
          if (watch != watches_.end()) kill_reason = watch->second.kill_reason;
        }
        if (!kill_reason.empty()) {
          CheckGoneThenFinish(link, run.run);
          continue;
        }
        PullLog(link, run.run, [this, id = run.run] {
          Finish(id, "lost", std::nullopt, "the node has no exit code and no process for it");
        });
      } else if (w[1] == "unknown") {
        if (run.status == "starting") {
          // The launch never reached the node: send it now, under the same run id.
          SendLaunch(link, run.run, run.task, run.node_name, run.gpu_indices);
        } else {
          Finish(run.run, "lost", std::nullopt, "the node has no trace of the run");
        }
      }
    }
  });
}

}  // namespace gpuq
