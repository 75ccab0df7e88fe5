// gpuq: `gpuq master` runs the scheduler; every other subcommand is a client of a master's
// HTTP API (INTERFACE.md). This file only parses the command line.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "master/app/master.h"
#include "master/app/master_config.h"
#include "master/cli/api_client.h"
#include "master/cli/client_commands.h"
#include "master/cli/notify_cli.h"
#include "master/cli/task_cli.h"

int main(int argc, char** argv) {
  using namespace gpuq;
  CLI::App app{"gpuq: a GPU task scheduler for research labs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gpuq 0.1.0");

  // Master settings are collected as text and resolved with INTERFACE.md's precedence
  // (flag > GPUQ_* environment > config file > default) by ResolveMasterOptions.
  std::map<std::string, std::string> master_flags;
  std::string master_config;
  CLI::App* master_cmd = app.add_subcommand("master", "run the master (scheduler, API, panel)");
  master_cmd->add_option("--config", master_config, "TOML or INI file with master settings");
  const std::pair<const char*, const char*> kMasterFlags[] = {
      {"listen", "HOST:PORT to serve on (default 0.0.0.0:8000)"},
      {"data", "data folder: database, key, logs (default ./gpuq-data)"},
      {"probe-interval-ms", "how often each node's GPUs are sampled (default 1000)"},
      {"probe-timeout-ms", "a probe slower than this marks the node unavailable (default 5000)"},
      {"connect-timeout-ms", "SSH connect timeout (default 5000)"},
      {"kill-grace-ms", "cancel/time limit: TERM, then KILL after this (default 10000)"},
      {"lost-after-ms", "runs on a node away this long are lost (default 600000)"},
      {"tls-cert", "serve HTTPS with this PEM certificate (chain); needs --tls-key"},
      {"tls-key", "the PEM private key of --tls-cert"},
      {"public-url", "the master's URL in notification links (default http://<listen>)"},
      {"smtp-host", "SMTP server for e-mail notifications (env GPUQ_SMTP_HOST)"},
      {"smtp-port", "SMTP port (default 25, 587 or 465 by --smtp-security)"},
      {"smtp-security", "none, starttls or tls (default none)"},
      {"smtp-user", "SMTP login; the password only from GPUQ_SMTP_PASSWORD or --config"},
      {"smtp-from", "From: address of notification e-mails"},
      {"notify-retry-base-ms", "first retry of a failed notification; doubles (default 30000)"},
      {"notify-retry-max-ms", "longest wait between notification attempts (default 3600000)"},
      {"notify-max-attempts", "attempts before a notification is failed (default 10)"},
      {"max-running", "at most N tasks starting or running at once (default 0 = no cap)"},
      {"max-running-per-user", "at most N running tasks per user (default 0 = no cap)"},
      {"max-running-per-node", "at most N running tasks per node (default 0 = no cap)"},
      {"default-time-limit", "time limit of tasks that set none: 30m, 2h, 1d (default none)"},
      {"queue-file", "a CSV queue file to watch: rows are tasks, status is written back"},
      {"queue-file-user", "the account that owns the queue file's tasks (default admin)"},
  };
  std::map<std::string, std::string> master_flag_values;
  for (const auto& [name, help] : kMasterFlags) {
    master_cmd->add_option(std::string("--") + name, master_flag_values[name], help);
  }

  // Client subcommands share --server and --token.
  cli::ClientOptions client;
  if (const char* s = std::getenv("GPUQ_SERVER"); s && *s) client.server = s;
  if (const char* t = std::getenv("GPUQ_TOKEN"); t && *t) client.token = t;
  auto add_client_flags = [&](CLI::App* cmd) {
    cmd->add_option("--server", client.server, "master URL (env GPUQ_SERVER)");
    cmd->add_option("--token", client.token, "API token (env GPUQ_TOKEN; else `gpuq login`)");
  };

  std::string login_user = "admin";
  CLI::App* login_cmd = app.add_subcommand("login", "ask for a password and store an API token");
  add_client_flags(login_cmd);
  login_cmd->add_option("--user", login_user, "account name")->capture_default_str();

  bool nodes_json = false;
  CLI::App* nodes_cmd = app.add_subcommand("nodes", "nodes with every GPU's memory, use, holders");
  add_client_flags(nodes_cmd);
  nodes_cmd->add_flag("--json", nodes_json, "print the API's JSON");

  CLI::App* node_cmd = app.add_subcommand("node", "manage nodes (admin)");
  node_cmd->require_subcommand(1);
  cli::NodeAddOptions node_add;
  bool no_schedule = false;
  CLI::App* node_add_cmd = node_cmd->add_subcommand("add", "register a node");
  add_client_flags(node_add_cmd);
  node_add_cmd->add_option("name", node_add.name, "node name")->required();
  node_add_cmd->add_option("host", node_add.host, "host name or address")->required();
  node_add_cmd->add_option("--port", node_add.port, "SSH port")->capture_default_str();
  node_add_cmd->add_option("--probe", node_add.probe, "nvidia-smi, gpustat or an absolute path");
  node_add_cmd->add_flag("--no-schedule", no_schedule, "watch the node but start nothing on it");
  std::string node_ref, fingerprint;
  CLI::App* node_rm_cmd = node_cmd->add_subcommand("rm", "remove a node");
  add_client_flags(node_rm_cmd);
  node_rm_cmd->add_option("node", node_ref, "node name or id")->required();
  CLI::App* node_accept_cmd =
      node_cmd->add_subcommand("accept-key", "accept a node's new host key");
  add_client_flags(node_accept_cmd);
  node_accept_cmd->add_option("node", node_ref, "node name or id")->required();
  node_accept_cmd->add_option("fingerprint", fingerprint, "the SHA256:... the node now shows")
      ->required();

  CLI::App* cred_cmd = app.add_subcommand("credential", "your SSH credential for the nodes");
  cred_cmd->require_subcommand(1);
  std::string remote_user, key_file;
  CLI::App* cred_set_cmd = cred_cmd->add_subcommand("set", "store your SSH user and private key");
  add_client_flags(cred_set_cmd);
  cred_set_cmd->add_option("--remote-user", remote_user, "account name on the nodes")->required();
  cred_set_cmd->add_option("--key", key_file, "private key file (no passphrase)")->required();

  cli::TaskCli task_cli(app, add_client_flags);      // submit, queue, show, cancel, logs, import
  cli::NotifyCli notify_cli(app, add_client_flags);  // notify me|targets|add|rm|test|log|retry

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : cli::kExitUsage;
  }

  if (*master_cmd) {
    for (const auto& [name, help] : kMasterFlags) {
      if (master_cmd->count(std::string("--") + name) > 0) {
        std::string key = name;
        std::replace(key.begin(), key.end(), '-', '_');
        master_flags[key] = master_flag_values[name];
      }
    }
    std::map<std::string, std::string> env;
    for (const std::string& setting : MasterSettingNames()) {
      std::string name = MasterSettingEnvName(setting);
      if (const char* v = std::getenv(name.c_str())) env[name] = v;
    }
    std::map<std::string, std::string> file;
    if (!master_config.empty()) {
      std::ifstream in(master_config);
      if (!in) {
        std::cerr << "gpuq master: cannot read the config file " << master_config << "\n";
        return cli::kExitUsage;
      }
      std::stringstream text;
      text << in.rdbuf();
      Result<std::map<std::string, std::string>> parsed = ParseMasterConfig(text.str());
      if (!parsed.ok()) {
        std::cerr << "gpuq master: " << master_config << ": " << parsed.status().message() << "\n";
        return cli::kExitUsage;
      }
      file = std::move(*parsed);
    }
    Result<MasterOptions> options = ResolveMasterOptions(master_flags, env, file);
    if (!options.ok()) {
      std::cerr << "gpuq master: " << options.status().ToString() << "\n";
      return cli::kExitUsage;
    }
    return RunMaster(*options);
  }
  if (*login_cmd) return cli::Login(client, login_user);
  if (*nodes_cmd) return cli::ListNodes(client, nodes_json);
  if (*node_add_cmd) {
    node_add.schedulable = !no_schedule;
    return cli::AddNode(client, node_add);
  }
  if (*node_rm_cmd) return cli::RemoveNode(client, node_ref);
  if (*node_accept_cmd) return cli::AcceptNodeKey(client, node_ref, fingerprint);
  if (*cred_set_cmd) return cli::SetCredential(client, remote_user, key_file);
  if (int code = 0; task_cli.Run(client, &code)) return code;
  if (int code = 0; notify_cli.Run(client, &code)) return code;
  return cli::kExitUsage;
}
