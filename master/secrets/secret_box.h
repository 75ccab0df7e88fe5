#ifndef GPUQ_MASTER_SECRETS_SECRET_BOX_H_
#define GPUQ_MASTER_SECRETS_SECRET_BOX_H_

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gpuq {

// Authenticated encryption of secrets kept in the database (users' SSH private keys) under
// the master's key file DATA/secret.key (libsodium crypto_secretbox: XSalsa20-Poly1305).
//
// Sealed format: a random 24-byte nonce, then the 16-byte MAC and the ciphertext.
//
// Thread-safe: Seal and Open are const and may run concurrently. The key is wiped from
// memory when the SecretBox is destroyed. Move-only, so the key is not copied around.
class SecretBox {
 public:
  static constexpr size_t kKeyBytes = 32;
  static constexpr size_t kOverheadBytes = 24 + 16;  // nonce + MAC

  // Reads the key file at `key_path`; if there is none, creates one with a fresh random key,
  // mode 0600, atomically (written and fsynced under a temporary name, then hard-linked into
  // place, so a crash never leaves a short key file and two creators never overwrite each
  // other). The folder must exist. Fails, naming the path, when the file is a symlink or not
  // a regular file, is accessible to group or others (mode & 077), or is not exactly
  // kKeyBytes long.
  static Result<SecretBox> LoadOrCreate(const std::string& key_path);

  // A box with the given key, for tests. REQUIRES: key.size() == kKeyBytes.
  static SecretBox FromKeyForTesting(std::string_view key);

  SecretBox(SecretBox&& other) noexcept;
  SecretBox& operator=(SecretBox&& other) noexcept;
  SecretBox(const SecretBox&) = delete;
  SecretBox& operator=(const SecretBox&) = delete;
  ~SecretBox();

  // Encrypts and authenticates `plaintext` under a fresh random nonce. The result is
  // plaintext.size() + kOverheadBytes bytes of binary data.
  std::string Seal(std::string_view plaintext) const;

  // Decrypts what Seal produced. kCorruption when `sealed` is too short, was altered, or was
  // sealed under a different key.
  Result<std::string> Open(std::string_view sealed) const;

 private:
  SecretBox() = default;

  std::array<unsigned char, kKeyBytes> key_{};
};

// Initializes libsodium once per process; later calls return the first result. Thread-safe.
Status InitSodium();

}  // namespace gpuq

#endif  // GPUQ_MASTER_SECRETS_SECRET_BOX_H_
