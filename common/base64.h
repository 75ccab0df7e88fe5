#ifndef GPUQ_COMMON_BASE64_H_
#define GPUQ_COMMON_BASE64_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace gpuq {

// Standard base64 (RFC 4648, with padding), as coreutils' `base64` writes and reads it.
std::string Base64Encode(std::string_view bytes);
// Ignores whitespace (line breaks); kCorruption on any other byte outside the alphabet.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace gpuq

#endif  // GPUQ_COMMON_BASE64_H_
