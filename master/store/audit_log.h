#ifndef GPUQ_MASTER_STORE_AUDIT_LOG_H_
#define GPUQ_MASTER_STORE_AUDIT_LOG_H_

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

struct AuditEntry {
  int64_t id = 0;
  UnixMs at = 0;
  std::optional<UserId> user_id;  // nullopt: the master itself (or a since-deleted user)
  std::string action;             // "node.create", "user.disable", ...
  std::string target;             // "node 3"
  std::string detail;             // free text
};

// The audit_log table: who did what, newest last. To record an entry atomically with the
// change it describes, call Record inside that change's Database::Tx. Thread-safe (see
// Database).
class AuditLog {
 public:
  static constexpr int kMaxListLimit = 1000;

  // Does not take ownership; both must outlive the AuditLog.
  AuditLog(Database* db, Clock* clock) : db_(db), clock_(clock) {}

  // Appends an entry stamped with the current time. kNotFound when `user` does not exist.
  Status Record(std::optional<UserId> user, std::string_view action, std::string_view target,
                std::string_view detail);

  // Up to `limit` entries (clamped to 1..kMaxListLimit), newest first; with `before_id`, only
  // entries older than that one (to page back through the log).
  Result<std::vector<AuditEntry>> List(int limit, std::optional<int64_t> before_id = {});

 private:
  Database* db_;
  Clock* clock_;
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_AUDIT_LOG_H_
