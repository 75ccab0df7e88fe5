#ifndef GPUQ_MASTER_EXEC_CONNECT_PARAMS_H_
#define GPUQ_MASTER_EXEC_CONNECT_PARAMS_H_

#include <chrono>

#include "common/status.h"
#include "master/node/node_transport.h"
#include "master/secrets/secret_box.h"
#include "master/store/credential_store.h"
#include "master/store/node_store.h"

namespace gpuq {

// How to reach `node` as the account of `credential`: its address, the host key the probe
// link pinned (a changed key stops probes and runs alike), and the decrypted private key.
// Fails when the key cannot be decrypted (DATA/secret.key replaced).
Result<ConnectParams> NodeConnectParams(const NodeRow& node, const CredentialRow& credential,
                                        const SecretBox& secrets,
                                        std::chrono::milliseconds connect_timeout);

}  // namespace gpuq

#endif  // GPUQ_MASTER_EXEC_CONNECT_PARAMS_H_
