#ifndef GPUQ_MASTER_STORE_WEB_SESSION_STORE_H_
#define GPUQ_MASTER_STORE_WEB_SESSION_STORE_H_

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"
#include "master/store/user_store.h"

namespace gpuq {

class Database;

// A panel session as stored: keyed by the SHA-256 of the cookie value, never the cookie.
struct WebSessionRow {
  std::string id_sha256;
  UserId user_id;
  std::string csrf_token;
  UnixMs created_at = 0;
  UnixMs expires_at = 0;
};

// The web_sessions table (migrations/0001_initial.sql). Thread-safe (see Database).
class WebSessionStore {
 public:
  // Does not take ownership; both must outlive the WebSessionStore.
  WebSessionStore(Database* db, Clock* clock) : db_(db), clock_(clock) {}

  // Stores a new session. kNotFound when the user does not exist.
  Status Create(const WebSessionRow& session);

  // The session with this id hash and its user, if it has not expired and the user is not
  // disabled. kNotFound otherwise (the caller answers "log in" without saying which case).
  Result<std::pair<WebSessionRow, UserRow>> FindLive(std::string_view id_sha256);

  // Ends one session (logout); OK when it did not exist.
  Status Delete(std::string_view id_sha256);
  // Ends every session of a user (password change, disable).
  Status DeleteForUser(UserId user);
  // Forgets sessions that expired before now; returns how many.
  Result<int64_t> DeleteExpired();

 private:
  Database* db_;
  Clock* clock_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_WEB_SESSION_STORE_H_
