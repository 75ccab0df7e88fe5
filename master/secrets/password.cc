#include "master/secrets/password.h"

#include <sodium.h>

#include "master/secrets/secret_box.h"

namespace gpuq {

static_assert(PasswordHashOptions{}.ops_limit == crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
static_assert(PasswordHashOptions{}.mem_limit_bytes == crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
static_assert(PasswordHashOptions::CheapForTesting().ops_limit ==
              crypto_pwhash_argon2id_OPSLIMIT_MIN);
static_assert(PasswordHashOptions::CheapForTesting().mem_limit_bytes ==
              crypto_pwhash_argon2id_MEMLIMIT_MIN);

Result<std::string> HashPassword(std::string_view password, const PasswordHashOptions& options) {
  GPUQ_RETURN_IF_ERROR(InitSodium());
  char out[crypto_pwhash_argon2id_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), options.ops_limit,
                            options.mem_limit_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Internal("hashing a password failed (out of memory?)");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  if (!InitSodium().ok()) return false;
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  const std::string terminated(hash);  // libsodium wants a NUL-terminated string
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(std::string_view hash, const PasswordHashOptions& options) {
  if (!InitSodium().ok()) return true;
  if (hash.size() >= crypto_pwhash_STRBYTES) return true;
  const std::string terminated(hash);
  // 0: fine; 1: other parameters; -1: not an Argon2id hash at all.
  return crypto_pwhash_argon2id_str_needs_rehash(terminated.c_str(), options.ops_limit,
                                                 options.mem_limit_bytes) != 0;
}

}  // namespace gpuq
