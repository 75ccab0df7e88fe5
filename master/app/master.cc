#include "master/app/master.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "common/cluster_state.h"
#include "master/app/link_manager.h"
#include "master/app/node_events.h"
#include "master/app/queue_file_sync.h"
#include "master/app/queue_file_watcher.h"
#include "master/app/retention_job.h"
#include "master/app/sched_source.h"
#include "master/exec/executor.h"
#include "master/node/ssh_transport.h"
#include "master/notify/curl_sender.h"
#include "master/notify/notifier.h"
#include "master/sched/scheduler.h"
#include "master/secrets/password.h"
#include "master/secrets/secret_box.h"
#include "master/secrets/token.h"
#include "master/store/audit_log.h"
#include "master/store/database.h"
#include "master/store/user_store.h"
#include "web/api_server.h"
#include "web/panel_settings.h"

namespace gpuq {
namespace {

constexpr char kAdminName[] = "admin";

Status ParseListen(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("must be HOST:PORT, e.g. 0.0.0.0:8000", "listen");
  }
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);  // [::1]:8000
  }
  try {
    *port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    return Status::InvalidArgument("the port is not a number", "listen");
  }
  if (*port < 1 || *port > 65535) return Status::InvalidArgument("port out of range", "listen");
  return Status::Ok();
}

Status PrepareDataDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(dir) / "logs", ec);
  if (ec) return Status::Internal("cannot create the data folder " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);  // it holds the secret key and the database
  return Status::Ok();
}

// Holds DATA/master.lock for the life of the process: two masters on one database would
// start every task twice. The fd is left open on purpose; the kernel drops the lock at exit.
Status LockDataDir(const std::string& dir) {
  std::string path = dir + "/master.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {0};
    ssize_t n = ::pread(fd, pid, sizeof(pid) - 1, 0);
    ::close(fd);
    return Status::FailedPrecondition("another gpuq master (pid " +
                                      std::string(pid, n > 0 ? static_cast<size_t>(n) : 0) +
                                      ") is using the data folder " + dir);
  }
  std::string me = std::to_string(::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) < 0) {
    return Status::Internal("cannot write " + path);
  }
  return Status::Ok();
}

// Creates the admin account on first start.
Status EnsureAdmin(Database* db, Clock* clock) {
  UserStore users(db, clock);
  if (users.FindByName(kAdminName).ok()) return Status::Ok();
  const char* from_env = std::getenv("GPUQ_ADMIN_PASSWORD");
  bool generated = from_env == nullptr || *from_env == '\0';
  std::string password = generated ? RandomUrlSafeToken(12) : from_env;
  Result<std::string> hash = HashPassword(password);
  if (!hash.ok()) return hash.status();
  Result<UserId> id = users.Create(kAdminName, *hash, UserRole::kAdmin);
  if (!id.ok()) return id.status();
  AuditLog(db, clock).Record(std::nullopt, "user.create", "user admin", "first start");
  if (generated) {
    std::cout << "gpuq: created the account 'admin' with password: " << password
              << "\n      (shown once; set GPUQ_ADMIN_PASSWORD before the first start to choose it)"
              << std::endl;
  } else {
    std::cout << "gpuq: created the account 'admin' with the password from GPUQ_ADMIN_PASSWORD"
              << std::endl;
  }
  return Status::Ok();
}

// The notification settings the master starts with; links default to the listen address
// (this machine's host name when listening on every address).
NotifySettings StartupNotifySettings(const MasterOptions& options, const std::string& host,
                                     int port) {
  NotifySettings s;
  s.smtp.host = options.smtp_host;
  s.smtp.port = options.smtp_port;
  s.smtp.security = options.smtp_security;
  s.smtp.user = options.smtp_user;
  s.smtp.password = options.smtp_password;
  s.smtp.from = options.smtp_from;
  s.public_url = options.public_url;
  if (s.public_url.empty()) {
    std::string name = host;
    if (name == "0.0.0.0" || name == "::" || name.empty()) {
      char buf[256] = {0};
      name = ::gethostname(buf, sizeof(buf) - 1) == 0 ? buf : "localhost";
    } else if (name.find(':') != std::string::npos) {
      name = "[" + name + "]";
    }
    s.public_url = "http://" + name + ":" + std::to_string(port);
  }
  while (!s.public_url.empty() && s.public_url.back() == '/') s.public_url.pop_back();
  return s;
}

// What the web layer may ask of the master.
class Actions final : public MasterActions {
 public:
  Actions(LinkManager* links, ClusterState* cluster, Database* db, Clock* clock,
          Scheduler* scheduler, Executor* executor)
      : links_(links),
        cluster_(cluster),
        db_(db),
        clock_(clock),
        scheduler_(scheduler),
        executor_(executor) {}

  void NodeChanged(NodeId node) override { links_->Restart(node); }
  void NodeRemoved(NodeId node) override {
    links_->Remove(node);
    cluster_->Remove(node);
  }
  void CredentialChanged(UserId user) override {
    Result<UserRow> row = UserStore(db_, clock_).FindById(user);
    if (row.ok() && row->username == kAdminName) links_->RestartAll();
  }
  Result<std::string> FingerprintPrivateKey(const std::string& key_text) override {
    return PublicKeyFingerprint(key_text);
  }
  void TasksChanged() override { scheduler_->Wake(); }
  void CancelRequested(TaskId task) override { executor_->CancelRequested(task); }
  std::string WaitingReason(TaskId task) override { return scheduler_->WaitingReason(task); }
  std::string NeverFitsWarning(const TaskRequest& task) override {
    std::optional<std::string> reason = NeverFitsReason(scheduler_->LastSnapshot(), task);
    return reason ? "can never run: " + *reason : "";
  }

 private:
  LinkManager* links_;
  ClusterState* cluster_;
  Database* db_;
  Clock* clock_;
  Scheduler* scheduler_;
  Executor* executor_;
};

}  // namespace

int RunMaster(const MasterOptions& options) {
  // glibc gives threads that allocate at once their own heap arenas (up to 8 per core) and
  // keeps each at its peak: after a few task lists of 2 000 tasks the master held 91 MB.
  // Two arenas keep it near 30 MB, and the HTTP threads do not contend enough to notice.
  mallopt(M_ARENA_MAX, 2);
  // Signals are taken by one waiting thread; every other thread inherits the block.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the master

  auto fail = [](const Status& s) {
    std::cerr << "gpuq master: " << s.ToString() << std::endl;
    return 1;
  };
  std::string host;
  int port = 0;
  if (Status s = ParseListen(options.listen, &host, &port); !s.ok()) return fail(s);
  if (Status s = PrepareDataDir(options.data_dir); !s.ok()) return fail(s);
  if (Status s = LockDataDir(options.data_dir); !s.ok()) return fail(s);

  RealClock* clock = RealClock::Get();
  Result<std::unique_ptr<Database>> db = Database::Open(options.data_dir + "/gpuq.db");
  if (!db.ok()) return fail(db.status());
  Result<SecretBox> secrets = SecretBox::LoadOrCreate(options.data_dir + "/secret.key");
  if (!secrets.ok()) return fail(secrets.status());
  if (Status s = EnsureAdmin(db->get(), clock); !s.ok()) return fail(s);

  // The panel's poll interval applies unless the command line, environment or config file
  // chose one (those win, as for every other setting).
  int probe_interval_ms = options.probe_interval_ms;
  if (!options.probe_interval_given) {
    std::string stored = SettingValue(db->get(), clock, kSettingPollIntervalMs);
    if (ValidateWholeNumber(stored, 200, 60000).ok()) probe_interval_ms = std::stoi(stored);
  }

  ClusterState cluster;
  SshTransport transport;
  NodeEvents events(db->get(), clock, &cluster);
  LinkOptions link_options;
  link_options.probe_interval = std::chrono::milliseconds(probe_interval_ms);
  link_options.probe_timeout = std::chrono::milliseconds(options.probe_timeout_ms);
  link_options.connect_timeout = std::chrono::milliseconds(options.connect_timeout_ms);
  link_options.probe_account = kAdminName;
  LinkManager links(db->get(), clock, &*secrets, &transport, &events, link_options);

  ExecOptions exec_options;
  exec_options.data_dir = options.data_dir;
  exec_options.kill_grace = std::chrono::milliseconds(options.kill_grace_ms);
  exec_options.lost_after = std::chrono::milliseconds(options.lost_after_ms);
  exec_options.connect_timeout = link_options.connect_timeout;
  exec_options.default_time_limit_s = options.default_time_limit_s;
  Executor executor(db->get(), clock, &*secrets, &transport, exec_options);
  SchedSettings sched_flags;
  sched_flags.max_running = options.max_running;
  sched_flags.max_running_per_user = options.max_running_per_user;
  sched_flags.max_running_per_node = options.max_running_per_node;
  sched_flags.default_time_limit_s = options.default_time_limit_s;
  SchedSource sched_source(db->get(), clock, &cluster, &executor, sched_flags);
  PolicyOptions policy;
  // Memory and utilisation are judged over the last 10 samples (10 s at the default
  // interval): one quiet sample does not free a busy GPU, and a GPU whose foreign job ended
  // is usable again within seconds, not minutes.
  policy.max_samples = 10;
  Scheduler scheduler(&sched_source, &sched_source, policy);
  MasterMetrics metrics;
  scheduler.SetPassHistogram(&metrics.schedule_pass);
  executor.SetLaunchHistogram(&metrics.launch);
  // A run's end frees its GPUs, but the policy trusts what the node shows: probe that node
  // at once and wake the scheduler again when its fresh sample lands.
  std::mutex awaiting_mu;
  std::set<NodeId> awaiting_sample;
  executor.SetOnRunEnded([&](NodeId node) {
    {
      std::lock_guard lock(awaiting_mu);
      awaiting_sample.insert(node);
    }
    links.ProbeSoon(node);
    scheduler.Wake();
  });
  events.SetOnSample([&](NodeId node) {
    bool wake = false;
    {
      std::lock_guard lock(awaiting_mu);
      wake = awaiting_sample.erase(node) > 0;
    }
    if (wake) scheduler.Wake();
  });
  events.SetOnAvailabilityChange([&scheduler] { scheduler.Wake(); });

  // Notifications: the executor records events in its own transactions; one notifier thread
  // delivers them, so no SMTP or HTTP call ever holds up scheduling.
  CurlSender notify_sender;
  NotifierOptions notify_options;
  notify_options.startup = StartupNotifySettings(options, host, port);
  notify_options.data_dir = options.data_dir;
  notify_options.retry_base = std::chrono::milliseconds(options.notify_retry_base_ms);
  notify_options.retry_max = std::chrono::milliseconds(options.notify_retry_max_ms);
  notify_options.max_attempts = options.notify_max_attempts;
  Notifier notifier(db->get(), clock, &*secrets, &notify_sender, &cluster, notify_options);
  // The live CSV queue file, when one is given.
  std::unique_ptr<QueueFileSync> queue_sync;
  std::unique_ptr<QueueFileWatcher> queue_watcher;
  if (!options.queue_file.empty()) {
    Result<UserRow> owner = UserStore(db->get(), clock).FindByName(options.queue_file_user);
    if (!owner.ok()) {
      return fail(Status::InvalidArgument(
          "no account named '" + options.queue_file_user + "' to own the queue file's tasks",
          "queue_file_user"));
    }
    std::error_code ec;
    std::string path = std::filesystem::absolute(options.queue_file, ec).string();
    if (ec) return fail(Status::InvalidArgument(ec.message(), "queue_file"));
    queue_sync = std::make_unique<QueueFileSync>(db->get(), clock, path, owner->id);
    queue_watcher = std::make_unique<QueueFileWatcher>(path, queue_sync.get(), clock,
                                                       [&scheduler] { scheduler.Wake(); });
  }

  LoginLimiter login_limiter(clock);
  Actions actions(&links, &cluster, db->get(), clock, &scheduler, &executor);
  WebContext web;
  web.db = db->get();
  web.clock = clock;
  web.secrets = &*secrets;
  web.cluster = &cluster;
  web.actions = &actions;
  web.login_limiter = &login_limiter;
  web.metrics = &metrics;
  web.data_dir = options.data_dir;
  web.tls = !options.tls_cert.empty();  // panel cookies are then marked Secure
  web.notifier = &notifier;
  ApiServer server(web, TlsFiles{options.tls_cert, options.tls_key});
  if (Status s = server.Bind(host, port); !s.ok()) return fail(s);
  if (Status s = links.StartAll(); !s.ok()) return fail(s);
  executor.Start();  // reconciles every live run as its node's link connects
  scheduler.Start();
  RetentionJob retention(db->get(), clock, options.data_dir);  // the panel's retention setting
  retention.Start();
  notifier.Start();
  if (queue_watcher) queue_watcher->Start();

  std::thread signal_waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    spdlog::info("signal {}: stopping (runs on nodes keep running)", sig);
    server.Stop();
  });
  spdlog::info("gpuq master listening on {}://{}:{} (data: {})",
               options.tls_cert.empty() ? "http" : "https", host, port, options.data_dir);
  server.Run();

  retention.Stop();
  if (queue_watcher) queue_watcher->Stop();
  scheduler.Stop();
  executor.Stop();
  notifier.Stop();
  links.StopAll();
  // If the server stopped for another reason, release the signal waiter.
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace gpuq
