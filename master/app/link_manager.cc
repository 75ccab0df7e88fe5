#include "master/app/link_manager.h"

#include <spdlog/spdlog.h>

#include "master/exec/connect_params.h"
#include "master/store/credential_store.h"
#include "master/store/user_store.h"

namespace gpuq {

LinkManager::LinkManager(Database* db, Clock* clock, const SecretBox* secrets,
                         NodeTransport* transport, NodeLinkListener* listener, LinkOptions options)
    : db_(db),
      clock_(clock),
      secrets_(secrets),
      transport_(transport),
      listener_(listener),
      options_(std::move(options)) {}

LinkManager::~LinkManager() { StopAll(); }

NodeLinkConfig LinkManager::BuildConfig(const NodeRow& node) {
  NodeLinkConfig config;
  config.id = node.id;
  config.name = node.name;
  config.probe = node.probe;
  config.interval = options_.probe_interval;
  config.probe_timeout = options_.probe_timeout;

  UserStore users(db_, clock_);
  Result<UserRow> account = users.FindByName(options_.probe_account);
  if (!account.ok()) {
    config.config_error = "the probe account '" + options_.probe_account + "' does not exist";
    return config;
  }
  CredentialStore credentials(db_, clock_);
  Result<std::optional<CredentialRow>> credential = credentials.Get(account->id);
  if (!credential.ok() || !credential->has_value()) {
    config.config_error = "no SSH credential stored for the probe account '" +
                          options_.probe_account +
                          "': store one with PUT /api/v1/me/credential or `gpuq credential set`";
    return config;
  }
  Result<ConnectParams> params =
      NodeConnectParams(node, **credential, *secrets_, options_.connect_timeout);
  if (!params.ok()) {
    config.config_error = "the probe account's credential: " + params.status().message();
    return config;
  }
  config.connect = std::move(*params);
  return config;
}

Status LinkManager::StartAll() {
  NodeStore nodes(db_, clock_);
  Result<std::vector<NodeRow>> rows = nodes.List();
  if (!rows.ok()) return rows.status();
  for (const NodeRow& row : *rows) Restart(row.id);
  return Status::Ok();
}

void LinkManager::RetireLocked(NodeId node) {
  auto it = links_.find(node);
  if (it == links_.end()) return;
  it->second->RequestStop();
  retiring_.push_back(std::move(it->second));
  links_.erase(it);
  // Join the ones that have already left their loop; the rest wait for a later call.
  std::erase_if(retiring_, [](const std::unique_ptr<NodeLink>& link) { return link->finished(); });
}

void LinkManager::Restart(NodeId node) {
  NodeStore nodes(db_, clock_);
  Result<NodeRow> row = nodes.Get(node);
  std::lock_guard lock(mu_);
  RetireLocked(node);
  if (!row.ok()) return;  // deleted meanwhile
  links_[node] = std::make_unique<NodeLink>(BuildConfig(*row), transport_, clock_, listener_);
}

void LinkManager::Remove(NodeId node) {
  std::lock_guard lock(mu_);
  RetireLocked(node);
}

void LinkManager::ProbeSoon(NodeId node) {
  std::lock_guard lock(mu_);
  auto it = links_.find(node);
  if (it != links_.end()) it->second->ProbeSoon();
}

void LinkManager::RestartAll() {
  std::vector<NodeId> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, link] : links_) ids.push_back(id);
  }
  for (NodeId id : ids) Restart(id);
}

void LinkManager::StopAll() {
  std::map<NodeId, std::unique_ptr<NodeLink>> links;
  std::vector<std::unique_ptr<NodeLink>> retiring;
  {
    std::lock_guard lock(mu_);
    links.swap(links_);
    retiring.swap(retiring_);
  }
  // Ask all to stop first, so the joins below overlap instead of adding up.
  for (auto& [id, link] : links) link->RequestStop();
  links.clear();
  retiring.clear();
}

}  // namespace gpuq
