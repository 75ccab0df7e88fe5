#ifndef GPUQ_WEB_ACCOUNT_RULES_H_
#define GPUQ_WEB_ACCOUNT_RULES_H_

#include <string_view>

#include "common/status.h"

namespace gpuq {

// A gpuq username or a remote SSH account name: 1 to 32 characters, a letter or '_' first,
// then letters, digits, '_', '-', '.'. InvalidArgument naming `field` otherwise.
Status ValidateAccountName(std::string_view name, const char* field);

// Panel and API passwords: at least 8 characters (bytes), at most 1024.
inline constexpr size_t kMinPasswordBytes = 8;
inline constexpr size_t kMaxPasswordBytes = 1024;

}  // namespace gpuq

#endif  // GPUQ_WEB_ACCOUNT_RULES_H_
