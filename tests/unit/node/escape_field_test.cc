// EscapeField must come back byte for byte through the node's `printf '%b'`: the round trips
// below run the real shells the remote side runs under (dash as sh, and bash), on argv, with
// no shell quoting in between.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "master/node/remote_protocol.h"

extern char** environ;

namespace gpuq {
namespace {

// What `SHELL -c 'printf %b "$1"' sh ARG` writes; nullopt if the shell could not run.
std::optional<std::string> PrintfB(const char* shell, const std::string& arg) {
  int out[2];
  if (pipe(out) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> words = {shell, "-c", "printf '%b' \"$1\"", "sh", arg};
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, shell, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof(buf))) > 0;) text.append(buf, n);
  close(out[0]);
  if (rc != 0) return std::nullopt;
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return text;
}

std::string EveryByte() {
  std::string all;
  for (int c = 1; c <= 255; ++c) all += static_cast<char>(c);
  return all;
}

TEST(EscapeFieldTest, EmptyIsADashAndADashIsEscaped) {
  EXPECT_EQ(EscapeField(""), "-");
  EXPECT_EQ(EscapeField("-"), "\\0055");
}

TEST(EscapeFieldTest, PlainWordsStayReadable) {
  EXPECT_EQ(EscapeField("python3"), "python3");
  EXPECT_EQ(EscapeField("/home/a_b/x.py,y:z=1+2@h"), "/home/a_b/x.py,y:z=1+2@h");
  EXPECT_EQ(EscapeField("echo hi"), "echo\\0040hi");
  EXPECT_EQ(EscapeField("a\nb"), "a\\0012b");
  EXPECT_EQ(EscapeField("\\"), "\\0134");
  EXPECT_EQ(EscapeField("%s"), "\\0045s");
  EXPECT_EQ(EscapeField("\xff"), "\\0377");
  EXPECT_EQ(EscapeField(std::string("\0", 1)), "\\0000");
}

// Nothing in the result can split a request line or mean anything to the shell.
TEST(EscapeFieldTest, ResultHoldsOnlyWordCharactersAndBackslashes) {
  std::string escaped = EscapeField(EveryByte() + std::string("\0", 1));
  for (char c : escaped) {
    bool ok = isalnum(static_cast<unsigned char>(c)) ||
              std::string_view("_./,:=+@\\").find(c) != std::string_view::npos;
    EXPECT_TRUE(ok) << "byte " << static_cast<int>(static_cast<unsigned char>(c));
  }
}

TEST(EscapeFieldTest, EveryByteRoundTripsThroughDashAndBash) {
  for (const char* shell : {"sh", "dash", "bash"}) {
    for (const std::string& text :
         {EveryByte(), std::string("\0a\0", 3), std::string("-"), std::string("\\0101\\c%b"),
          std::string("$(touch /tmp/x) `id` *; '\"' ~ \t end\n\n")}) {
      std::optional<std::string> back = PrintfB(shell, EscapeField(text));
      ASSERT_TRUE(back.has_value()) << shell << " did not run";
      EXPECT_EQ(*back, text) << shell;
    }
    for (int c = 0; c <= 255; ++c) {
      std::string one(1, static_cast<char>(c));
      EXPECT_EQ(PrintfB(shell, EscapeField("x" + one + "7")), "x" + one + "7")
          << shell << " byte " << c;
    }
  }
}

}  // namespace
}  // namespace gpuq
