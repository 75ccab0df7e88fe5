#ifndef GPUQ_MASTER_CLI_RAW_CLIENT_H_
#define GPUQ_MASTER_CLI_RAW_CLIENT_H_

// HTTP calls whose body is not JSON (CSV uploads, log text) or whose headers matter
// (X-Log-Size). ApiClient decodes the JSON calls on top of it.

#include <map>
#include <string>
#include <variant>

#include "master/cli/api_client.h"

namespace gpuq::cli {

struct RawAnswer {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case

  // The header's value, or "" when absent. `name` in lower case.
  std::string Header(const std::string& name) const;
  // The "error" of a JSON error body, or "HTTP <status>".
  std::string ErrorMessage() const;
};

// Sends one request (GET, POST, PUT, PATCH or DELETE) to server_url + path with the bearer
// token (when not empty) and, except for GET and DELETE, `body` as `content_type`. Any HTTP status is an answer; CallError only when the master
// cannot be reached (kExitUnreachable) or the URL is unusable (kExitUsage).
std::variant<RawAnswer, CallError> SendRaw(const std::string& server_url, const std::string& token,
                                           const std::string& method, const std::string& path,
                                           const std::string& body = "",
                                           const std::string& content_type = "");

}  // namespace gpuq::cli

#endif  // GPUQ_MASTER_CLI_RAW_CLIENT_H_
