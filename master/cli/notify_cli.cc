// CLI11 2.1 compiled by GCC 12 at -O2 trips a false -Wnull-dereference inside
// CLI::detail::split (see task_cli.cc). The pragma must come before the standard headers.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include "master/cli/notify_cli.h"

#include <iostream>

#include "master/cli/api_client.h"
#include "master/cli/credentials_file.h"

namespace gpuq::cli {
namespace {

using nlohmann::json;

ApiClient MakeClient(const ClientOptions& options) {
  std::string token = options.token;
  if (token.empty()) {
    std::string path = options.credentials_path.empty() ? CredentialsFile::DefaultPath()
                                                        : options.credentials_path;
    token = CredentialsFile::TokenFor(path, options.server).value_or("");
  }
  return ApiClient(options.server, token);
}

template <typename F>
int Handle(std::variant<json, CallError> result, F on_ok) {
  if (auto* err = std::get_if<CallError>(&result)) {
    std::cerr << "gpuq: " << err->message << "\n";
    return err->exit_code;
  }
  on_ok(std::get<json>(result));
  return kExitOk;
}

std::string Join(const json& list) {
  std::string out;
  for (const json& e : list) out += (out.empty() ? "" : ",") + e.get<std::string>();
  return out.empty() ? "-" : out;
}

void PrintTargets(const json& targets) {
  std::printf("%-4s %-8s %-9s %-8s %-40s %s\n", "ID", "KIND", "FORMAT", "ENABLED", "ADDRESS",
              "EVENTS");
  for (const json& t : targets) {
    std::printf("%-4lld %-8s %-9s %-8s %-40s %s\n", static_cast<long long>(t["id"].get<int64_t>()),
                t["kind"].get<std::string>().c_str(), t["format"].get<std::string>().c_str(),
                t["enabled"].get<bool>() ? "yes" : "no", t["address"].get<std::string>().c_str(),
                Join(t["events"]).c_str());
  }
}

void PrintLog(const json& messages) {
  std::printf("%-6s %-12s %-8s %-8s %-8s %-40s %s\n", "ID", "EVENT", "CHANNEL", "STATUS",
              "ATTEMPTS", "RECIPIENT", "LAST ERROR");
  for (const json& m : messages) {
    std::printf(
        "%-6lld %-12s %-8s %-8s %-8d %-40s %s\n", static_cast<long long>(m["id"].get<int64_t>()),
        m["event"].get<std::string>().c_str(), m["channel"].get<std::string>().c_str(),
        m["status"].get<std::string>().c_str(), m["attempts"].get<int>(),
        m["recipient"].get<std::string>().c_str(), m["last_error"].get<std::string>().c_str());
  }
}

}  // namespace

NotifyCli::NotifyCli(CLI::App& app, const std::function<void(CLI::App*)>& add_client_flags) {
  CLI::App* notify = app.add_subcommand("notify", "e-mail and webhook notifications");
  notify->require_subcommand(1);

  me_ = notify->add_subcommand("me", "show or set your e-mail and your tasks' default --notify");
  add_client_flags(me_);
  me_->add_option("--email", email_, "where your task e-mails go (\"\" = none)");
  me_->add_option("--default", default_,
                  "end, failure or off: for tasks submitted without --notify");

  targets_ = notify->add_subcommand("targets", "webhook and e-mail targets (admin)");
  add_client_flags(targets_);
  targets_->add_flag("--json", json_, "print the API's JSON");

  add_ = notify->add_subcommand("add",
                                "add a target (admin): gpuq notify add URL|ADDRESS --events ...");
  add_client_flags(add_);
  add_->add_option("address", address_, "webhook URL, or e-mail address with --kind email")
      ->required();
  add_->add_option("--kind", kind_, "webhook (default) or email");
  add_->add_option("--format", format_, "generic (default), slack, dingtalk or feishu");
  add_->add_option("--events", events_,
                   "run_started,run_ended,task_failed,node_down,node_up,gpu_idle")
      ->delimiter(',')
      ->required();
  add_->add_option("--name", name_, "a name to know it by");

  rm_ = notify->add_subcommand("rm", "remove a target (admin)");
  add_client_flags(rm_);
  rm_->add_option("id", id_, "target id")->required();

  test_ =
      notify->add_subcommand("test", "send a test to a target, or an e-mail --to ADDRESS (admin)");
  add_client_flags(test_);
  test_->add_option("id", id_, "target id");
  test_->add_option("--to", to_, "send a test e-mail through the SMTP settings instead");

  log_ = notify->add_subcommand("log", "recent notifications and delivery errors (admin)");
  add_client_flags(log_);
  log_->add_option("--status", status_, "pending, sent or failed");
  log_->add_flag("--json", json_, "print the API's JSON");

  retry_ = notify->add_subcommand("retry", "queue a failed notification again (admin)");
  add_client_flags(retry_);
  retry_->add_option("id", id_, "notification id")->required();
}

bool NotifyCli::Run(const ClientOptions& client, int* code) {
  auto print_json = [](const json& j) { std::cout << j.dump(2) << "\n"; };
  if (*me_) {
    ApiClient api = MakeClient(client);
    json body = json::object();
    if (me_->count("--email") > 0) body["email"] = email_;
    if (me_->count("--default") > 0) body["notify_default"] = default_;
    auto show = [](const json& j) {
      std::string email = j["email"].get<std::string>();
      std::cout << "email: " << (email.empty() ? "(none)" : email)
                << "\ndefault notify: " << j["notify_default"].get<std::string>() << "\n";
    };
    *code = body.empty() ? Handle(api.Get("/api/v1/me/notifications"), show)
                         : Handle(api.Put("/api/v1/me/notifications", body), show);
  } else if (*targets_) {
    *code = Handle(MakeClient(client).Get("/api/v1/notify/targets"),
                   [&](const json& j) { json_ ? print_json(j) : PrintTargets(j); });
  } else if (*add_) {
    json body = {{"kind", kind_},
                 {"address", address_},
                 {"format", format_},
                 {"events", events_},
                 {"name", name_}};
    *code = Handle(MakeClient(client).Post("/api/v1/notify/targets", body),
                   [](const json& j) { std::cout << j["id"].get<int64_t>() << "\n"; });
  } else if (*rm_) {
    *code = Handle(MakeClient(client).Delete("/api/v1/notify/targets/" + std::to_string(id_)),
                   [](const json&) {});
  } else if (*test_) {
    if ((test_->count("id") > 0) == (test_->count("--to") > 0)) {
      std::cerr << "gpuq: give a target id or --to ADDRESS\n";
      *code = kExitUsage;
      return true;
    }
    ApiClient api = MakeClient(client);
    auto sent = [](const json&) { std::cout << "sent\n"; };
    *code = to_.empty()
                ? Handle(api.Post("/api/v1/notify/targets/" + std::to_string(id_) + "/test",
                                  json::object()),
                         sent)
                : Handle(api.Post("/api/v1/settings/notifications/test", {{"to", to_}}), sent);
  } else if (*log_) {
    std::string path = "/api/v1/notifications";
    if (!status_.empty()) path += "?status=" + status_;
    *code = Handle(MakeClient(client).Get(path),
                   [&](const json& j) { json_ ? print_json(j) : PrintLog(j); });
  } else if (*retry_) {
    *code = Handle(MakeClient(client).Post(
                       "/api/v1/notifications/" + std::to_string(id_) + "/retry", json::object()),
                   [](const json& j) { std::cout << "queued again: " << j["id"] << "\n"; });
  } else {
    return false;
  }
  return true;
}

}  // namespace gpuq::cli
