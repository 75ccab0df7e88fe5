#ifndef GPUQ_MASTER_STORE_USER_STORE_H_
#define GPUQ_MASTER_STORE_USER_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"

namespace gpuq {

class Database;
class Statement;

enum class UserRole { kUser, kAdmin };

const char* UserRoleName(UserRole role);                       // "user", "admin"
std::optional<UserRole> ParseUserRole(std::string_view name);  // nullopt if neither

struct UserRow {
  UserId id;
  std::string username;
  std::string password_hash;
  UserRole role = UserRole::kUser;
  bool disabled = false;
  std::string lang;                    // "", "en" or "zh"; "" = the browser's choice
  std::string notify_default = "end";  // "end", "failure" or "off"
  UnixMs created_at = 0;
};

// The users table. Validation of names and passwords is the caller's; this enforces only
// what the schema does (unique username, known role). Thread-safe (see Database).
class UserStore {
 public:
  // Does not take ownership; both must outlive the UserStore.
  UserStore(Database* db, Clock* clock) : db_(db), clock_(clock) {}

  // kAlreadyExists with field "username" when the name is taken.
  Result<UserId> Create(std::string_view username, std::string_view password_hash, UserRole role);

  // kNotFound ("user 7 not found", "user \"bob\" not found") when there is no such user.
  Result<UserRow> FindById(UserId id);
  Result<UserRow> FindByName(std::string_view username);

  // Every user, by id.
  Result<std::vector<UserRow>> List();
  Result<int64_t> Count();

  // kNotFound when there is no such user.
  Status SetRole(UserId id, UserRole role);
  Status SetDisabled(UserId id, bool disabled);
  Status SetPasswordHash(UserId id, std::string_view password_hash);
  // kInvalidArgument (field "lang" or "notify_default") for a value the schema does not allow.
  Status SetPreferences(UserId id, std::string_view lang, std::string_view notify_default);

  // The columns ReadUserRow expects, in order, for SELECTs from users (alias-free).
  static constexpr std::string_view kColumns =
      "users.id, users.username, users.password_hash, users.role, users.disabled, users.lang, "
      "users.notify_default, users.created_at";
  // Reads a row selected with kColumns starting at column `first`.
  static Result<UserRow> ReadUserRow(const Statement& stmt, int first = 0);

 private:
  Database* db_;
  Clock* clock_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_USER_STORE_H_
