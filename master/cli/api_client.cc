#include "master/cli/api_client.h"

#include <httplib.h>

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
  httplib::Client client(server_url_);
  if (!client.is_valid()) {
    return CallError{kExitUsage, "not a server URL: " + server_url_};
  }
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(60, 0);
  httplib::Headers headers;
  if (!token_.empty()) headers.emplace("Authorization", "Bearer " + token_);
  std::string payload = body ? body->dump() : "";
  const char* type = "application/json";

  httplib::Result res = [&] {
    if (method == "GET") return client.Get(path, headers);
    if (method == "POST") return client.Post(path, headers, payload, type);
    if (method == "PUT") return client.Put(path, headers, payload, type);
    if (method == "PATCH") return client.Patch(path, headers, payload, type);
    return client.Delete(path, headers);
  }();
  if (!res) {
    return CallError{kExitUnreachable, "cannot reach the master at " + server_url_ + ": " +
                                           httplib::to_string(res.error())};
  }
  nlohmann::json decoded = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (res->status >= 200 && res->status < 300) {
    if (res->body.empty()) return nlohmann::json::object();
    if (decoded.is_discarded()) {
      return CallError{kExitRefused, "the master sent a body that is not JSON"};
    }
    return decoded;
  }
  std::string message = "HTTP " + std::to_string(res->status);
  if (decoded.is_object() && decoded.contains("error") && decoded["error"].is_string()) {
    message = decoded["error"].get<std::string>();
    if (decoded.contains("field") && decoded["field"].is_string() &&
        !decoded["field"].get<std::string>().empty()) {
      message = decoded["field"].get<std::string>() + ": " + message;
    }
  }
  return CallError{kExitRefused, message};
}

}  // namespace gpuq::cli
