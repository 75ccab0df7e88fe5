#include "common/node_validation.h"

#include <string>

namespace gpuq {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool HasControlOrSpace(std::string_view s) {
  for (unsigned char c : s) {
    if (c <= ' ' || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

Status ValidateNodeName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return Status::InvalidArgument("must be 1 to 64 characters", "name");
  }
  if (!IsAlnum(name[0])) {
    return Status::InvalidArgument("must start with a letter or digit", "name");
  }
  for (char c : name) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '-') {
      return Status::InvalidArgument(
          "may hold only letters, digits, '.', '_' and '-' (found '" + std::string(1, c) + "')",
          "name");
    }
  }
  return Status::Ok();
}

Status ValidateNodeHost(std::string_view host) {
  if (host.empty() || host.size() > 253) {
    return Status::InvalidArgument("must be 1 to 253 characters", "host");
  }
  if (HasControlOrSpace(host)) {
    return Status::InvalidArgument("must not contain spaces or control characters", "host");
  }
  if (host[0] == '-') return Status::InvalidArgument("must not start with '-'", "host");
  return Status::Ok();
}

Status ValidateNodePort(int64_t port) {
  if (port < 1 || port > 65535) {
    return Status::InvalidArgument("must be between 1 and 65535", "port");
  }
  return Status::Ok();
}

Status ValidateProbe(std::string_view probe) {
  if (probe == "nvidia-smi" || probe == "gpustat") return Status::Ok();
  if (probe.empty() || probe[0] != '/') {
    return Status::InvalidArgument(
        "must be 'nvidia-smi', 'gpustat', or the absolute path of an nvidia-smi-compatible "
        "program on the node",
        "probe");
  }
  if (probe.size() > 1024) return Status::InvalidArgument("path is too long", "probe");
  for (unsigned char c : probe) {
    if (c < ' ' || c == 0x7f) {
      return Status::InvalidArgument("must not contain control characters", "probe");
    }
  }
  return Status::Ok();
}

}  // namespace gpuq
