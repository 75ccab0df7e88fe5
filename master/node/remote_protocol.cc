#include "master/node/remote_protocol.h"

#include <charconv>

#include "common/embedded_file.h"
#include "common/gpu_probe_parse.h"
#include "common/shell_quote.h"

namespace gpuq {

extern const EmbeddedFile kRemoteSide[];

namespace {

void ReplaceAll(std::string* text, std::string_view from, std::string_view to) {
  for (size_t pos = text->find(from); pos != std::string::npos;
       pos = text->find(from, pos + to.size())) {
    text->replace(pos, from.size(), to);
  }
}

std::string_view NextLine(std::string_view text, size_t* pos) {
  size_t end = text.find('\n', *pos);
  std::string_view line = text.substr(*pos, end - *pos);
  *pos = end == std::string_view::npos ? text.size() : end + 1;
  return line;
}

bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

// "@gpuq SEQ KIND REST" -> true and the parts; false for any other line.
bool ParseFrameLine(std::string_view line, uint64_t* seq, std::string_view* kind,
                    std::string_view* rest) {
  if (!ConsumePrefix(&line, "@gpuq ")) return false;
  auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), *seq);
  if (ec != std::errc() || ptr == line.data()) return false;
  line.remove_prefix(static_cast<size_t>(ptr - line.data()));
  if (!ConsumePrefix(&line, " ")) return false;
  size_t space = line.find(' ');
  *kind = line.substr(0, space);
  *rest = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  return true;
}

std::string Trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// The tool's own words when it failed, for the node's last_error.
Status ToolFailed(const std::string& tool, const RemoteSection& section) {
  std::string words = Trimmed(section.text);
  if (words.size() > 300) words = words.substr(0, 300) + "...";
  if (section.rc == 127 || words.find("not found") != std::string::npos) {
    return Status::Unavailable(tool + " not found on the node: " + words);
  }
  if (section.rc == 124) return Status::Timeout(tool + " did not answer within 20 s");
  return Status::Unavailable(tool + " failed (exit " + std::to_string(section.rc.value_or(-1)) +
                             "): " + words);
}

}  // namespace

const std::string& RemoteSideScript() {
  static const std::string script = [] {
    std::string s(kRemoteSide[0].contents);
    ReplaceAll(&s, "@QUERY_GPU_FIELDS@", kQueryGpuFields);
    ReplaceAll(&s, "@QUERY_APPS_FIELDS@", kQueryComputeAppsFields);
    return s;
  }();
  return script;
}

std::string RemoteSideCommand() { return "exec sh -c " + ShellQuote(RemoteSideScript()); }

std::string FormatRequest(uint64_t seq, std::string_view verb, std::string_view arg) {
  std::string line = std::to_string(seq);
  line += ' ';
  line += verb;
  if (!arg.empty()) {
    line += ' ';
    line += arg;
  }
  line += '\n';
  return line;
}

std::string EscapeField(std::string_view bytes) {
  if (bytes.empty()) return "-";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 std::string_view("_./,:=+@").find(ch) != std::string_view::npos;
    if (plain) {
      out += ch;
    } else {
      // \0NNN: printf '%b' reads up to three octal digits after the \0, so always three.
      out += "\\0";
      out += static_cast<char>('0' + (c >> 6));
      out += static_cast<char>('0' + ((c >> 3) & 7));
      out += static_cast<char>('0' + (c & 7));
    }
  }
  return out;
}

std::optional<RemoteReply> ReplyReader::Take(uint64_t want_seq) {
  // Find the end line of the wanted reply; everything before it is either that reply or
  // noise (banners, late replies to abandoned requests) and is dropped with it.
  std::string end_marker = "@gpuq " + std::to_string(want_seq) + " end";
  size_t end_pos = std::string::npos;
  for (size_t pos = buffer_.find(end_marker); pos != std::string::npos;
       pos = buffer_.find(end_marker, pos + 1)) {
    bool line_start = pos == 0 || buffer_[pos - 1] == '\n';
    size_t after = pos + end_marker.size();
    if (line_start && after < buffer_.size() && buffer_[after] == '\n') {
      end_pos = after + 1;
      break;
    }
  }
  if (end_pos == std::string::npos) {
    // Keep only the unfinished tail so noise cannot grow the buffer without bound.
    constexpr size_t kMaxBuffered = 16 << 20;
    if (buffer_.size() > kMaxBuffered) buffer_.erase(0, buffer_.size() - kMaxBuffered);
    return std::nullopt;
  }

  std::string_view text(buffer_.data(), end_pos);
  RemoteReply reply;
  reply.seq = want_seq;
  bool inside = false;
  RemoteSection* current = nullptr;
  size_t pos = 0;
  while (pos < text.size()) {
    std::string_view line = NextLine(text, &pos);
    uint64_t seq = 0;
    std::string_view kind, rest;
    if (ParseFrameLine(line, &seq, &kind, &rest) && seq == want_seq) {
      if (kind == "begin") {
        inside = true;
        reply.sections.clear();
        current = nullptr;
      } else if (kind == "section" && inside) {
        current = &reply.sections[std::string(rest)];
        current->text.clear();
      } else if (kind == "rc" && inside) {
        size_t space = rest.find(' ');
        if (space != std::string_view::npos) {
          int rc = 0;
          std::string_view num = rest.substr(space + 1);
          if (std::from_chars(num.data(), num.data() + num.size(), rc).ec == std::errc()) {
            reply.sections[std::string(rest.substr(0, space))].rc = rc;
          }
        }
        current = nullptr;
      }
      continue;
    }
    if (inside && current != nullptr) {
      current->text.append(line);
      current->text += '\n';
    }
  }
  buffer_.erase(0, end_pos);
  return reply;
}

Result<std::vector<GpuStatus>> ParseProbeReply(const RemoteReply& reply) {
  if (auto it = reply.sections.find("error"); it != reply.sections.end()) {
    return Status::Internal("remote side: " + Trimmed(it->second.text));
  }
  if (auto it = reply.sections.find("gpustat"); it != reply.sections.end()) {
    if (it->second.rc != 0) return ToolFailed("gpustat", it->second);
    return ParseGpustatJson(it->second.text);
  }
  auto gpus_it = reply.sections.find("gpus");
  if (gpus_it == reply.sections.end()) {
    return Status::Corruption("probe reply has no GPU section");
  }
  const RemoteSection& gpus_section = gpus_it->second;
  // "No devices were found" exits 6 but is a valid answer: a node without GPUs.
  if (gpus_section.rc != 0 && gpus_section.rc != 6) return ToolFailed("nvidia-smi", gpus_section);
  Result<std::vector<GpuStatus>> gpus = ParseQueryGpuCsv(gpus_section.text);
  if (!gpus.ok()) return gpus;

  auto apps_it = reply.sections.find("apps");
  if (apps_it != reply.sections.end()) {
    if (apps_it->second.rc != 0 && apps_it->second.rc != 6) {
      return ToolFailed("nvidia-smi --query-compute-apps", apps_it->second);
    }
    Result<std::vector<GpuProcess>> apps = ParseComputeAppsCsv(apps_it->second.text);
    if (!apps.ok()) return apps.status();
    AttachProcesses(*apps, &*gpus);
  }
  if (auto users_it = reply.sections.find("users"); users_it != reply.sections.end()) {
    AttachProcessUsers(users_it->second.text, &*gpus);
  }
  return gpus;
}

}  // namespace gpuq
