#include "master/cli/credentials_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace gpuq::cli {
namespace {

nlohmann::json Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nlohmann::json::object();
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

}  // namespace

std::string CredentialsFile::DefaultPath() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/gpuq/credentials";
  }
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.config/gpuq/credentials";
}

std::optional<std::string> CredentialsFile::TokenFor(const std::string& path,
                                                     const std::string& server) {
  nlohmann::json j = Load(path);
  if (!j.contains("servers") || !j["servers"].is_object()) return std::nullopt;
  const nlohmann::json& servers = j["servers"];
  auto it = servers.find(server);
  if (it == servers.end() || !it->is_object() || !it->contains("token") ||
      !(*it)["token"].is_string()) {
    return std::nullopt;
  }
  return (*it)["token"].get<std::string>();
}

Status CredentialsFile::Store(const std::string& path, const std::string& server,
                              const std::string& user, const std::string& token) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Internal("cannot create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);

  nlohmann::json j = Load(path);
  if (!j.contains("servers") || !j["servers"].is_object()) j["servers"] = nlohmann::json::object();
  j["servers"][server] = {{"user", user}, {"token", token}};
  std::string text = j.dump(2) + "\n";

  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Status::Internal("cannot write " + tmp + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::Internal("cannot write " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace gpuq::cli
