#ifndef GPUQ_MASTER_STORE_TOKEN_STORE_H_
#define GPUQ_MASTER_STORE_TOKEN_STORE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"
#include "master/store/user_store.h"

namespace gpuq {

class Database;

using ApiTokenId = Id<struct ApiTokenIdTag>;

// An API token as its owner may see it. The token's hash is deliberately left out.
struct ApiTokenRow {
  ApiTokenId id;
  UserId user_id;
  std::string name;
  UnixMs created_at = 0;
  std::optional<UnixMs> last_used_at;
  std::optional<UnixMs> revoked_at;
};

// The api_tokens table. Tokens are stored only as their SHA-256 (master/secrets/token.h);
// the token itself is shown once, on creation, and never stored. Thread-safe (see Database).
class TokenStore {
 public:
  // Does not take ownership; both must outlive the TokenStore.
  TokenStore(Database* db, Clock* clock) : db_(db), clock_(clock) {}

  // kNotFound when the user does not exist; kAlreadyExists (field "token") for a hash already
  // stored, which only a broken random source would produce.
  Result<ApiTokenId> Insert(UserId user, std::string_view token_sha256, std::string_view name);

  // The owner of the token with this hash, if the token is not revoked and the user not
  // disabled; records the time as the token's last_used_at. kNotFound otherwise (the caller
  // answers "unauthenticated" without saying which case it was).
  Result<UserRow> FindUserByTokenHash(std::string_view token_sha256);

  // The user's tokens, revoked ones included, by id.
  Result<std::vector<ApiTokenRow>> List(UserId user);

  // Revokes the user's token. Revoking a revoked token is OK and keeps the first time.
  // kNotFound when the token does not exist or belongs to someone else.
  Status Revoke(ApiTokenId id, UserId user);

 private:
  Database* db_;
  Clock* clock_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_TOKEN_STORE_H_
