#include "master/node/node_link.h"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

namespace gpuq {
namespace {

using std::chrono::milliseconds;

constexpr char kGpuRow[] =
    "0, GPU-aaaaaaaa-0000-0000-0000-000000000000, NVIDIA A100-SXM4-80GB, 81920, 0, 0, 30, "
    "00000000:07:00.0\n";

RemoteReply GoodReply() {
  RemoteReply r;
  r.sections["gpus"] = {kGpuRow, 0};
  r.sections["apps"] = {"", 0};
  r.sections["users"] = {"", 0};
  return r;
}

// A connection that answers from a script and records what it was asked (ninja's
// commands_ran_ style). An empty script answers GoodReply().
class ScriptedConnection : public NodeConnection {
 public:
  ScriptedConnection(std::deque<Result<RemoteReply>>* script, std::vector<std::string>* calls)
      : script_(script), calls_(calls) {}
  Result<RemoteReply> Call(std::string_view verb, std::string_view arg, milliseconds) override {
    calls_->push_back(std::string(verb) + " " + std::string(arg));
    if (script_->empty()) return GoodReply();
    Result<RemoteReply> next = script_->front();
    script_->pop_front();
    return next;
  }
  Result<std::vector<std::string>> ReadEvents(milliseconds) override {
    return std::vector<std::string>();
  }

 private:
  std::deque<Result<RemoteReply>>* script_;
  std::vector<std::string>* calls_;
};

class ScriptedTransport : public NodeTransport {
 public:
  struct Outcome {
    Status status;            // OK: connect succeeds
    std::string host_key = "SHA256:key1";
  };
  Result<std::unique_ptr<NodeConnection>> Connect(const ConnectParams& params,
                                                  HostKeySeen* seen) override {
    ++connects;
    last_pinned = params.pinned_host_key_sha256;
    Outcome outcome = outcomes.empty() ? Outcome{} : outcomes.front();
    if (!outcomes.empty()) outcomes.pop_front();
    seen->sha256 = outcome.host_key;
    if (!params.pinned_host_key_sha256.empty() && params.pinned_host_key_sha256 != outcome.host_key) {
      seen->mismatch = true;
      return Status::FailedPrecondition("host key changed");
    }
    if (!outcome.status.ok()) return outcome.status;
    return std::unique_ptr<NodeConnection>(new ScriptedConnection(&replies, &calls));
  }

  std::deque<Outcome> outcomes;
  std::deque<Result<RemoteReply>> replies;
  std::vector<std::string> calls;
  int connects = 0;
  std::string last_pinned;
};

class RecordingListener : public NodeLinkListener {
 public:
  void OnSample(NodeId, const NodeSample& sample, double) override { samples.push_back(sample); }
  void OnUnavailable(NodeId, const Status& why) override { errors.push_back(why.message()); }
  void OnHostKeyFirstSeen(NodeId, const std::string& sha256) override { pinned = sha256; }
  void OnHostKeyChanged(NodeId, const std::string& sha256) override { changed = sha256; }

  std::vector<NodeSample> samples;
  std::vector<std::string> errors;
  std::string pinned, changed;
};

class NodeLinkCoreTest : public ::testing::Test {
 protected:
  NodeLinkConfig Config() {
    NodeLinkConfig c;
    c.id = NodeId(1);
    c.name = "n1";
    c.connect.host = "127.0.0.11";
    c.interval = milliseconds(1000);
    c.backoff_min = milliseconds(500);
    c.backoff_max = milliseconds(4000);
    return c;
  }
  // Runs steps until `until` of fake time has passed, advancing the clock to each wake-up.
  void RunFor(NodeLinkCore* core, milliseconds until) {
    auto end = clock_.NowSteady() + until;
    while (clock_.NowSteady() < end) {
      auto next = core->Step();
      auto now = clock_.NowSteady();
      if (next > end) next = end;
      if (next > now) clock_.Advance(std::chrono::duration_cast<milliseconds>(next - now));
    }
  }

  FakeClock clock_;
  ScriptedTransport transport_;
  RecordingListener listener_;
};

TEST_F(NodeLinkCoreTest, ProbesOncePerIntervalOverOneSession) {
  NodeLinkCore core(Config(), &transport_, &clock_, &listener_);
  RunFor(&core, milliseconds(5000));
  EXPECT_EQ(transport_.connects, 1);
  EXPECT_EQ(listener_.samples.size(), 5u);
  ASSERT_FALSE(transport_.calls.empty());
  EXPECT_EQ(transport_.calls[0], "probe nvidia-smi");
  EXPECT_EQ(listener_.samples[0].gpus.at(0).model, "NVIDIA A100-SXM4-80GB");
}

TEST_F(NodeLinkCoreTest, PinsTheHostKeyOnFirstContact) {
  NodeLinkCore core(Config(), &transport_, &clock_, &listener_);
  core.Step();
  EXPECT_EQ(listener_.pinned, "SHA256:key1");
}

TEST_F(NodeLinkCoreTest, ChangedHostKeyParksTheLinkUntilRestarted) {
  NodeLinkConfig config = Config();
  config.connect.pinned_host_key_sha256 = "SHA256:key1";
  transport_.outcomes.push_back({Status::Ok(), "SHA256:evil"});
  NodeLinkCore core(config, &transport_, &clock_, &listener_);
  RunFor(&core, milliseconds(60'000));
  EXPECT_EQ(transport_.connects, 1);  // no retries against a changed key
  EXPECT_EQ(listener_.changed, "SHA256:evil");
  EXPECT_TRUE(listener_.samples.empty());
  ASSERT_FALSE(listener_.errors.empty());
  EXPECT_EQ(listener_.errors.back(), "host key changed");
}

TEST_F(NodeLinkCoreTest, ReconnectsWithExponentialBackoffThenResets) {
  for (int i = 0; i < 4; ++i) {
    transport_.outcomes.push_back({Status::Unavailable("connection refused"), "SHA256:key1"});
  }
  NodeLinkCore core(Config(), &transport_, &clock_, &listener_);
  std::vector<milliseconds> waits;
  for (int i = 0; i < 4; ++i) {
    auto now = clock_.NowSteady();
    auto next = core.Step();
    waits.push_back(std::chrono::duration_cast<milliseconds>(next - now));
    clock_.Advance(waits.back());
  }
  EXPECT_EQ(waits, (std::vector<milliseconds>{milliseconds(500), milliseconds(1000),
                                              milliseconds(2000), milliseconds(4000)}));
  EXPECT_EQ(listener_.errors.size(), 4u);
  EXPECT_EQ(listener_.errors[0], "connection refused");
  core.Step();  // the fifth try connects and probes
  EXPECT_TRUE(core.connected());
  EXPECT_EQ(listener_.samples.size(), 1u);
  EXPECT_EQ(core.current_backoff(), milliseconds(500));
}

TEST_F(NodeLinkCoreTest, ProbeTimeoutDropsTheSessionAndReconnects) {
  transport_.replies.push_back(Status::Timeout("no answer from the node within 5000 ms"));
  NodeLinkCore core(Config(), &transport_, &clock_, &listener_);
  core.Step();
  EXPECT_FALSE(core.connected());
  ASSERT_EQ(listener_.errors.size(), 1u);
  EXPECT_EQ(listener_.errors[0], "probe: no answer from the node within 5000 ms");
  RunFor(&core, milliseconds(1000));
  EXPECT_EQ(transport_.connects, 2);
  EXPECT_FALSE(listener_.samples.empty());
}

TEST_F(NodeLinkCoreTest, ToolFailureKeepsTheSession) {
  RemoteReply broken;
  broken.sections["gpus"] = {"NVIDIA-SMI has failed because it couldn't communicate with the "
                             "NVIDIA driver.\n", 9};
  transport_.replies.push_back(broken);
  NodeLinkCore core(Config(), &transport_, &clock_, &listener_);
  RunFor(&core, milliseconds(2000));
  EXPECT_EQ(transport_.connects, 1);
  ASSERT_EQ(listener_.errors.size(), 1u);
  EXPECT_NE(listener_.errors[0].find("couldn't communicate"), std::string::npos);
  EXPECT_EQ(listener_.samples.size(), 1u);  // the next probe worked
}

TEST_F(NodeLinkCoreTest, ConfigErrorIsReportedWithoutConnecting) {
  NodeLinkConfig config = Config();
  config.config_error = "no SSH credential for the probe account 'admin'";
  NodeLinkCore core(config, &transport_, &clock_, &listener_);
  core.Step();
  EXPECT_EQ(transport_.connects, 0);
  ASSERT_EQ(listener_.errors.size(), 1u);
  EXPECT_EQ(listener_.errors[0], config.config_error);
}

TEST_F(NodeLinkCoreTest, ProbeNowSkipsTheRestOfTheInterval) {
  NodeLinkCore core(Config(), &transport_, &clock_, &listener_);
  core.Step();
  clock_.Advance(milliseconds(300));
  auto next = core.Step();  // nothing due: waits for the interval
  EXPECT_EQ(listener_.samples.size(), 1u);
  EXPECT_EQ(next - clock_.NowSteady(), milliseconds(700));
  core.ProbeNow();
  core.Step();
  EXPECT_EQ(listener_.samples.size(), 2u);
}

TEST_F(NodeLinkCoreTest, ProbeNowRightAfterAProbeWaitsForTheMinimumGap) {
  NodeLinkCore core(Config(), &transport_, &clock_, &listener_);
  core.Step();  // connects and probes
  clock_.Advance(milliseconds(30));
  core.ProbeNow();  // runs ending one after another on a busy node
  auto next = core.Step();
  EXPECT_EQ(listener_.samples.size(), 1u);
  EXPECT_EQ(next - clock_.NowSteady(), NodeLinkCore::kMinProbeGap - milliseconds(30));
  core.ProbeNow();  // asking again changes nothing
  clock_.Advance(NodeLinkCore::kMinProbeGap - milliseconds(30));
  core.Step();
  EXPECT_EQ(listener_.samples.size(), 2u);
}

TEST_F(NodeLinkCoreTest, GpustatProbeIsAskedForByName) {
  NodeLinkConfig config = Config();
  config.probe = "gpustat";
  NodeLinkCore core(config, &transport_, &clock_, &listener_);
  core.Step();
  ASSERT_FALSE(transport_.calls.empty());
  EXPECT_EQ(transport_.calls[0], "probe gpustat");
}

}  // namespace
}  // namespace gpuq
