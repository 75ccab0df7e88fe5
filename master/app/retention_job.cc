#include "master/app/retention_job.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <charconv>

#include "master/store/audit_log.h"
#include "master/store/retention.h"
#include "web/panel_settings.h"

namespace gpuq {
namespace {

constexpr int kBatch = 500;  // tasks per transaction: the store stays responsive meanwhile

}  // namespace

RetentionJob::RetentionJob(Database* db, Clock* clock, std::string data_dir,
                           std::chrono::milliseconds period)
    : db_(db), clock_(clock), data_dir_(std::move(data_dir)), period_(period) {}

RetentionJob::~RetentionJob() { Stop(); }

void RetentionJob::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      RunOnce();
      lock.lock();
      wake_.wait_for(lock, period_, [this] { return stop_; });
    }
  });
}

void RetentionJob::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int RetentionJob::RunOnce() {
  const std::string text = SettingValue(db_, clock_, kSettingRetentionDays);
  int64_t days = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), days);
  if (ec != std::errc() || days <= 0) return 0;
  const UnixMs cutoff = clock_->NowUnixMs() - days * 86'400'000;
  int deleted = 0;
  for (;;) {
    Result<PurgeResult> purged = PurgeEndedTasks(db_, cutoff, kBatch);
    if (!purged.ok()) {
      spdlog::error("retention: {}", purged.status().ToString());
      break;
    }
    for (RunId run : purged->runs) {
      ::unlink((data_dir_ + "/logs/" + std::to_string(run.value) + ".log").c_str());
    }
    deleted += static_cast<int>(purged->tasks);
    if (purged->tasks < kBatch) break;
  }
  if (deleted > 0) {
    spdlog::info("retention: forgot {} task(s) that ended more than {} day(s) ago", deleted, days);
    (void)AuditLog(db_, clock_)
        .Record(std::nullopt, "retention.purge", "tasks",
                std::to_string(deleted) + " ended before " + FormatRfc3339(cutoff));
  }
  return deleted;
}

}  // namespace gpuq
