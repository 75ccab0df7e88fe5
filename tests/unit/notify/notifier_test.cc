#include "master/notify/notifier.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/task_spec.h"
#include "master/exec/run_ledger.h"
#include "master/store/credential_store.h"
#include "master/store/node_store.h"
#include "master/store/task_store.h"
#include "master/store/user_store.h"
#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// Records what it was asked to send; fails while `fail` is set.
class FakeSender final : public Sender {
 public:
  struct Post {
    std::string url, format;
    json body;
  };
  Status SendMail(const SmtpConfig& smtp, const OutgoingMail& mail) override {
    std::lock_guard lock(mu);
    if (!smtp.enabled()) return Status::FailedPrecondition("SMTP is not configured");
    if (fail) return Status::Unavailable("SMTP smtp://smtp.lab:25: connection refused");
    mails.push_back(mail);
    return Status::Ok();
  }
  Status PostJson(const std::string& url, const std::string& format,
                  const std::string& body) override {
    std::lock_guard lock(mu);
    attempts++;
    if (fail) return Status::Unavailable("HTTP 503");
    posts.push_back({url, format, json::parse(body)});
    return Status::Ok();
  }
  std::vector<Post> PostsTo(const std::string& url) {
    std::vector<Post> out;
    for (const Post& p : posts) {
      if (p.url == url) out.push_back(p);
    }
    return out;
  }
  std::mutex mu;
  bool fail = false;
  int attempts = 0;
  std::vector<OutgoingMail> mails;
  std::vector<Post> posts;
};

class NotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = store_test::OpenMemoryDb();
    alice_ = *UserStore(db_.get(), &clock_).Create("alice", "hash", UserRole::kUser);
    ASSERT_TRUE(SetUserEmail(db_.get(), alice_, "alice@lab.org").ok());
    ASSERT_TRUE(
        CredentialStore(db_.get(), &clock_).Put(alice_, "alice", "sealed", "SHA256:k").ok());
    node_ = *NodeStore(db_.get(), &clock_)
                 .Create(NodeSpec{"gpu1", "127.0.0.1", 22, "nvidia-smi", true});
    std::filesystem::create_directories(Dir() / "logs");
    options_.startup.smtp.host = "smtp.lab";
    options_.startup.smtp.from = "gpuq@lab.org";
    options_.startup.public_url = "https://gpuq.lab";
    options_.startup.gpu_idle_minutes = 1;
    options_.data_dir = Dir().string();
    options_.retry_base = milliseconds(1000);
    options_.retry_max = milliseconds(4000);
    options_.max_attempts = 4;
  }

  std::filesystem::path Dir() const {
    return std::filesystem::path(dir_.File("logs")).parent_path();
  }

  std::unique_ptr<Notifier> MakeNotifier() {
    return std::make_unique<Notifier>(db_.get(), &clock_, &box_, &sender_, &cluster_, options_);
  }

  int64_t AddTarget(const std::string& kind, const std::string& address,
                    std::vector<std::string> events, const std::string& format = "generic",
                    bool enabled = true) {
    NotifyTargetRow t;
    t.kind = kind;
    t.address = address;
    t.format = format;
    t.events = std::move(events);
    t.enabled = enabled;
    return *NotifyTargetStore(db_.get(), &clock_).Create(t);
  }

  TaskId Submit(const std::string& notify, int retries = 0) {
    TaskSpec spec;
    spec.command = "python train.py";
    spec.name = "train";
    spec.retries = retries;
    spec.notify = notify;
    Result<TaskId> id = TaskStore(db_.get(), &clock_).Create(spec, alice_);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return *id;
  }

  // Starts a run of `task` and, unless status is empty, ends it.
  RunId Run(TaskId task, const std::string& status, std::optional<int> code,
            const std::string& output = "") {
    RunLedger ledger(db_.get(), &clock_);
    RunId run = *ledger.Reserve(task, node_, "gpu1", {0}, "alice");
    EXPECT_TRUE(ledger.MarkRunning(run, 100).ok());
    std::ofstream(Dir() / "logs" / (std::to_string(run.value) + ".log")) << output;
    clock_.Advance(milliseconds(1500));
    if (!status.empty()) {
      EXPECT_TRUE(*ledger.End(run, status, code, "exit code"));
    }
    return run;
  }

  std::vector<NotificationRow> Outbox(const std::string& status = "") {
    return *NotifyOutbox(db_.get(), &clock_).List(status, 1000);
  }

  void Sample(int util_pct) {
    GpuStatus gpu;
    gpu.index = 0;
    gpu.util_pct = util_pct;
    cluster_.RecordSample(node_, NodeSample{clock_.NowUnixMs(), {gpu}}, 1.0);
  }

  FakeClock clock_;
  test::TempDir dir_;
  SecretBox box_ = SecretBox::FromKeyForTesting(std::string(SecretBox::kKeyBytes, 'k'));
  FakeSender sender_;
  ClusterState cluster_;
  NotifierOptions options_;
  std::unique_ptr<Database> db_;
  UserId alice_;
  NodeId node_;
};

TEST_F(NotifierTest, TaskEndsReachSubscribedTargetsAndTheOwnersEmailOnce) {
  AddTarget("webhook", "https://hooks/generic", {"run_ended"});
  AddTarget("webhook", "https://hooks/slack", {"task_failed"}, "slack");
  AddTarget("webhook", "https://hooks/off", {"run_ended", "task_failed"}, "generic", false);
  AddTarget("email", "ops@lab.org", {"task_failed"});
  TaskId task = Submit("failure", /*retries=*/1);
  std::string output;
  for (int i = 1; i <= 40; ++i) output += "line " + std::to_string(i) + "\n";
  Run(task, "failed", 1, "first try\n");  // retried
  Run(task, "failed", 3, output);         // final

  std::unique_ptr<Notifier> notifier = MakeNotifier();
  notifier->RunOnce();
  notifier->RunOnce();

  std::vector<FakeSender::Post> generic = sender_.PostsTo("https://hooks/generic");
  ASSERT_EQ(generic.size(), 2u);
  EXPECT_EQ(generic[0].body["run"]["retrying"], true);
  EXPECT_EQ(generic[1].body["run"]["retrying"], false);
  EXPECT_EQ(generic[1].body["run"]["exit_code"], 3);
  EXPECT_EQ(generic[1].body["link"], "https://gpuq.lab/admin/tasks/" + std::to_string(task.value));
  EXPECT_EQ(sender_.PostsTo("https://hooks/slack").size(), 1u);
  EXPECT_TRUE(sender_.PostsTo("https://hooks/off").empty());

  ASSERT_EQ(sender_.mails.size(), 2u);
  const OutgoingMail& mine =
      sender_.mails[0].to == "alice@lab.org" ? sender_.mails[0] : sender_.mails[1];
  EXPECT_EQ(mine.to, "alice@lab.org");
  EXPECT_NE(mine.subject.find("failed with exit code 3"), std::string::npos);
  // The last 30 lines: "line 11" .. "line 40".
  EXPECT_NE(mine.body.find("output:\nline 11\n"), std::string::npos) << mine.body;
  EXPECT_EQ(mine.body.find("line 10\n"), std::string::npos);
  EXPECT_NE(mine.body.find("line 40\n"), std::string::npos);
  EXPECT_NE(mine.body.find("Duration: 1s\n"), std::string::npos) << mine.body;
  EXPECT_EQ(Outbox("sent").size(), 5u);
  EXPECT_TRUE(Outbox("pending").empty());
}

TEST_F(NotifierTest, OwnerEmailFollowsTheTasksNotify) {
  Run(Submit("failure"), "succeeded", 0);  // failure only: no mail for a success
  Run(Submit("off"), "failed", 1);         // off: none
  TaskId ended = Submit("end");
  Run(ended, "cancelled", std::nullopt);  // end: any end
  MakeNotifier()->RunOnce();
  ASSERT_EQ(sender_.mails.size(), 1u);
  EXPECT_NE(sender_.mails[0].subject.find("task " + std::to_string(ended.value) + " (train)"),
            std::string::npos);
  EXPECT_NE(sender_.mails[0].subject.find("was cancelled"), std::string::npos);
}

TEST_F(NotifierTest, NoOwnerEmailWithoutSmtpOrAddress) {
  options_.startup.smtp.host = "";
  Run(Submit("end"), "succeeded", 0);
  MakeNotifier()->RunOnce();
  EXPECT_TRUE(Outbox().empty());

  options_.startup.smtp.host = "smtp.lab";
  ASSERT_TRUE(SetUserEmail(db_.get(), alice_, "").ok());
  Run(Submit("end"), "succeeded", 0);
  MakeNotifier()->RunOnce();
  EXPECT_TRUE(Outbox().empty());
}

TEST_F(NotifierTest, FailedDeliveriesBackOffThenGiveUpAndCanBeRetried) {
  AddTarget("webhook", "https://hooks/a", {"run_started"});
  sender_.fail = true;
  Run(Submit("off"), "", std::nullopt);
  std::unique_ptr<Notifier> notifier = MakeNotifier();
  notifier->RunOnce();
  EXPECT_EQ(sender_.attempts, 1);
  // Waits: 1 s, 2 s, 4 s (retry_max), then the 4th failure gives up.
  for (int wait_ms : {1000, 2000, 4000}) {
    clock_.Advance(milliseconds(wait_ms - 1));
    int before = sender_.attempts;
    notifier->RunOnce();
    EXPECT_EQ(sender_.attempts, before) << "too early after " << wait_ms - 1 << " ms";
    clock_.Advance(milliseconds(1));
    notifier->RunOnce();
    EXPECT_EQ(sender_.attempts, before + 1);
  }
  std::vector<NotificationRow> failed = Outbox("failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].attempts, 4);
  EXPECT_EQ(failed[0].last_error, "HTTP 503");
  clock_.Advance(milliseconds(3'600'000));
  notifier->RunOnce();
  EXPECT_EQ(sender_.attempts, 4);

  NotifyOutbox outbox(db_.get(), &clock_);
  ASSERT_TRUE(outbox.Retry(failed[0].id).ok());
  EXPECT_EQ(outbox.Retry(failed[0].id).code(), ErrorCode::kFailedPrecondition);
  sender_.fail = false;
  notifier->RunOnce();
  EXPECT_EQ(sender_.posts.size(), 1u);
  EXPECT_EQ(Outbox("sent").size(), 1u);
}

TEST_F(NotifierTest, ARestartedNotifierResumesPendingMessagesAndSendsEachOnce) {
  AddTarget("webhook", "https://hooks/a", {"run_ended"});
  sender_.fail = true;
  Run(Submit("end"), "succeeded", 0);
  MakeNotifier()->RunOnce();  // both the webhook and alice's mail fail once
  EXPECT_EQ(Outbox("pending").size(), 2u);

  sender_.fail = false;
  clock_.Advance(milliseconds(1000));
  std::unique_ptr<Notifier> restarted = MakeNotifier();
  restarted->RunOnce();
  restarted->RunOnce();
  clock_.Advance(milliseconds(60'000));
  restarted->RunOnce();
  EXPECT_EQ(sender_.posts.size(), 1u);
  EXPECT_EQ(sender_.mails.size(), 1u);
  EXPECT_EQ(Outbox("sent").size(), 2u);
}

TEST_F(NotifierTest, ADeadDestinationCostsOneAttemptPerPassNotOnePerMessage) {
  AddTarget("webhook", "https://dead.example:8443/a", {"run_ended"});
  AddTarget("webhook", "https://dead.example:8443/b", {"run_ended"});
  AddTarget("webhook", "https://alive.example/c", {"run_ended"});
  sender_.fail = true;
  for (int i = 0; i < 3; ++i) Run(Submit("off"), "succeeded", 0);
  std::unique_ptr<Notifier> notifier = MakeNotifier();
  notifier->RunOnce();
  // One try per host; the other five messages to each wait with the failed one.
  EXPECT_EQ(sender_.attempts, 2);
  std::vector<NotificationRow> pending = Outbox("pending");
  ASSERT_EQ(pending.size(), 9u);
  int tried = 0;
  for (const NotificationRow& m : pending) {
    tried += m.attempts;
    EXPECT_EQ(m.next_attempt_at, clock_.NowUnixMs() + 1000) << m.recipient;
    EXPECT_NE(m.last_error.find("HTTP 503"), std::string::npos) << m.last_error;
  }
  EXPECT_EQ(tried, 2);

  sender_.fail = false;
  clock_.Advance(milliseconds(1000));
  notifier->RunOnce();
  EXPECT_EQ(sender_.posts.size(), 9u);
  EXPECT_EQ(Outbox("sent").size(), 9u);
}

TEST_F(NotifierTest, DeletingATargetEndsItsRetries) {
  int64_t hook = AddTarget("webhook", "https://hooks/broken", {"run_started"});
  sender_.fail = true;
  Run(Submit("off"), "", std::nullopt);
  std::unique_ptr<Notifier> notifier = MakeNotifier();
  notifier->RunOnce();
  ASSERT_TRUE(NotifyTargetStore(db_.get(), &clock_).Delete(hook).ok());
  clock_.Advance(milliseconds(10'000));
  notifier->RunOnce();
  EXPECT_EQ(sender_.attempts, 1);
  std::vector<NotificationRow> failed = Outbox("failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].last_error, "its target was deleted");
}

TEST_F(NotifierTest, WebhooksStillGoWhenTheStoredSmtpPasswordCannotBeOpened) {
  AddTarget("webhook", "https://hooks/a", {"run_ended"});
  SecretBox other = SecretBox::FromKeyForTesting(std::string(SecretBox::kKeyBytes, 'o'));
  ASSERT_TRUE(UpdateNotifySettings(db_.get(), &clock_, &other,
                                   json::parse(R"({"smtp": {"password": "pw"}})"))
                  .ok());
  Run(Submit("end"), "succeeded", 0);
  MakeNotifier()->RunOnce();
  EXPECT_EQ(sender_.posts.size(), 1u);
  EXPECT_TRUE(sender_.mails.empty());
  std::vector<NotificationRow> pending = Outbox("pending");
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_NE(pending[0].last_error.find("cannot be decrypted"), std::string::npos);
}

TEST_F(NotifierTest, AnEventBecomesMessagesOnlyOnce) {
  NotifyOutbox outbox(db_.get(), &clock_);
  ASSERT_TRUE(outbox.RecordEvent("node_down", R"({"node": 1, "name": "gpu1"})").ok());
  std::vector<NotifyEventRow> events = *outbox.Undispatched(10);
  ASSERT_EQ(events.size(), 1u);
  NotificationRow m;
  m.event = "node_down";
  m.channel = "webhook";
  m.recipient = "https://hooks/a";
  m.body = "{}";
  EXPECT_TRUE(*outbox.Dispatch(events[0].id, {m}));
  EXPECT_FALSE(*outbox.Dispatch(events[0].id, {m}));
  EXPECT_EQ(Outbox().size(), 1u);
  EXPECT_TRUE(outbox.Undispatched(10)->empty());
}

TEST_F(NotifierTest, NodeDownAndBackAreReportedOnChangeOnly) {
  AddTarget("webhook", "https://hooks/admin", {"node_down", "node_up"});
  std::unique_ptr<Notifier> notifier = MakeNotifier();
  cluster_.RecordUnavailable(node_, "connection refused", clock_.NowUnixMs());
  notifier->RunOnce();  // the first look only learns the state
  Sample(0);
  notifier->RunOnce();  // up, but never reported down: nothing
  EXPECT_TRUE(sender_.posts.empty());
  cluster_.RecordUnavailable(node_, "probe timed out", clock_.NowUnixMs());
  notifier->RunOnce();
  notifier->RunOnce();
  Sample(0);
  notifier->RunOnce();
  ASSERT_EQ(sender_.posts.size(), 2u);
  EXPECT_EQ(sender_.posts[0].body["event"], "node_down");
  EXPECT_EQ(sender_.posts[0].body["node"], "gpu1");
  EXPECT_EQ(sender_.posts[0].body["error"], "probe timed out");
  EXPECT_EQ(sender_.posts[1].body["event"], "node_up");
  EXPECT_EQ(sender_.posts[1].body["link"],
            "https://gpuq.lab/admin/nodes/" + std::to_string(node_.value));
}

TEST_F(NotifierTest, AGpuIdleForTheSetMinutesIsReportedOncePerRun) {
  AddTarget("webhook", "https://hooks/admin", {"gpu_idle"});
  TaskId task = Submit("off");
  Run(task, "", std::nullopt);  // running on GPU 0
  std::unique_ptr<Notifier> notifier = MakeNotifier();
  Sample(0);
  notifier->RunOnce();
  clock_.Advance(milliseconds(30'000));
  Sample(40);  // busy for a moment: the idle time starts again
  notifier->RunOnce();
  clock_.Advance(milliseconds(10'000));
  Sample(1);
  notifier->RunOnce();
  clock_.Advance(milliseconds(59'000));
  notifier->RunOnce();
  EXPECT_TRUE(sender_.posts.empty());
  clock_.Advance(milliseconds(1'000));
  notifier->RunOnce();
  ASSERT_EQ(sender_.posts.size(), 1u);
  EXPECT_EQ(sender_.posts[0].body["event"], "gpu_idle");
  EXPECT_EQ(sender_.posts[0].body["task"]["id"], task.value);
  EXPECT_EQ(sender_.posts[0].body["gpus"], json::array({0}));
  clock_.Advance(milliseconds(600'000));
  notifier->RunOnce();
  // A restarted master does not repeat it either.
  std::unique_ptr<Notifier> restarted = MakeNotifier();
  restarted->RunOnce();
  clock_.Advance(milliseconds(60'000));
  Sample(0);
  restarted->RunOnce();
  EXPECT_EQ(sender_.posts.size(), 1u);
}

TEST_F(NotifierTest, SendTestReportsWhatTheServerSaid) {
  int64_t hook = AddTarget("webhook", "https://hooks/t", {}, "feishu");
  int64_t mail = AddTarget("email", "ops@lab.org", {});
  std::unique_ptr<Notifier> notifier = MakeNotifier();
  EXPECT_TRUE(notifier->SendTest(hook).ok());
  ASSERT_EQ(sender_.posts.size(), 1u);
  EXPECT_EQ(sender_.posts[0].body["msg_type"], "text");
  EXPECT_TRUE(notifier->SendTest(mail).ok());
  ASSERT_EQ(sender_.mails.size(), 1u);
  EXPECT_EQ(sender_.mails[0].to, "ops@lab.org");
  EXPECT_EQ(notifier->SendTest(999).code(), ErrorCode::kNotFound);
  sender_.fail = true;
  EXPECT_EQ(notifier->SendTestMail("x@lab.org").code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(Outbox().empty());  // tests are not queued
}

}  // namespace
}  // namespace gpuq
