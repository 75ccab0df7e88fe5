#ifndef GPUQ_MASTER_CLI_CLIENT_COMMANDS_H_
#define GPUQ_MASTER_CLI_CLIENT_COMMANDS_H_

#include <optional>
#include <string>

namespace gpuq::cli {

// Where a client subcommand sends its requests (INTERFACE.md: --server/GPUQ_SERVER,
// --token/GPUQ_TOKEN, else the token `gpuq login` stored).
struct ClientOptions {
  std::string server = "http://127.0.0.1:8000";
  std::string token;             // empty: read from the credentials file
  std::string credentials_path;  // empty: CredentialsFile::DefaultPath()
};

// Each returns the process exit code and prints results to stdout, errors to stderr.
int Login(const ClientOptions& options, const std::string& user);
int ListNodes(const ClientOptions& options, bool json);

struct NodeAddOptions {
  std::string name, host;
  int port = 22;
  std::string probe;  // empty: the master's default
  bool schedulable = true;
};
int AddNode(const ClientOptions& options, const NodeAddOptions& node);
int RemoveNode(const ClientOptions& options, const std::string& name_or_id);
// Accepts the node's new host key; `fingerprint` must match the key the node now shows.
int AcceptNodeKey(const ClientOptions& options, const std::string& name_or_id,
                  const std::string& fingerprint);
int SetCredential(const ClientOptions& options, const std::string& remote_user,
                  const std::string& key_file);

}  // namespace gpuq::cli

#endif  // GPUQ_MASTER_CLI_CLIENT_COMMANDS_H_
