#ifndef GPUQ_MASTER_NODE_REMOTE_PROTOCOL_H_
#define GPUQ_MASTER_NODE_REMOTE_PROTOCOL_H_

// The line protocol between a node link and the remote side (remote_side.sh).
// Pure: text in, text out. See remote_side.sh for the framing.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/gpu.h"
#include "common/status.h"

namespace gpuq {

// The remote-side script with gpuq's query fields filled in, ready to be run by `sh -c`.
const std::string& RemoteSideScript();

// The command an SSH exec channel runs to start the remote side: "exec sh -c '<script>'",
// quoted for the account's login shell.
std::string RemoteSideCommand();

// One request line, "SEQ VERB ARG\n". REQUIRES: arg has no newline.
std::string FormatRequest(uint64_t seq, std::string_view verb, std::string_view arg);

// One field of a request as remote_side.sh's `field` writes it back byte for byte: "-" for
// an empty field; otherwise the text for the shell's printf '%b' (a builtin, so decoding forks
// nothing), with every byte other than ASCII letters, digits and "_./,:=+@" written as \0NNN
// (octal), so the result holds no space, newline, quote, glob or other shell character and a
// literal "-" cannot pass for the empty field. Any bytes, NUL included.
std::string EscapeField(std::string_view bytes);

struct RemoteSection {
  std::string text;
  std::optional<int> rc;  // empty when the remote side never reported one
};

// The framed answer to one request.
struct RemoteReply {
  uint64_t seq = 0;
  std::map<std::string, RemoteSection> sections;
};

// Accumulates bytes read from the channel and cuts out complete replies.
// Lines outside a reply (e.g. a login banner printed by a profile) are ignored.
class ReplyReader {
 public:
  void Append(std::string_view bytes) { buffer_.append(bytes); }
  // Returns the reply for `seq` once its end line has arrived; replies for other
  // sequence numbers (late answers to requests that timed out) are discarded.
  std::optional<RemoteReply> Take(uint64_t seq);
  // Bytes held back; a remote side that never frames its output must not grow this forever.
  size_t buffered() const { return buffer_.size(); }

 private:
  std::string buffer_;
};

// Turns a probe reply into GPU statuses: nvidia-smi sections ("gpus", "apps", "users") or
// gpustat's ("gpustat"). A failed tool gives an error with the tool's own words.
Result<std::vector<GpuStatus>> ParseProbeReply(const RemoteReply& reply);

}  // namespace gpuq

#endif  // GPUQ_MASTER_NODE_REMOTE_PROTOCOL_H_
