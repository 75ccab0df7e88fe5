#ifndef GPUQ_MASTER_CLI_API_CLIENT_H_
#define GPUQ_MASTER_CLI_API_CLIENT_H_

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace gpuq::cli {

// Exit codes every client subcommand uses (INTERFACE.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;      // the master answered with an error
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;  // no answer from the master

// A failed call: the exit code it maps to and the message for stderr.
struct CallError {
  int exit_code = kExitRefused;
  std::string message;
};

// Talks JSON to a master's /api/v1. Not thread-safe; one per command.
class ApiClient {
 public:
  ApiClient(std::string server_url, std::string token);

  // Each returns the decoded JSON body of a 2xx answer, or the error.
  // An error body {"error","field"} becomes "field: error".
  std::variant<nlohmann::json, CallError> Get(const std::string& path);
  std::variant<nlohmann::json, CallError> Post(const std::string& path, const nlohmann::json& body);
  std::variant<nlohmann::json, CallError> Put(const std::string& path, const nlohmann::json& body);
  std::variant<nlohmann::json, CallError> Patch(const std::string& path,
                                                const nlohmann::json& body);
  std::variant<nlohmann::json, CallError> Delete(const std::string& path);

  const std::string& server_url() const { return server_url_; }

 private:
  std::variant<nlohmann::json, CallError> Send(const std::string& method, const std::string& path,
                                               const nlohmann::json* body);
  std::string server_url_;
  std::string token_;
};

}  // namespace gpuq::cli

#endif  // GPUQ_MASTER_CLI_API_CLIENT_H_
