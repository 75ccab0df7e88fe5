#include "master/cli/client_commands.h"

#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "master/cli/api_client.h"
#include "master/cli/credentials_file.h"
#include "master/cli/nodes_view.h"

namespace gpuq::cli {
namespace {

std::string CredentialsPath(const ClientOptions& options) {
  return options.credentials_path.empty() ? CredentialsFile::DefaultPath()
                                          : options.credentials_path;
}

ApiClient MakeClient(const ClientOptions& options) {
  std::string token = options.token;
  if (token.empty()) {
    token = CredentialsFile::TokenFor(CredentialsPath(options), options.server).value_or("");
  }
  return ApiClient(options.server, token);
}

// Prints the error and returns its exit code; for OK results runs `on_ok`.
template <typename F>
int Handle(std::variant<nlohmann::json, CallError> result, F on_ok) {
  if (auto* err = std::get_if<CallError>(&result)) {
    std::cerr << "gpuq: " << err->message << "\n";
    return err->exit_code;
  }
  on_ok(std::get<nlohmann::json>(result));
  return kExitOk;
}

// Reads a password from the terminal without echo, or one line from stdin when it is not a
// terminal (so scripts can pipe it in).
std::string ReadPassword(const std::string& prompt) {
  std::string password;
  if (isatty(STDIN_FILENO)) {
    std::cerr << prompt << std::flush;
    termios old_term{};
    tcgetattr(STDIN_FILENO, &old_term);
    termios quiet = old_term;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, password);
    tcsetattr(STDIN_FILENO, TCSANOW, &old_term);
    std::cerr << "\n";
  } else {
    std::getline(std::cin, password);
  }
  return password;
}

// Finds a node's id from its name (or an id given as digits).
std::variant<int64_t, CallError> ResolveNode(ApiClient& client, const std::string& name_or_id) {
  auto nodes = client.Get("/api/v1/nodes");
  if (auto* err = std::get_if<CallError>(&nodes)) return *err;
  for (const nlohmann::json& node : std::get<nlohmann::json>(nodes)) {
    if (node.value("name", "") == name_or_id || std::to_string(node.value("id", 0)) == name_or_id) {
      return node.value("id", int64_t{0});
    }
  }
  return CallError{kExitRefused, "no node named '" + name_or_id + "'"};
}

}  // namespace

int Login(const ClientOptions& options, const std::string& user) {
  std::string password = ReadPassword("Password for " + user + ": ");
  ApiClient client(options.server, "");
  return Handle(client.Post("/api/v1/tokens", {{"username", user}, {"password", password}}),
                [&](const nlohmann::json& body) {
                  std::string token = body.value("token", "");
                  Status s = CredentialsFile::Store(CredentialsPath(options), options.server, user,
                                                    token);
                  if (!s.ok()) {
                    std::cerr << "gpuq: " << s.message() << "\n";
                    return;
                  }
                  std::cout << "logged in to " << options.server << " as " << user << "\n";
                });
}

int ListNodes(const ClientOptions& options, bool json) {
  ApiClient client = MakeClient(options);
  return Handle(client.Get("/api/v1/nodes"), [&](const nlohmann::json& nodes) {
    if (json) {
      std::cout << nodes.dump(2) << "\n";
    } else {
      std::cout << RenderNodes(nodes);
    }
  });
}

int AddNode(const ClientOptions& options, const NodeAddOptions& node) {
  ApiClient client = MakeClient(options);
  nlohmann::json body = {{"name", node.name},
                         {"host", node.host},
                         {"port", node.port},
                         {"schedulable", node.schedulable}};
  if (!node.probe.empty()) body["probe"] = node.probe;
  return Handle(client.Post("/api/v1/nodes", body), [](const nlohmann::json& created) {
    std::cout << created.value("id", 0) << "\n";
  });
}

int RemoveNode(const ClientOptions& options, const std::string& name_or_id) {
  ApiClient client = MakeClient(options);
  auto id = ResolveNode(client, name_or_id);
  if (auto* err = std::get_if<CallError>(&id)) {
    std::cerr << "gpuq: " << err->message << "\n";
    return err->exit_code;
  }
  return Handle(client.Delete("/api/v1/nodes/" + std::to_string(std::get<int64_t>(id))),
                [](const nlohmann::json&) {});
}

int AcceptNodeKey(const ClientOptions& options, const std::string& name_or_id,
                  const std::string& fingerprint) {
  ApiClient client = MakeClient(options);
  auto id = ResolveNode(client, name_or_id);
  if (auto* err = std::get_if<CallError>(&id)) {
    std::cerr << "gpuq: " << err->message << "\n";
    return err->exit_code;
  }
  return Handle(client.Patch("/api/v1/nodes/" + std::to_string(std::get<int64_t>(id)),
                             {{"accept_host_key", fingerprint}}),
                [](const nlohmann::json& node) {
                  std::cout << "host key of " << node.value("name", "") << " is now "
                            << node.value("host_key_sha256", "") << "\n";
                });
}

int SetCredential(const ClientOptions& options, const std::string& remote_user,
                  const std::string& key_file) {
  std::ifstream in(key_file);
  if (!in) {
    std::cerr << "gpuq: cannot read " << key_file << "\n";
    return kExitUsage;
  }
  std::stringstream key;
  key << in.rdbuf();
  ApiClient client = MakeClient(options);
  return Handle(client.Put("/api/v1/me/credential",
                           {{"remote_user", remote_user}, {"private_key", key.str()}}),
                [](const nlohmann::json& body) {
                  std::cout << "stored the key " << body.value("public_key_sha256", "")
                            << " for remote user " << body.value("remote_user", "") << "\n";
                });
}

}  // namespace gpuq::cli
