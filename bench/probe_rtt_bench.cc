// Measures what a node link costs on the wire, against a real sshd (a simulated node):
//   - a request line on the already-open remote-side channel ("ping": framing only),
//   - a full GPU probe on that channel (nvidia-smi twice + ps on the node),
//   - what the design avoids: a fresh exec channel per command on the same session.
// Usage: probe_rtt_bench HOST PORT USER KEYFILE [ROUNDS]
// Prints medians and p99 in milliseconds.
#include <libssh/libssh.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "master/node/ssh_transport.h"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

void Report(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  std::printf("%-40s n=%-4zu median %8.3f ms   p99 %8.3f ms\n", what, ms.size(), ms[ms.size() / 2],
              ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]);
}

// The cost the design avoids: open a channel, exec `true`, wait for its exit.
double ExecChannelOnce(ssh_session session) {
  auto start = Clock::now();
  ssh_channel channel = ssh_channel_new(session);
  ssh_channel_open_session(channel);
  ssh_channel_request_exec(channel, "true");
  char buf[256];
  while (ssh_channel_read(channel, buf, sizeof(buf), 0) > 0) {
  }
  ssh_channel_send_eof(channel);
  ssh_channel_close(channel);
  ssh_channel_free(channel);
  return Ms(Clock::now() - start);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s HOST PORT USER KEYFILE [ROUNDS]\n", argv[0]);
    return 2;
  }
  int rounds = argc > 5 ? std::atoi(argv[5]) : 200;
  std::ifstream key_file(argv[4]);
  std::stringstream key;
  key << key_file.rdbuf();

  gpuq::SshTransport transport;
  gpuq::ConnectParams params;
  params.host = argv[1];
  params.port = std::atoi(argv[2]);
  params.remote_user = argv[3];
  params.private_key = key.str();
  gpuq::HostKeySeen seen;
  auto connect_start = Clock::now();
  auto conn = transport.Connect(params, &seen);
  if (!conn.ok()) {
    std::fprintf(stderr, "connect: %s\n", conn.status().ToString().c_str());
    return 1;
  }
  std::printf("connect + auth + start remote side: %.1f ms\n", Ms(Clock::now() - connect_start));

  std::vector<double> ping, probe;
  for (int i = 0; i < rounds; ++i) {
    auto start = Clock::now();
    auto reply = (*conn)->Call("ping", "", std::chrono::milliseconds(5000));
    if (!reply.ok()) return 1;
    ping.push_back(Ms(Clock::now() - start));
  }
  for (int i = 0; i < std::max(rounds / 10, 5); ++i) {
    auto start = Clock::now();
    auto reply = (*conn)->Call("probe", "nvidia-smi", std::chrono::milliseconds(5000));
    if (!reply.ok()) return 1;
    probe.push_back(Ms(Clock::now() - start));
  }
  Report("request on the open channel (ping)", ping);
  Report("GPU probe on the open channel", probe);

  // A second plain session for the exec-channel comparison.
  ssh_session session = ssh_new();
  unsigned int port = static_cast<unsigned int>(params.port);
  ssh_options_set(session, SSH_OPTIONS_HOST, params.host.c_str());
  ssh_options_set(session, SSH_OPTIONS_PORT, &port);
  ssh_options_set(session, SSH_OPTIONS_USER, params.remote_user.c_str());
  ssh_key priv = nullptr;
  if (ssh_connect(session) != SSH_OK ||
      ssh_pki_import_privkey_base64(params.private_key.c_str(), nullptr, nullptr, nullptr, &priv) !=
          SSH_OK ||
      ssh_userauth_publickey(session, nullptr, priv) != SSH_AUTH_SUCCESS) {
    std::fprintf(stderr, "second session failed: %s\n", ssh_get_error(session));
    return 1;
  }
  std::vector<double> exec;
  for (int i = 0; i < std::max(rounds / 10, 5); ++i) exec.push_back(ExecChannelOnce(session));
  Report("new exec channel per command (avoided)", exec);
  ssh_key_free(priv);
  ssh_disconnect(session);
  ssh_free(session);
  return 0;
}
