#ifndef GPUQ_MASTER_STORE_CREDENTIAL_STORE_H_
#define GPUQ_MASTER_STORE_CREDENTIAL_STORE_H_

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"

namespace gpuq {

class Database;

// A user's SSH credential: the account their runs start under and its private key, sealed
// with the master's SecretBox (master/secrets/secret_box.h). This store never sees the key
// in the clear.
struct CredentialRow {
  UserId user_id;
  std::string remote_user;
  std::string private_key_sealed;  // bytes from SecretBox::Seal
  std::string public_key_sha256;
  UnixMs updated_at = 0;
};

// The ssh_credentials table: at most one credential per user. Thread-safe (see Database).
class CredentialStore {
 public:
  // Does not take ownership; both must outlive the CredentialStore.
  CredentialStore(Database* db, Clock* clock) : db_(db), clock_(clock) {}

  // Stores the user's credential, replacing any earlier one. kNotFound when the user does
  // not exist.
  Status Put(UserId user, std::string_view remote_user, std::string_view private_key_sealed,
             std::string_view public_key_sha256);

  // The user's credential, or nullopt when they have none.
  Result<std::optional<CredentialRow>> Get(UserId user);

  // Removes the user's credential; OK when there was none.
  Status Delete(UserId user);

 private:
  Database* db_;
  Clock* clock_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_CREDENTIAL_STORE_H_
