#include "master/secrets/secret_box.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace gpuq {
namespace {

static_assert(SecretBox::kKeyBytes == crypto_secretbox_KEYBYTES);
static_assert(SecretBox::kOverheadBytes == crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES);

std::string Errno(int err) { return std::strerror(err); }

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Closes a file descriptor when it goes out of scope.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_;
};

// Reads the key file. kNotFound when it does not exist.
Status ReadKeyFile(const std::string& path, unsigned char* key) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("key file " + path + " does not exist");
    if (err == ELOOP) {
      return Status::FailedPrecondition("key file " + path +
                                        " is a symbolic link; it must be a regular file");
    }
    return Status::Internal("cannot open key file " + path + ": " + Errno(err));
  }
  FdCloser closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return Status::Internal("cannot stat key file " + path + ": " + Errno(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::FailedPrecondition("key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    return Status::FailedPrecondition("key file " + path + " has mode " + OctalMode(st.st_mode) +
                                      ", so group or others can access it; it must be 0600 "
                                      "(chmod 600 " +
                                      path + ")");
  }
  if (st.st_size != static_cast<off_t>(SecretBox::kKeyBytes)) {
    return Status::Corruption("key file " + path + " is " + std::to_string(st.st_size) +
                              " bytes long; a gpuq key is " + std::to_string(SecretBox::kKeyBytes) +
                              " bytes");
  }
  size_t done = 0;
  while (done < SecretBox::kKeyBytes) {
    ssize_t n = ::read(fd, key + done, SecretBox::kKeyBytes - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal("cannot read key file " + path + ": " + Errno(errno));
    if (n == 0) return Status::Corruption("key file " + path + " ended early");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Creates the key file with a fresh key. kAlreadyExists when another process made it first.
Status CreateKeyFile(const std::string& path) {
  std::string temp = path + ".tmp.XXXXXX";
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);  // O_CREAT | O_EXCL, mode 0600
  if (fd < 0) return Status::Internal("cannot create key file " + path + ": " + Errno(errno));
  Status status;
  {
    FdCloser closer(fd);
    unsigned char key[SecretBox::kKeyBytes];
    randombytes_buf(key, sizeof(key));
    size_t done = 0;
    while (status.ok() && done < sizeof(key)) {
      ssize_t n = ::write(fd, key + done, sizeof(key) - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = Status::Internal("cannot write key file " + temp + ": " + Errno(errno));
      } else {
        done += static_cast<size_t>(n);
      }
    }
    sodium_memzero(key, sizeof(key));
    if (status.ok() && ::fchmod(fd, 0600) != 0) {
      status = Status::Internal("cannot chmod key file " + temp + ": " + Errno(errno));
    }
    if (status.ok() && ::fsync(fd) != 0) {
      status = Status::Internal("cannot fsync key file " + temp + ": " + Errno(errno));
    }
  }
  // link() fails with EEXIST instead of replacing: the first key written wins.
  if (status.ok() && ::link(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    status = err == EEXIST ? Status::AlreadyExists("key file " + path + " already exists")
                           : Status::Internal("cannot create key file " + path + ": " + Errno(err));
  }
  ::unlink(temp.c_str());
  if (!status.ok()) return status;

  // Make the new directory entry durable. Best effort: some file systems refuse fsync on a
  // directory, and the key is already safely written.
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::Ok();
}

}  // namespace

Status InitSodium() {
  static const int rc = sodium_init();  // thread-safe static initialization
  if (rc < 0) return Status::Internal("libsodium failed to initialize");
  return Status::Ok();
}

Result<SecretBox> SecretBox::LoadOrCreate(const std::string& key_path) {
  GPUQ_RETURN_IF_ERROR(InitSodium());
  SecretBox box;
  Status status = ReadKeyFile(key_path, box.key_.data());
  if (status.code() == ErrorCode::kNotFound) {
    status = CreateKeyFile(key_path);
    if (status.ok() || status.code() == ErrorCode::kAlreadyExists) {
      status = ReadKeyFile(key_path, box.key_.data());
    }
  }
  if (!status.ok()) return status;
  return box;
}

SecretBox SecretBox::FromKeyForTesting(std::string_view key) {
  Status init = InitSodium();
  (void)init;  // a failure shows up as failing Seal/Open in the test
  SecretBox box;
  std::memcpy(box.key_.data(), key.data(), std::min(key.size(), kKeyBytes));
  return box;
}

SecretBox::SecretBox(SecretBox&& other) noexcept : key_(other.key_) {
  sodium_memzero(other.key_.data(), other.key_.size());
}

SecretBox& SecretBox::operator=(SecretBox&& other) noexcept {
  if (this != &other) {
    key_ = other.key_;
    sodium_memzero(other.key_.data(), other.key_.size());
  }
  return *this;
}

SecretBox::~SecretBox() { sodium_memzero(key_.data(), key_.size()); }

std::string SecretBox::Seal(std::string_view plaintext) const {
  std::string sealed(kOverheadBytes + plaintext.size(), '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  unsigned char* nonce = out;
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        nonce, key_.data());
  return sealed;
}

Result<std::string> SecretBox::Open(std::string_view sealed) const {
  if (sealed.size() < kOverheadBytes) {
    return Status::Corruption("sealed secret is " + std::to_string(sealed.size()) +
                              " bytes, shorter than its nonce and MAC");
  }
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string plaintext(sealed.size() - kOverheadBytes, '\0');
  if (crypto_secretbox_open_easy(
          reinterpret_cast<unsigned char*>(plaintext.data()), in + crypto_secretbox_NONCEBYTES,
          sealed.size() - crypto_secretbox_NONCEBYTES, in, key_.data()) != 0) {
    return Status::Corruption(
        "sealed secret failed authentication: it was altered or sealed with another key");
  }
  return plaintext;
}

}  // namespace gpuq
