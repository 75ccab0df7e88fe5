#include "master/node/remote_protocol.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

TEST(RemoteProtocolTest, FormatsRequestLines) {
  EXPECT_EQ(FormatRequest(7, "probe", "nvidia-smi"), "7 probe nvidia-smi\n");
  EXPECT_EQ(FormatRequest(8, "ping", ""), "8 ping\n");
}

TEST(RemoteProtocolTest, ScriptHasTheQueryFieldsFilledIn) {
  const std::string& script = RemoteSideScript();
  EXPECT_EQ(script.find("@QUERY_"), std::string::npos);
  EXPECT_NE(script.find("--query-gpu=index,uuid,name,memory.total"), std::string::npos);
  EXPECT_EQ(RemoteSideCommand().rfind("exec sh -c '", 0), 0u);
}

TEST(ReplyReaderTest, WaitsForTheEndLine) {
  ReplyReader reader;
  reader.Append("@gpuq 1 begin\n@gpuq 1 section gpus\n0, GPU-a");
  EXPECT_FALSE(reader.Take(1).has_value());
  reader.Append(", x\n@gpuq 1 rc gpus 0\n@gpuq 1 end\n");
  auto reply = reader.Take(1);
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->sections.count("gpus"), 1u);
  EXPECT_EQ(reply->sections["gpus"].text, "0, GPU-a, x\n");
  EXPECT_EQ(reply->sections["gpus"].rc, 0);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(ReplyReaderTest, DropsBannersAndLateRepliesToAbandonedRequests) {
  ReplyReader reader;
  reader.Append("Welcome to node1\n@gpuq 3 begin\n@gpuq 3 section gpus\nold\n@gpuq 3 end\n");
  reader.Append("@gpuq 4 begin\n@gpuq 4 section apps\n\n@gpuq 4 rc apps 0\n@gpuq 4 end\n");
  auto reply = reader.Take(4);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->sections.count("gpus"), 0u);
  EXPECT_EQ(reply->sections["apps"].text, "\n");
}

TEST(ReplyReaderTest, PayloadThatMentionsTheMarkerMidLineIsData) {
  ReplyReader reader;
  reader.Append("@gpuq 5 begin\n@gpuq 5 section gpus\nx @gpuq 5 end\n@gpuq 5 end\n");
  auto reply = reader.Take(5);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->sections["gpus"].text, "x @gpuq 5 end\n");
}

RemoteReply Reply(std::map<std::string, RemoteSection> sections) {
  RemoteReply r;
  r.sections = std::move(sections);
  return r;
}

TEST(ParseProbeReplyTest, JoinsGpusProcessesAndUsers) {
  auto gpus = ParseProbeReply(Reply({
      {"gpus",
       {"0, GPU-aaaaaaaa-0000-0000-0000-000000000000, NVIDIA A100-SXM4-80GB, 81920, 30000, 50, "
        "40, 00000000:07:00.0\n",
        0}},
      {"apps", {"GPU-aaaaaaaa-0000-0000-0000-000000000000, 4121, 30000, python\n", 0}},
      {"users", {" 4121 alice\n", 0}},
  }));
  ASSERT_TRUE(gpus.ok()) << gpus.status().ToString();
  ASSERT_EQ(gpus->size(), 1u);
  ASSERT_EQ((*gpus)[0].processes.size(), 1u);
  EXPECT_EQ((*gpus)[0].processes[0].pid, 4121);
  EXPECT_EQ((*gpus)[0].processes[0].user, "alice");
}

TEST(ParseProbeReplyTest, MissingToolSaysSo) {
  auto gpus = ParseProbeReply(Reply({{"gpus", {"sh: 1: nvidia-smi: not found\n", 127}}}));
  ASSERT_FALSE(gpus.ok());
  EXPECT_NE(gpus.status().message().find("nvidia-smi not found on the node"), std::string::npos)
      << gpus.status().message();
}

TEST(ParseProbeReplyTest, DriverFailureCarriesTheToolsWords) {
  auto gpus = ParseProbeReply(Reply({{"gpus",
                                      {"NVIDIA-SMI has failed because it couldn't communicate "
                                       "with the NVIDIA driver. Make sure that the latest NVIDIA "
                                       "driver is installed and running.\n",
                                       9}}}));
  ASSERT_FALSE(gpus.ok());
  EXPECT_NE(gpus.status().message().find("couldn't communicate with the NVIDIA driver"),
            std::string::npos);
}

TEST(ParseProbeReplyTest, NoDevicesIsANodeWithoutGpus) {
  auto gpus = ParseProbeReply(Reply({{"gpus", {"No devices were found\n", 6}},
                                     {"apps", {"No devices were found\n", 6}}}));
  ASSERT_TRUE(gpus.ok()) << gpus.status().ToString();
  EXPECT_TRUE(gpus->empty());
}

}  // namespace
}  // namespace gpuq
