#include "master/node/ssh_transport.h"

#include <libssh/libssh.h>

#include <array>
#include <mutex>

namespace gpuq {
namespace {

using Millis = std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

void InitLibsshOnce() {
  static std::once_flag once;
  std::call_once(once, [] { ssh_init(); });
}

struct KeyDeleter {
  void operator()(ssh_key key) const { ssh_key_free(key); }
};
using KeyPtr = std::unique_ptr<std::remove_pointer_t<ssh_key>, KeyDeleter>;

// "SHA256:base64" of a key, as OpenSSH prints it.
Result<std::string> Sha256Of(ssh_key key) {
  unsigned char* hash = nullptr;
  size_t hash_len = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hash_len) != 0) {
    return Status::Internal("cannot hash the key");
  }
  char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hash_len);
  ssh_clean_pubkey_hash(&hash);
  if (text == nullptr) return Status::Internal("cannot format the key fingerprint");
  std::string out(text);
  ssh_string_free_char(text);
  return out;
}

Result<KeyPtr> ImportPrivateKey(const std::string& key_text) {
  ssh_key key = nullptr;
  if (ssh_pki_import_privkey_base64(key_text.c_str(), nullptr, nullptr, nullptr, &key) != SSH_OK) {
    return Status::InvalidArgument(
        "not a private key libssh can read (OpenSSH or PEM, without passphrase)", "private_key");
  }
  return KeyPtr(key);
}

class SshConnection final : public NodeConnection {
 public:
  SshConnection(ssh_session session, ssh_channel channel, ssh_channel events)
      : session_(session), channel_(channel), events_(events) {}

  ~SshConnection() override {
    // A hung peer must not hang us: no orderly channel close, just drop the session.
    ssh_disconnect(session_);
    ssh_free(session_);  // frees the channel too
  }

  Result<RemoteReply> Call(std::string_view verb, std::string_view arg, Millis timeout) override {
    uint64_t seq = ++next_seq_;
    Status sent = Write(FormatRequest(seq, verb, arg));
    if (!sent.ok()) return sent;
    return WaitReply(seq, timeout);
  }

  Status CallAll(std::span<const RemoteRequest> requests,
                 const std::function<void(size_t, RemoteReply)>& on_reply) override {
    uint64_t first_seq = next_seq_ + 1;
    std::string lines;
    for (const RemoteRequest& r : requests) lines += FormatRequest(++next_seq_, r.verb, r.arg);
    Status sent = Write(lines);
    if (!sent.ok()) return sent;
    for (size_t i = 0; i < requests.size(); ++i) {
      Result<RemoteReply> reply = WaitReply(first_seq + i, requests[i].timeout);
      if (!reply.ok()) return reply.status();
      on_reply(i, std::move(*reply));
    }
    return Status::Ok();
  }

  int PollFd() const override { return ssh_get_fd(session_); }

  Result<std::vector<std::string>> ReadEvents(Millis wait) override {
    std::vector<std::string> lines;
    if (events_ == nullptr) return lines;
    std::array<char, 8192> buf;
    int timeout_ms = static_cast<int>(wait.count());
    while (true) {
      int n = timeout_ms == 0
                  ? ssh_channel_read_nonblocking(events_, buf.data(), buf.size(), 0)
                  : ssh_channel_read_timeout(events_, buf.data(), buf.size(), 0, timeout_ms);
      if (n == SSH_ERROR) {
        return Status::Unavailable(std::string("events: ") + ssh_get_error(session_));
      }
      if (n == 0) {
        if (ssh_channel_is_eof(events_) || ssh_channel_is_closed(events_)) {
          return Status::Unavailable("the events stream ended");
        }
        break;
      }
      events_buffer_.append(buf.data(), static_cast<size_t>(n));
      timeout_ms = 0;  // take what is there, without waiting again
    }
    size_t start = 0;
    for (size_t nl = events_buffer_.find('\n'); nl != std::string::npos;
         nl = events_buffer_.find('\n', start)) {
      lines.push_back(events_buffer_.substr(start, nl - start));
      start = nl + 1;
    }
    events_buffer_.erase(0, start);
    return lines;
  }

 private:
  Status Write(const std::string& bytes) {
    if (ssh_channel_write(channel_, bytes.data(), static_cast<uint32_t>(bytes.size())) !=
        static_cast<int>(bytes.size())) {
      return Status::Unavailable(std::string("write to node failed: ") + ssh_get_error(session_));
    }
    return Status::Ok();
  }

  // Reads until the reply to `seq` is complete. Replies to earlier requests still unread are
  // dropped with the bytes before it (ReplyReader::Take), so take replies in order.
  Result<RemoteReply> WaitReply(uint64_t seq, Millis timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    std::array<char, 16384> buf;
    while (true) {
      if (auto reply = reader_.Take(seq)) return std::move(*reply);
      auto left = std::chrono::duration_cast<Millis>(deadline - SteadyClock::now());
      if (left <= Millis(0)) {
        return Status::Timeout("no answer from the node within " + std::to_string(timeout.count()) +
                               " ms");
      }
      int n = ssh_channel_read_timeout(channel_, buf.data(), buf.size(), 0,
                                       static_cast<int>(std::min<int64_t>(left.count(), 250)));
      if (n == SSH_ERROR) {
        return Status::Unavailable(std::string("read from node failed: ") +
                                   ssh_get_error(session_));
      }
      if (n > 0) {
        reader_.Append(std::string_view(buf.data(), static_cast<size_t>(n)));
        continue;
      }
      if (ssh_channel_is_eof(channel_) || ssh_channel_is_closed(channel_)) {
        return Status::Unavailable("the remote side exited");
      }
      DrainStderr();
    }
  }

  // The remote side sends its tools' errors to stdout; anything on stderr (profile noise)
  // is read and dropped so the channel window never fills.
  void DrainStderr() {
    std::array<char, 4096> buf;
    while (ssh_channel_read_nonblocking(channel_, buf.data(), buf.size(), 1) > 0) {
    }
  }

  ssh_session session_;
  ssh_channel channel_;
  ssh_channel events_;  // nullptr unless follow_events
  std::string events_buffer_;
  ReplyReader reader_;
  uint64_t next_seq_ = 0;
};

}  // namespace

SshTransport::SshTransport() { InitLibsshOnce(); }

Result<std::unique_ptr<NodeConnection>> SshTransport::Connect(const ConnectParams& params,
                                                              HostKeySeen* seen) {
  *seen = HostKeySeen();
  Result<KeyPtr> key = ImportPrivateKey(params.private_key);
  if (!key.ok()) return key.status();

  ssh_session session = ssh_new();
  if (session == nullptr) return Status::Internal("ssh_new failed");
  // From here on, every early return frees the session.
  auto fail = [&](Status status) -> Result<std::unique_ptr<NodeConnection>> {
    ssh_disconnect(session);
    ssh_free(session);
    return status;
  };

  unsigned int port = static_cast<unsigned int>(params.port);
  long timeout_s = static_cast<long>(params.connect_timeout.count() / 1000);
  long timeout_us = static_cast<long>((params.connect_timeout.count() % 1000) * 1000);
  bool no = false;
  int verbosity = SSH_LOG_NOLOG;
  ssh_options_set(session, SSH_OPTIONS_HOST, params.host.c_str());
  ssh_options_set(session, SSH_OPTIONS_PORT, &port);
  ssh_options_set(session, SSH_OPTIONS_USER, params.remote_user.c_str());
  ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout_s);
  ssh_options_set(session, SSH_OPTIONS_TIMEOUT_USEC, &timeout_us);
  ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no);  // ~/.ssh/config is not ours
  ssh_options_set(session, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);

  if (ssh_connect(session) != SSH_OK) {
    return fail(Status::Unavailable(std::string("cannot connect: ") + ssh_get_error(session)));
  }

  ssh_key server_key = nullptr;
  if (ssh_get_server_publickey(session, &server_key) != SSH_OK) {
    return fail(Status::Unavailable("the node sent no host key"));
  }
  Result<std::string> fingerprint = Sha256Of(server_key);
  ssh_key_free(server_key);
  if (!fingerprint.ok()) return fail(fingerprint.status());
  seen->sha256 = *fingerprint;
  if (!params.pinned_host_key_sha256.empty() && params.pinned_host_key_sha256 != *fingerprint) {
    seen->mismatch = true;
    return fail(Status::FailedPrecondition(
        "host key changed: pinned " + params.pinned_host_key_sha256 + ", node now shows " +
        *fingerprint + "; an admin must accept the new key before gpuq connects again"));
  }

  if (ssh_userauth_publickey(session, nullptr, key->get()) != SSH_AUTH_SUCCESS) {
    return fail(Status::Unauthenticated("key authentication as '" + params.remote_user +
                                        "' failed: " + ssh_get_error(session)));
  }

  ssh_channel channel = ssh_channel_new(session);
  if (channel == nullptr || ssh_channel_open_session(channel) != SSH_OK ||
      ssh_channel_request_exec(channel, RemoteSideCommand().c_str()) != SSH_OK) {
    return fail(Status::Unavailable(std::string("cannot start the remote side: ") +
                                    ssh_get_error(session)));
  }
  ssh_channel events = nullptr;
  if (params.follow_events) {
    // Follows the run events from their start: the master ignores what it already knows,
    // and a reconnect can never miss an exit that happened while it was away.
    constexpr const char* kFollow =
        "mkdir -p \"$HOME/.gpuq\" && touch \"$HOME/.gpuq/events\" && "
        "exec tail -n +1 -F \"$HOME/.gpuq/events\" 2>/dev/null";
    events = ssh_channel_new(session);
    if (events == nullptr || ssh_channel_open_session(events) != SSH_OK ||
        ssh_channel_request_exec(events, kFollow) != SSH_OK) {
      return fail(
          Status::Unavailable(std::string("cannot follow run events: ") + ssh_get_error(session)));
    }
  }
  return std::unique_ptr<NodeConnection>(new SshConnection(session, channel, events));
}

Result<std::string> PublicKeyFingerprint(const std::string& key_text) {
  InitLibsshOnce();
  Result<KeyPtr> key = ImportPrivateKey(key_text);
  if (!key.ok()) return key.status();
  ssh_key pub = nullptr;
  if (ssh_pki_export_privkey_to_pubkey(key->get(), &pub) != SSH_OK) {
    return Status::Internal("cannot derive the public key");
  }
  KeyPtr pub_ptr(pub);
  return Sha256Of(pub);
}

}  // namespace gpuq
