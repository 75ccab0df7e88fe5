#include "master/notify/notifier.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "common/gpu_indices.h"
#include "master/store/node_store.h"

namespace gpuq {
namespace {

constexpr int kBatch = 50;
// Only the end of a run's output is read: a log may be gigabytes.
constexpr std::streamoff kTailBytes = 64 * 1024;

// Messages that share a destination share its fate: every e-mail goes through the one SMTP
// server; webhooks per scheme://host:port.
std::string Destination(const NotificationRow& m) {
  if (m.channel == "email") return "smtp";
  size_t host = m.recipient.find("://");
  size_t end = host == std::string::npos ? std::string::npos : m.recipient.find('/', host + 3);
  return m.recipient.substr(0, end);
}

}  // namespace

Notifier::Notifier(Database* db, Clock* clock, const SecretBox* secrets, Sender* sender,
                   const ClusterState* cluster, NotifierOptions options)
    : db_(db),
      clock_(clock),
      secrets_(secrets),
      sender_(sender),
      cluster_(cluster),
      options_(std::move(options)),
      outbox_(db, clock) {}

Notifier::~Notifier() { Stop(); }

void Notifier::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Notifier::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) return;
    stop_ = true;
  }
  sender_->CancelAll();
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Notifier::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  wake_.notify_all();
}

void Notifier::Loop() {
  for (;;) {
    RunOnce();
    auto wait = options_.tick;
    Result<std::optional<UnixMs>> next = outbox_.NextDue();
    if (next.ok() && next->has_value()) {
      auto until = std::chrono::milliseconds(std::max<int64_t>(**next - clock_->NowUnixMs(), 10));
      wait = std::min<std::chrono::milliseconds>(wait, until);
    }
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, wait, [this] { return stop_ || woken_; });
    if (stop_) return;
    woken_ = false;
  }
}

void Notifier::RunOnce() {
  WatchNodes();
  WatchIdleGpus();
  DispatchEvents();
  DeliverDue();
  auto now = clock_->NowSteady();
  if (now - last_prune_ > std::chrono::hours(1)) {
    last_prune_ = now;
    UnixMs before = clock_->NowUnixMs() -
                    std::chrono::duration_cast<std::chrono::milliseconds>(options_.keep).count();
    if (Status s = outbox_.Prune(before); !s.ok()) {
      spdlog::warn("notifications: cannot prune old rows: {}", s.ToString());
    }
  }
}

Result<NotifySettings> Notifier::Settings() const {
  return LoadNotifySettings(db_, clock_, secrets_, options_.startup);
}

void Notifier::DispatchEvents() {
  Result<std::vector<NotifyEventRow>> events = outbox_.Undispatched(kBatch);
  if (!events.ok()) {
    spdlog::error("notifications: cannot read events: {}", events.status().ToString());
    return;
  }
  if (events->empty()) return;
  Result<NotifySettings> settings = Settings();
  if (!settings.ok()) {
    // Only the stored SMTP password can make this fail; events still go out with the
    // startup settings, and e-mails show the error when they are sent.
    spdlog::error("notifications: {}", settings.status().ToString());
    settings = options_.startup;
  }
  for (const NotifyEventRow& event : *events) {
    Result<std::vector<NotificationRow>> messages = MessagesFor(event, *settings);
    if (!messages.ok()) {
      // A run deleted meanwhile, or facts that make no sense: nothing to say, and saying it
      // again will not help. Anything else (the database busy) is retried at the next tick.
      spdlog::warn("notifications: event {} ({}): {}", event.id, event.kind,
                   messages.status().ToString());
      ErrorCode code = messages.status().code();
      if (code != ErrorCode::kNotFound && code != ErrorCode::kCorruption) continue;
      messages = std::vector<NotificationRow>{};
    }
    Result<bool> done = outbox_.Dispatch(event.id, *messages);
    if (!done.ok()) {
      spdlog::error("notifications: cannot queue event {}: {}", event.id, done.status().ToString());
    }
  }
}

void Notifier::DeliverDue() {
  Result<std::vector<NotificationRow>> due = outbox_.Due(clock_->NowUnixMs(), kBatch);
  if (!due.ok()) {
    spdlog::error("notifications: cannot read the outbox: {}", due.status().ToString());
    return;
  }
  if (due->empty()) return;
  Result<NotifySettings> settings = Settings();
  // A destination that just failed (or hung until its timeout) is not tried again in this
  // pass: its other messages wait as long as the failed one, so one dead server costs one
  // timeout per retry, not one per message, and the rest of the outbox keeps moving.
  std::map<std::string, std::pair<std::string, UnixMs>> failed_destinations;
  for (const NotificationRow& m : *due) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    if (auto f = failed_destinations.find(Destination(m)); f != failed_destinations.end()) {
      Status s = outbox_.Defer(m.id, f->second.first, f->second.second);
      if (!s.ok()) spdlog::error("notification {}: {}", m.id, s.ToString());
      continue;
    }
    // Webhooks need no settings; e-mails need SMTP's.
    Status s = settings.ok() || m.channel == "webhook"
                   ? Deliver(m, settings.ok() ? *settings : options_.startup)
                   : settings.status();
    if (s.ok()) {
      // Marked sent the moment the server accepted it; a message is never sent again after
      // this row says so.
      if (Status mark = outbox_.MarkSent(m.id); !mark.ok()) {
        spdlog::error("notification {}: sent, but cannot record it: {}", m.id, mark.ToString());
      }
      continue;
    }
    {
      std::lock_guard lock(mu_);
      if (stop_) return;  // cancelled by Stop(): not a failure of the recipient
    }
    int attempts = m.attempts + 1;
    bool give_up = attempts >= options_.max_attempts;
    double factor = std::pow(2.0, std::min(attempts - 1, 30));
    int64_t delay_ms = static_cast<int64_t>(
        std::min<double>(static_cast<double>(options_.retry_base.count()) * factor,
                         static_cast<double>(options_.retry_max.count())));
    if (give_up) {
      spdlog::error("notification {} ({} to {}): giving up after {} attempts: {}", m.id, m.event,
                    m.recipient, attempts, s.message());
    } else {
      spdlog::warn("notification {} ({} to {}): attempt {} failed, next in {} ms: {}", m.id,
                   m.event, m.recipient, attempts, delay_ms, s.message());
    }
    UnixMs next_at = clock_->NowUnixMs() + delay_ms;
    failed_destinations[Destination(m)] = {"not tried: " + s.message(), next_at};
    Status mark = outbox_.MarkAttemptFailed(m.id, s.message(), next_at, give_up);
    if (!mark.ok()) spdlog::error("notification {}: {}", m.id, mark.ToString());
    // A failure may have taken the whole timeout: queue what happened meanwhile, so the
    // outbox (and the panel) show it while this pass goes on.
    DispatchEvents();
  }
}

Status Notifier::Deliver(const NotificationRow& m, const NotifySettings& settings) {
  if (m.channel == "email") {
    OutgoingMail mail{m.recipient, m.subject, m.body,
                      "<gpuq-notification-" + std::to_string(m.id) + "@gpuq>"};
    return sender_->SendMail(settings.smtp, mail);
  }
  return sender_->PostJson(m.recipient, m.format, m.body);
}

NotifyFacts Notifier::TestFacts(const NotifySettings& settings) const {
  NotifyFacts f;
  f.event = "test";
  f.at = clock_->NowUnixMs();
  if (!settings.public_url.empty()) f.link = settings.public_url + "/admin/settings";
  return f;
}

Status Notifier::SendTest(int64_t target_id) {
  Result<NotifyTargetRow> target = NotifyTargetStore(db_, clock_).Get(target_id);
  if (!target.ok()) return target.status();
  Result<NotifySettings> settings = Settings();
  if (!settings.ok()) return settings.status();
  NotifyFacts f = TestFacts(*settings);
  if (target->kind == "email") {
    EmailMessage e = RenderEmail(f);
    return sender_->SendMail(settings->smtp, {target->address, e.subject, e.body, ""});
  }
  WebhookFormat format = ParseWebhookFormat(target->format).value_or(WebhookFormat::kGeneric);
  return sender_->PostJson(target->address, target->format, RenderWebhook(f, format));
}

Status Notifier::SendTestMail(const std::string& to) {
  Result<NotifySettings> settings = Settings();
  if (!settings.ok()) return settings.status();
  EmailMessage e = RenderEmail(TestFacts(*settings));
  return sender_->SendMail(settings->smtp, {to, e.subject, e.body, ""});
}

std::string Notifier::LogTail(RunId run) const {
  std::ifstream in(options_.data_dir + "/logs/" + std::to_string(run.value) + ".log",
                   std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff start = std::max<std::streamoff>(0, size - kTailBytes);
  in.seekg(start);
  std::string text(static_cast<size_t>(size - start), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return LastLines(text, options_.log_tail_lines);
}

std::string Notifier::NodeName(NodeId node) const {
  Result<NodeRow> row = NodeStore(db_, clock_).Get(node);
  return row.ok() ? row->name : "node " + std::to_string(node.value);
}

}  // namespace gpuq
