#include "master/cli/api_client.h"

#include "master/cli/raw_client.h"

namespace gpuq::cli {

ApiClient::ApiClient(std::string server_url, std::string token)
    : server_url_(std::move(server_url)), token_(std::move(token)) {
  while (!server_url_.empty() && server_url_.back() == '/') server_url_.pop_back();
}

std::variant<nlohmann::json, CallError> ApiClient::Get(const std::string& path) {
  return Send("GET", path, nullptr);
}
std::variant<nlohmann::json, CallError> ApiClient::Post(const std::string& path,
                                                        const nlohmann::json& body) {
  return Send("POST", path, &body);
}
std::variant<nlohmann::json, CallError> ApiClient::Put(const std::string& path,
                                                       const nlohmann::json& body) {
  return Send("PUT", path, &body);
}
std::variant<nlohmann::json, CallError> ApiClient::Patch(const std::string& path,
                                                         const nlohmann::json& body) {
  return Send("PATCH", path, &body);
}
std::variant<nlohmann::json, CallError> ApiClient::Delete(const std::string& path) {
  return Send("DELETE", path, nullptr);
}

std::variant<nlohmann::json, CallError> ApiClient::Send(const std::string& method,
                                                        const std::string& path,
                                                        const nlohmann::json* body) {
  std::variant<RawAnswer, CallError> sent =
      SendRaw(server_url_, token_, method, path, body ? body->dump() : "",
              body ? "application/json" : "");
  if (auto* err = std::get_if<CallError>(&sent)) return *err;
  const RawAnswer& answer = std::get<RawAnswer>(sent);
  nlohmann::json decoded = nlohmann::json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
  if (answer.status >= 200 && answer.status < 300) {
    if (answer.body.empty()) return nlohmann::json::object();
    if (decoded.is_discarded()) {
      return CallError{kExitRefused, "the master sent a body that is not JSON"};
    }
    return decoded;
  }
  std::string message = answer.ErrorMessage();
  if (decoded.is_object() && decoded.contains("field") && decoded["field"].is_string() &&
      !decoded["field"].get<std::string>().empty()) {
    message = decoded["field"].get<std::string>() + ": " + message;
  }
  return CallError{kExitRefused, message};
}

}  // namespace gpuq::cli
