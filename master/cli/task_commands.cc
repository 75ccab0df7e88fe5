#include "master/cli/task_commands.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "master/cli/api_client.h"
#include "master/cli/credentials_file.h"
#include "master/cli/raw_client.h"
#include "master/cli/tasks_view.h"

namespace gpuq::cli {
namespace {

using nlohmann::json;

constexpr auto kPollInterval = std::chrono::milliseconds(500);

std::string Token(const ClientOptions& options) {
  if (!options.token.empty()) return options.token;
  std::string path =
      options.credentials_path.empty() ? CredentialsFile::DefaultPath() : options.credentials_path;
  return CredentialsFile::TokenFor(path, options.server).value_or("");
}

UnixMs Now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Fail(const CallError& err) {
  std::cerr << "gpuq: " << err.message << "\n";
  return err.exit_code;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  *out = text.str();
  return !in.bad();
}

bool IsEnded(const std::string& status) {
  return status == "succeeded" || status == "failed" || status == "cancelled" ||
         status == "timed_out" || status == "lost";
}

std::string PercentEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// The run to show: the one with `attempt`, else the latest; nullptr when there is none.
const json* PickRun(const json& task, std::optional<int> attempt) {
  const json* chosen = nullptr;
  auto runs = task.find("runs");
  if (runs == task.end() || !runs->is_array()) return nullptr;
  for (const json& run : *runs) {
    if (!attempt || run.value("attempt", 0) == *attempt) chosen = &run;
  }
  return chosen;
}

}  // namespace

int SubmitTask(const ClientOptions& options, const SubmitOptions& submit) {
  std::string command;
  if (!submit.command_file.empty()) {
    if (!submit.command_words.empty()) {
      std::cerr << "gpuq submit: give the command after -- or with --command-file, not both\n";
      return kExitUsage;
    }
    if (!ReadFile(submit.command_file, &command)) {
      std::cerr << "gpuq submit: cannot read " << submit.command_file << "\n";
      return kExitUsage;
    }
  } else if (submit.command_words.empty()) {
    std::cerr << "gpuq submit: no command: gpuq submit [options] -- COMMAND [ARGS...]\n";
    return kExitUsage;
  } else {
    command = JoinCommandWords(submit.command_words);
  }
  Result<json> body = BuildSubmitBody(submit, command);
  if (!body.ok()) {
    std::cerr << "gpuq submit: " << body.status().field() << ": " << body.status().message()
              << "\n";
    return kExitUsage;
  }
  ApiClient client(options.server, Token(options));
  auto created = client.Post("/api/v1/tasks", *body);
  if (auto* err = std::get_if<CallError>(&created)) return Fail(*err);
  const json& task = std::get<json>(created);
  std::cout << task.value("id", int64_t{0}) << "\n";
  if (task.contains("warning") && task["warning"].is_string()) {
    std::cerr << "gpuq: warning: " << task["warning"].get<std::string>() << "\n";
  }
  return kExitOk;
}

int ShowQueue(const ClientOptions& options, bool all, const std::string& user, bool json_out) {
  std::string path = all ? "/api/v1/tasks?limit=1000"
                         : "/api/v1/tasks?status=held,queued,starting,running&limit=10000";
  if (!user.empty()) path += "&user=" + PercentEncode(user);
  ApiClient client(options.server, Token(options));
  auto tasks = client.Get(path);
  if (auto* err = std::get_if<CallError>(&tasks)) return Fail(*err);
  json list = std::get<json>(tasks);
  if (list.is_array()) std::reverse(list.begin(), list.end());  // oldest first, like a queue
  if (json_out) {
    std::cout << list.dump(2) << "\n";
  } else {
    std::cout << RenderQueue(list, Now());
  }
  return kExitOk;
}

int ShowTask(const ClientOptions& options, int64_t id, bool json_out) {
  ApiClient client(options.server, Token(options));
  auto task = client.Get("/api/v1/tasks/" + std::to_string(id));
  if (auto* err = std::get_if<CallError>(&task)) return Fail(*err);
  if (json_out) {
    std::cout << std::get<json>(task).dump(2) << "\n";
  } else {
    std::cout << RenderTask(std::get<json>(task), Now());
  }
  return kExitOk;
}

int CancelTasks(const ClientOptions& options, const std::vector<int64_t>& ids) {
  ApiClient client(options.server, Token(options));
  int code = kExitOk;
  for (int64_t id : ids) {
    auto task = client.Post("/api/v1/tasks/" + std::to_string(id) + "/cancel", json::object());
    if (auto* err = std::get_if<CallError>(&task)) {
      std::cerr << "gpuq: " << err->message << "\n";  // the message names the task
      if (code == kExitOk) code = err->exit_code;
      if (err->exit_code == kExitUnreachable) return code;
      continue;
    }
    const std::string status = std::get<json>(task).value("status", "");
    if (status == "cancelled") {
      std::cout << "task " << id << ": cancelled\n";
    } else {
      std::cout << "task " << id << ": stopping (" << status << ")\n";
    }
  }
  return code;
}

int ShowLogs(const ClientOptions& options, int64_t task_id, bool follow,
             std::optional<int> attempt) {
  const std::string token = Token(options);
  ApiClient client(options.server, token);
  const std::string task_path = "/api/v1/tasks/" + std::to_string(task_id);
  int64_t run_id = 0;
  int64_t offset = 0;
  // Reads of the log since its run was first seen ended. The master may copy the last bytes
  // just after it records the end, so the log is read once more, a poll later, before the
  // task is asked whether it ended or a retry follows.
  int end_reads = 0;
  for (;;) {
    if (run_id == 0 || end_reads >= 2) {
      auto fetched = client.Get(task_path);
      if (auto* err = std::get_if<CallError>(&fetched)) return Fail(*err);
      const json& task = std::get<json>(fetched);
      const std::string status = task.value("status", "");
      const json* run = PickRun(task, attempt);
      if (run == nullptr) {
        if (attempt) {
          std::cerr << "gpuq: task " << task_id << " has no run with attempt " << *attempt << "\n";
          return kExitRefused;
        }
        if (!follow || IsEnded(status)) {
          std::cerr << "gpuq: task " << task_id << " has no runs (" << status << ")\n";
          return kExitOk;
        }
        std::this_thread::sleep_for(kPollInterval);
        continue;
      }
      const int64_t latest = run->value("id", int64_t{0});
      if (latest == run_id) {  // read to its end; done unless a retry is coming
        if (attempt || IsEnded(status)) return kExitOk;
        std::this_thread::sleep_for(kPollInterval);
        continue;
      }
      if (run_id != 0) {
        std::cerr << "gpuq: --- attempt " << run->value("attempt", 0) << " (run " << latest
                  << ") on " << run->value("node", "") << " ---\n";
      }
      run_id = latest;
      offset = 0;
      end_reads = 0;
    }

    // Read what the log holds beyond `offset`, 1 MiB per answer.
    std::string run_status;
    for (;;) {
      auto answer = SendRaw(
          options.server, token, "GET",
          "/api/v1/runs/" + std::to_string(run_id) + "/log?offset=" + std::to_string(offset));
      if (auto* err = std::get_if<CallError>(&answer)) return Fail(*err);
      const RawAnswer& a = std::get<RawAnswer>(answer);
      if (a.status != 200) return Fail(CallError{kExitRefused, a.ErrorMessage()});
      std::cout.write(a.body.data(), static_cast<std::streamsize>(a.body.size()));
      offset += static_cast<int64_t>(a.body.size());
      run_status = a.Header("x-run-status");
      if (a.body.empty() || offset >= std::atoll(a.Header("x-log-size").c_str())) break;
    }
    std::cout.flush();
    if (!follow) return kExitOk;
    if (IsEnded(run_status)) ++end_reads;
    if (end_reads >= 2) continue;
    std::this_thread::sleep_for(kPollInterval);
  }
}

int ImportCsv(const ClientOptions& options, const std::string& file) {
  std::string text;
  if (!ReadFile(file, &text)) {
    std::cerr << "gpuq import: cannot read " << file << "\n";
    return kExitUsage;
  }
  auto answer =
      SendRaw(options.server, Token(options), "POST", "/api/v1/tasks/import", text, "text/csv");
  if (auto* err = std::get_if<CallError>(&answer)) return Fail(*err);
  const RawAnswer& a = std::get<RawAnswer>(answer);
  if (a.status != 201) {
    std::cerr << "gpuq: " << file << ": " << a.ErrorMessage() << "\n";
    return kExitRefused;
  }
  json tasks = json::parse(a.body, nullptr, /*allow_exceptions=*/false);
  if (!tasks.is_array())
    return Fail(CallError{kExitRefused, "the master sent a body that is not JSON"});
  for (const json& task : tasks) {
    std::cout << task.value("id", int64_t{0}) << "\n";
    if (task.contains("warning") && task["warning"].is_string()) {
      std::cerr << "gpuq: warning: task " << task.value("id", int64_t{0}) << ": "
                << task["warning"].get<std::string>() << "\n";
    }
  }
  std::cerr << "gpuq: imported " << tasks.size() << " tasks from " << file << "\n";
  return kExitOk;
}

}  // namespace gpuq::cli
