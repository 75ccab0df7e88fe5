#ifndef GPUQ_MASTER_STORE_STATEMENT_H_
#define GPUQ_MASTER_STORE_STATEMENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/ids.h"
#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace gpuq {

// Bytes to bind as a BLOB rather than TEXT: `stmt.BindAll(Blob{sealed_key})`.
struct Blob {
  std::string_view bytes;
};

// A prepared SQLite statement, handed out by Connection::Prepare. Binding indexes start at 1,
// column indexes at 0 (as in the sqlite3 API). Every sqlite3 return code is checked; an error
// Status carries sqlite3_errmsg and the start of the SQL text.
//
// On destruction the statement is reset and its bindings cleared (so it holds no read
// snapshot open) and, if it came from the cache, goes back there.
//
// Not thread-safe: use it only inside the Database callback that prepared it.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Status BindInt64(int index, int64_t value);
  Status BindText(int index, std::string_view value);
  Status BindBlob(int index, std::string_view bytes);
  Status BindNull(int index);
  Status BindOptionalInt64(int index, std::optional<int64_t> value);
  Status BindOptionalText(int index, std::optional<std::string_view> value);

  // Binds args to parameters 1..N by type: integers and bool as INTEGER, Id<> as its value,
  // strings as TEXT, Blob as BLOB, std::nullopt as NULL, std::optional<T> as T or NULL.
  template <typename... Args>
  Status BindAll(const Args&... args) {
    int index = 0;
    Status status;
    ((status.ok() ? (status = BindValue(++index, args), 0) : 0), ...);
    return status;
  }

  // Advances to the next row. true: a row is available through the Column getters;
  // false: the statement has finished.
  Result<bool> Step();

  // Runs a statement that returns no rows (INSERT/UPDATE/DELETE) to completion.
  Status Run();

  int ColumnCount() const;
  bool ColumnIsNull(int column) const;
  int64_t ColumnInt64(int column) const;     // 0 for NULL
  std::string ColumnText(int column) const;  // "" for NULL
  std::string ColumnBlob(int column) const;  // "" for NULL
  std::optional<int64_t> ColumnOptionalInt64(int column) const;
  std::optional<std::string> ColumnOptionalText(int column) const;

  // The SQL text, for messages.
  std::string_view sql() const;

 private:
  friend class Connection;
  template <typename T>
  struct IsOptional : std::false_type {};
  template <typename T>
  struct IsOptional<std::optional<T>> : std::true_type {};
  template <typename T>
  struct IsId : std::false_type {};
  template <typename Tag>
  struct IsId<Id<Tag>> : std::true_type {};

  // `in_use` is the cache entry's flag, cleared when this handle lets the statement go;
  // nullptr for an uncached statement, which this handle finalizes.
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* in_use);

  Status Error(int rc, std::string_view what) const;

  template <typename T>
  Status BindValue(int index, const T& value) {
    if constexpr (std::is_same_v<T, std::nullopt_t>) {
      return BindNull(index);
    } else if constexpr (IsOptional<T>::value) {
      return value.has_value() ? BindValue(index, *value) : BindNull(index);
    } else if constexpr (std::is_same_v<T, Blob>) {
      return BindBlob(index, value.bytes);
    } else if constexpr (IsId<T>::value) {
      return BindInt64(index, value.value);
    } else if constexpr (std::is_integral_v<T>) {
      return BindInt64(index, static_cast<int64_t>(value));
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      return BindText(index, std::string_view(value));
    } else {
      static_assert(!sizeof(T), "BindAll: unsupported argument type");
    }
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;
};

// Turns a sqlite3 result code into a Status: UNIQUE/PRIMARY KEY violations are
// kAlreadyExists (field = the column, when one), FOREIGN KEY violations kFailedPrecondition,
// CHECK/NOT NULL violations kInvalidArgument, BUSY/LOCKED kUnavailable, CORRUPT/NOTADB
// kCorruption, anything else kInternal. The message is "context: sqlite3_errmsg(db)".
// REQUIRES: rc is an error code and db is the connection that returned it (or nullptr).
Status SqliteError(sqlite3* db, int rc, std::string_view context);

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_STATEMENT_H_
