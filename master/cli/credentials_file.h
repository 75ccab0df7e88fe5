#ifndef GPUQ_MASTER_CLI_CREDENTIALS_FILE_H_
#define GPUQ_MASTER_CLI_CREDENTIALS_FILE_H_

#include <optional>
#include <string>

#include "common/status.h"

namespace gpuq::cli {

// ~/.config/gpuq/credentials: the API token `gpuq login` stored for each server, as JSON,
// mode 0600 (written to a temp file and renamed, so a crash never leaves half a file).
class CredentialsFile {
 public:
  // $XDG_CONFIG_HOME/gpuq/credentials, else $HOME/.config/gpuq/credentials.
  static std::string DefaultPath();

  static std::optional<std::string> TokenFor(const std::string& path, const std::string& server);
  static Status Store(const std::string& path, const std::string& server, const std::string& user,
                      const std::string& token);
};

}  // namespace gpuq::cli

#endif  // GPUQ_MASTER_CLI_CREDENTIALS_FILE_H_
