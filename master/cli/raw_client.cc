#include "master/cli/raw_client.h"

#include <httplib.h>

#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace gpuq::cli {

std::string RawAnswer::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::string RawAnswer::ErrorMessage() const {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) {
    return j["error"].get<std::string>();
  }
  return "HTTP " + std::to_string(status);
}

std::variant<RawAnswer, CallError> SendRaw(const std::string& server_url, const std::string& token,
                                           const std::string& method, const std::string& path,
                                           const std::string& body,
                                           const std::string& content_type) {
  std::string url = server_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  httplib::Client client(url);
  if (!client.is_valid()) return CallError{kExitUsage, "not a server URL: " + server_url};
  // A lab's own certificate authority (or a self-signed master certificate) for https://.
  if (const char* ca = std::getenv("GPUQ_CA_CERT"); ca != nullptr && *ca != '\0') {
    client.set_ca_cert_path(ca);
  }
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(120, 0);
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  httplib::Result res = [&] {
    if (method == "POST") return client.Post(path.c_str(), headers, body, content_type.c_str());
    if (method == "PUT") return client.Put(path.c_str(), headers, body, content_type.c_str());
    if (method == "PATCH") return client.Patch(path.c_str(), headers, body, content_type.c_str());
    if (method == "DELETE") return client.Delete(path.c_str(), headers);
    return client.Get(path.c_str(), headers);
  }();
  if (!res) {
    return CallError{kExitUnreachable, "cannot reach the master at " + server_url + ": " +
                                           httplib::to_string(res.error())};
  }
  RawAnswer answer;
  answer.status = res->status;
  answer.body = std::move(res->body);
  for (const auto& [name, value] : res->headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    answer.headers[lower] = value;
  }
  return answer;
}

}  // namespace gpuq::cli
