#ifndef GPUQ_MASTER_SECRETS_TOKEN_H_
#define GPUQ_MASTER_SECRETS_TOKEN_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace gpuq {

// A new API token: "gpuq_" followed by 43 URL-safe base64 characters (A-Z a-z 0-9 - _)
// encoding 32 random bytes. Store only Sha256Hex(token). Thread-safe.
std::string NewApiToken();

// Whether `token` has the form NewApiToken produces (a cheap check before any lookup).
bool LooksLikeApiToken(std::string_view token);

// `bytes` random bytes as unpadded URL-safe base64: session ids, CSRF tokens. Thread-safe.
std::string RandomUrlSafeToken(size_t bytes);

// The SHA-256 of `data` as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view data);

// Compares two secrets in time that depends only on their lengths (for CSRF tokens).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace gpuq

#endif  // GPUQ_MASTER_SECRETS_TOKEN_H_
