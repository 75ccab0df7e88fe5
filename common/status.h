#ifndef GPUQ_COMMON_STATUS_H_
#define GPUQ_COMMON_STATUS_H_

#include <string>
#include <utility>
#include <variant>

namespace gpuq {

// What kind of failure a Status carries. The web layer maps these to HTTP codes.
enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,     // bad input from a user: names the field
  kNotFound,
  kAlreadyExists,
  kUnauthenticated,     // no or bad credentials
  kPermissionDenied,    // authenticated, but not allowed
  kFailedPrecondition,  // valid request, wrong state (e.g. delete a node with live runs)
  kUnavailable,         // a node or service cannot be reached now
  kTimeout,
  kCorruption,          // stored data or remote output that makes no sense
  kInternal,
};

const char* ErrorCodeName(ErrorCode code);

// A cheap success-or-error value (leveldb's Status). An error carries a message a person
// will read and, for bad input, the name of the offending field.
class Status {
 public:
  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status Error(ErrorCode code, std::string message, std::string field = "") {
    return Status(code, std::move(message), std::move(field));
  }
  static Status InvalidArgument(std::string message, std::string field = "") {
    return Status(ErrorCode::kInvalidArgument, std::move(message), std::move(field));
  }
  static Status NotFound(std::string message) {
    return Status(ErrorCode::kNotFound, std::move(message), "");
  }
  static Status AlreadyExists(std::string message, std::string field = "") {
    return Status(ErrorCode::kAlreadyExists, std::move(message), std::move(field));
  }
  static Status Unauthenticated(std::string message) {
    return Status(ErrorCode::kUnauthenticated, std::move(message), "");
  }
  static Status PermissionDenied(std::string message) {
    return Status(ErrorCode::kPermissionDenied, std::move(message), "");
  }
  static Status FailedPrecondition(std::string message) {
    return Status(ErrorCode::kFailedPrecondition, std::move(message), "");
  }
  static Status Unavailable(std::string message) {
    return Status(ErrorCode::kUnavailable, std::move(message), "");
  }
  static Status Timeout(std::string message) {
    return Status(ErrorCode::kTimeout, std::move(message), "");
  }
  static Status Corruption(std::string message) {
    return Status(ErrorCode::kCorruption, std::move(message), "");
  }
  static Status Internal(std::string message) {
    return Status(ErrorCode::kInternal, std::move(message), "");
  }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }

  // "invalid argument: gpus: must be between 0 and 64" style, for logs.
  std::string ToString() const;

  // Returns a copy whose message is "prefix: message".
  Status WithPrefix(const std::string& prefix) const;

 private:
  Status(ErrorCode code, std::string message, std::string field)
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::string field_;
};

// A value or the Status that explains why there is none (bitcoin's util::Result).
// REQUIRES: a Result built from a Status holds an error (!status.ok()).
template <typename T>
class Result {
 public:
  Result(T value) : data_(std::move(value)) {}             // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {}      // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(data_); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace gpuq

// Returns early from the enclosing function when `expr` (a Status) is an error.
#define GPUQ_RETURN_IF_ERROR(expr)          \
  do {                                      \
    ::gpuq::Status gpuq_status_ = (expr);   \
    if (!gpuq_status_.ok()) return gpuq_status_; \
  } while (0)

#endif  // GPUQ_COMMON_STATUS_H_
