#include "master/secrets/token.h"

#include <sodium.h>

#include <vector>

#include "master/secrets/secret_box.h"

namespace gpuq {
namespace {

constexpr std::string_view kApiTokenPrefix = "gpuq_";
constexpr size_t kApiTokenBytes = 32;
constexpr size_t kApiTokenChars = 43;  // unpadded base64 of 32 bytes

bool IsUrlSafeChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

std::string RandomUrlSafeToken(size_t bytes) {
  if (bytes == 0) return "";
  // InitSodium cannot fail in practice; randombytes_buf falls back to the system source.
  (void)InitSodium();
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bytes, variant), '\0');
  sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(), variant);
  out.resize(out.size() - 1);  // the encoder writes a terminating NUL
  sodium_memzero(raw.data(), raw.size());
  return out;
}

std::string NewApiToken() {
  return std::string(kApiTokenPrefix) + RandomUrlSafeToken(kApiTokenBytes);
}

bool LooksLikeApiToken(std::string_view token) {
  if (token.size() != kApiTokenPrefix.size() + kApiTokenChars) return false;
  if (token.substr(0, kApiTokenPrefix.size()) != kApiTokenPrefix) return false;
  for (char c : token.substr(kApiTokenPrefix.size())) {
    if (!IsUrlSafeChar(c)) return false;
  }
  return true;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return std::string(hex, crypto_hash_sha256_BYTES * 2);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace gpuq
