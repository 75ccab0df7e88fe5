#ifndef GPUQ_COMMON_NODE_VALIDATION_H_
#define GPUQ_COMMON_NODE_VALIDATION_H_

#include <string_view>

#include "common/status.h"

namespace gpuq {

// Checks of a node's user-given fields. Each returns InvalidArgument naming the field.

// 1-64 characters of letters, digits, '.', '_' and '-', starting with a letter or digit.
Status ValidateNodeName(std::string_view name);
// A host name or IP address: 1-253 characters, no spaces or control characters, not
// starting with '-' (so it can never be read as an option).
Status ValidateNodeHost(std::string_view host);
Status ValidateNodePort(int64_t port);
// "nvidia-smi", "gpustat", or an absolute path without control characters.
Status ValidateProbe(std::string_view probe);

}  // namespace gpuq

#endif  // GPUQ_COMMON_NODE_VALIDATION_H_
