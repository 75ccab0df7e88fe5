#include "master/app/queue_file_watcher.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gpuq {
namespace {

constexpr int kMaxMergeRounds = 5;

bool ReadAll(int fd, std::string* out) {
  out->clear();
  char buf[1 << 16];
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof(buf), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return true;
    out->append(buf, static_cast<size_t>(n));
    offset += n;
  }
}

bool WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string TempPathFor(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return dir + "/." + base + ".gpuq-tmp";
}

}  // namespace

QueueFileWatcher::QueueFileWatcher(std::string path, QueueFileSync* sync, Clock* clock,
                                   std::function<void()> on_tasks_changed,
                                   QueueFileWatcherOptions options)
    : path_(std::move(path)),
      sync_(sync),
      clock_(clock),
      on_tasks_changed_(std::move(on_tasks_changed)),
      options_(options) {}

QueueFileWatcher::~QueueFileWatcher() { Stop(); }

void QueueFileWatcher::Start() {
  std::lock_guard lock(mu_);
  stop_ = false;
  thread_ = std::thread([this] {
    std::unique_lock held(mu_);
    while (!stop_) {
      held.unlock();
      PollOnce();
      held.lock();
      wake_.wait_for(held, options_.poll_interval, [&] { return stop_; });
    }
  });
}

void QueueFileWatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

QueueFileWatcher::FileSig QueueFileWatcher::SigOf(const struct stat& st) {
  return {st.st_ino, st.st_size,
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

bool QueueFileWatcher::Stat(FileSig* sig) const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return false;
  *sig = SigOf(st);
  return true;
}

void QueueFileWatcher::LogOnce(const std::string& message) {
  if (message == last_logged_) return;
  last_logged_ = message;
  spdlog::warn("queue file {}: {}", path_, message);
}

void QueueFileWatcher::PollOnce() {
  FileSig sig;
  if (!Stat(&sig)) {
    LogOnce(std::string("cannot read it: ") + std::strerror(errno) + " (tried again)");
    return;
  }
  const UnixMs now = clock_->NowUnixMs();
  if (!(sig == last_seen_)) {  // changed since the last poll: maybe still being written
    last_seen_ = sig;
    last_seen_since_ = now;
    return;
  }
  const bool file_changed = !have_processed_ || !(sig == processed_);
  if (!file_changed && !accepted_) return;  // refused text: wait for the next change
  Result<std::string> fingerprint = sync_->Fingerprint();
  if (!fingerprint.ok()) return;
  const bool due = now - last_sync_ >= options_.resync_interval.count();
  if (!file_changed && *fingerprint == fingerprint_ && !due) return;

  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  std::string text;
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0 && ReadAll(fd, &text);
  FileSig read_sig = SigOf(st);
  if (!ok || !(read_sig == sig) || static_cast<off_t>(text.size()) != sig.size) {
    ::close(fd);  // changed while being read: the next poll sees it
    return;
  }
  if (!text.empty() && text.back() != '\n' && text.back() != '\r' &&
      now - last_seen_since_ < options_.settle_unterminated.count()) {
    ::close(fd);  // maybe cut short mid-field: give the writer time
    return;
  }
  last_sync_ = now;
  SyncAndWrite(std::move(text), fd, sig, *fingerprint);
  ::close(fd);
}

void QueueFileWatcher::SyncAndWrite(std::string input, int fd, FileSig sig,
                                    const std::string& fingerprint) {
  // `input`: the text to sync; `on_disk`: what the file at path_ holds as far as we know,
  // with `disk_fd` open on it.
  std::string on_disk = input;
  int disk_fd = fd;
  int own_fd = -1;  // a descriptor this function opened (closed on return)
  // The signature of the file as we last read or wrote it. Never a fresh stat: a change
  // made after that must look like a change to the next poll.
  FileSig disk_sig = sig;
  auto finish = [&](bool accepted) {
    if (own_fd >= 0) ::close(own_fd);
    processed_ = disk_sig;
    last_seen_ = disk_sig;
    have_processed_ = true;
    accepted_ = accepted;
    if (accepted) fingerprint_ = fingerprint;
  };
  for (int round = 0; round < kMaxMergeRounds; ++round) {
    Result<QueueSyncResult> synced = sync_->Sync(input);
    if (!synced.ok()) {
      LogOnce(synced.status().message() + "; nothing changed (tried again when the file changes)");
      return finish(false);
    }
    if (synced->tasks_changed && on_tasks_changed_) on_tasks_changed_();
    last_logged_.clear();
    if (synced->text == on_disk) return finish(true);

    struct stat disk_st {};
    if (::fstat(disk_fd, &disk_st) != 0) return finish(true);
    const std::string tmp = TempPathFor(path_);
    int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
      LogOnce("cannot write " + tmp + ": " + std::strerror(errno));
      return finish(true);
    }
    struct stat tmp_st {};
    bool written = WriteAll(out, synced->text) && ::fchmod(out, disk_st.st_mode & 07777) == 0 &&
                   ::fsync(out) == 0 && ::fstat(out, &tmp_st) == 0;
    ::close(out);
    if (!written) {
      ::unlink(tmp.c_str());
      LogOnce("cannot write " + tmp + ": " + std::strerror(errno));
      return finish(true);
    }

    // Swap it in, then look at what was swapped out.
    std::string displaced;
    bool person_changed = false;
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path_.c_str(), RENAME_EXCHANGE) == 0) {
      struct stat d {};
      if (::stat(tmp.c_str(), &d) == 0 && d.st_ino != disk_st.st_ino) {
        int dfd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);  // replaced by someone
        person_changed = dfd >= 0 && ReadAll(dfd, &displaced);
        if (dfd >= 0) ::close(dfd);
      } else {
        person_changed = ReadAll(disk_fd, &displaced) && displaced != on_disk;
      }
      ::unlink(tmp.c_str());
    } else {
      // No RENAME_EXCHANGE here: check just before a plain rename, and after it for a
      // write into the old file.
      FileSig now_sig;
      std::string current;
      if (!Stat(&now_sig) || now_sig.ino != disk_st.st_ino || !ReadAll(disk_fd, &current) ||
          current != on_disk) {
        ::unlink(tmp.c_str());
        return finish(true);  // changed under us: the next polls read and merge it
      }
      if (::rename(tmp.c_str(), path_.c_str()) != 0) {
        ::unlink(tmp.c_str());
        LogOnce("cannot replace it: " + std::string(std::strerror(errno)));
        return finish(true);
      }
      person_changed = ReadAll(disk_fd, &displaced) && displaced != on_disk;
    }
    disk_sig = SigOf(tmp_st);
    if (!person_changed) return finish(true);

    // A person's edit landed while we wrote: sync their text and write again.
    spdlog::info("queue file {}: changed while gpuq wrote it back: merging", path_);
    if (own_fd >= 0) ::close(own_fd);
    own_fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (own_fd < 0) return finish(true);
    disk_fd = own_fd;
    struct stat own_st {};
    if (::fstat(disk_fd, &own_st) != 0 || !ReadAll(disk_fd, &on_disk)) return finish(true);
    disk_sig = SigOf(own_st);
    input = std::move(displaced);
  }
  finish(true);
}

}  // namespace gpuq
