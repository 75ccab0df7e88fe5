#ifndef GPUQ_MASTER_SECRETS_PASSWORD_H_
#define GPUQ_MASTER_SECRETS_PASSWORD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gpuq {

// Cost of an Argon2id password hash.
struct PasswordHashOptions {
  // Passes over memory. Default: libsodium's OPSLIMIT_INTERACTIVE (2).
  uint64_t ops_limit = 2;
  // Bytes of memory. Default: libsodium's MEMLIMIT_INTERACTIVE (64 MiB).
  size_t mem_limit_bytes = 64 * 1024 * 1024;

  // The lowest cost libsodium accepts (1 pass, 8 KiB): for tests only, never for real
  // passwords.
  static constexpr PasswordHashOptions CheapForTesting() { return {1, 8192}; }
};

// Hashes `password` with Argon2id and a random salt. The result is the self-describing
// "$argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>" string, which VerifyPassword takes.
// Fails (kInternal) only when memory cannot be had. Thread-safe; takes mem_limit_bytes of
// memory and tens of milliseconds with the default options, so callers rate-limit it.
Result<std::string> HashPassword(std::string_view password,
                                 const PasswordHashOptions& options = {});

// Whether `password` matches `hash` (from HashPassword). False, never an error, for a wrong
// password or a malformed hash. Thread-safe.
bool VerifyPassword(std::string_view hash, std::string_view password);

// Whether `hash` was made with a cost other than `options` (or another algorithm), so that
// a successful login should store a fresh hash.
bool PasswordNeedsRehash(std::string_view hash, const PasswordHashOptions& options = {});

}  // namespace gpuq

#endif  // GPUQ_MASTER_SECRETS_PASSWORD_H_
