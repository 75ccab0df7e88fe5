#include "master/exec/connect_params.h"

namespace gpuq {

Result<ConnectParams> NodeConnectParams(const NodeRow& node, const CredentialRow& credential,
                                        const SecretBox& secrets,
                                        std::chrono::milliseconds connect_timeout) {
  Result<std::string> key = secrets.Open(credential.private_key_sealed);
  if (!key.ok()) {
    return Status::FailedPrecondition("cannot decrypt the SSH key of remote user '" +
                                      credential.remote_user +
                                      "' (was DATA/secret.key replaced?): " +
                                      key.status().message());
  }
  ConnectParams params;
  params.host = node.host;
  params.port = node.port;
  params.remote_user = credential.remote_user;
  params.private_key = std::move(*key);
  params.pinned_host_key_sha256 = node.host_key_sha256.value_or("");
  params.connect_timeout = connect_timeout;
  return params;
}

}  // namespace gpuq
