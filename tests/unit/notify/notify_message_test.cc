#include "master/notify/notify_message.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "master/notify/curl_sender.h"

namespace gpuq {
namespace {

NotifyFacts FailedRun() {
  NotifyFacts f;
  f.event = "run_ended";
  f.at = 1'700'000'000'000;
  f.task_id = 12;
  f.task_name = "train";
  f.user = "alice";
  f.command = "python train.py";
  f.run_id = 31;
  f.attempt = 2;
  f.status = "failed";
  f.exit_code = 3;
  f.end_reason = "exit code 3";
  f.duration_ms = 3'723'000;
  f.node = "gpu1";
  f.gpus = {0, 2};
  f.log_tail = "epoch 9\nTraceback: boom";
  f.link = "https://gpuq.lab/admin/tasks/12";
  return f;
}

TEST(LastLinesTest, KeepsTheLastNLines) {
  struct Case {
    const char* text;
    int n;
    const char* want;
  } cases[] = {
      {"", 30, ""},           {"a\nb\nc\n", 2, "b\nc"},
      {"a\nb\nc", 2, "b\nc"}, {"a\nb\nc\n", 5, "a\nb\nc"},
      {"only", 1, "only"},    {"a\n\n\nb\n", 2, "\nb"},
      {"x\n", 0, ""},
  };
  for (const Case& c : cases) EXPECT_EQ(LastLines(c.text, c.n), c.want) << c.text;
}

TEST(FormatRunDurationTest, MillisecondsUnderASecondElseUnits) {
  EXPECT_EQ(FormatRunDuration(350), "350 ms");
  EXPECT_EQ(FormatRunDuration(45'000), "45s");
  EXPECT_EQ(FormatRunDuration(3'723'000), "1h2m3s");
  EXPECT_EQ(FormatRunDuration(-5), "0 ms");
}

TEST(RenderEmailTest, SaysTaskUserNodeGpusExitCodeDurationOutputAndLink) {
  EmailMessage m = RenderEmail(FailedRun());
  EXPECT_EQ(m.subject, "[gpuq] task 12 (train) by alice failed with exit code 3 on gpu1 (GPU 0,2)");
  for (const char* line : {"Task: task 12 (train)\n", "User: alice\n", "Run: 31 (attempt 2)\n",
                           "Exit code: 3\n", "Duration: 1h2m3s\n", "Node: gpu1\n", "GPUs: 0,2\n",
                           "Link: https://gpuq.lab/admin/tasks/12\n",
                           "Last lines of output:\nepoch 9\nTraceback: boom\n"}) {
    EXPECT_NE(m.body.find(line), std::string::npos) << line << " in\n" << m.body;
  }
}

TEST(RenderEmailTest, SummariesOfEachEvent) {
  NotifyFacts f = FailedRun();
  f.retrying = true;
  EXPECT_NE(Summary(f).find("it will be retried"), std::string::npos);
  f.event = "task_failed";
  EXPECT_NE(Summary(f).find("no retries left"), std::string::npos);
  f.event = "run_started";
  EXPECT_EQ(Summary(f), "task 12 (train) by alice started on gpu1 (GPU 0,2)");
  f.event = "gpu_idle";
  f.gpus = {2};
  f.idle_minutes = 30;
  EXPECT_EQ(Summary(f),
            "GPU 2 on gpu1 held by task 12 (train) of alice has been idle for 30 minutes");
  NotifyFacts node;
  node.event = "node_down";
  node.node = "gpu3";
  node.node_error = "connection refused";
  EXPECT_EQ(Summary(node), "node gpu3 is unavailable: connection refused");
  node.event = "node_up";
  EXPECT_EQ(Summary(node), "node gpu3 is available again");
  EXPECT_EQ(RenderEmail(node).body.find("GPUs:"), std::string::npos);  // no task, no GPUs
}

TEST(RenderWebhookTest, EachFormatHasItsShape) {
  using nlohmann::json;
  NotifyFacts f = FailedRun();
  json slack = json::parse(RenderWebhook(f, WebhookFormat::kSlack));
  ASSERT_TRUE(slack.contains("text"));
  EXPECT_NE(slack["text"].get<std::string>().find("Traceback: boom"), std::string::npos);

  json ding = json::parse(RenderWebhook(f, WebhookFormat::kDingTalk));
  EXPECT_EQ(ding["msgtype"], "text");
  EXPECT_NE(ding["text"]["content"].get<std::string>().find("Exit code: 3"), std::string::npos);

  json feishu = json::parse(RenderWebhook(f, WebhookFormat::kFeishu));
  EXPECT_EQ(feishu["msg_type"], "text");
  EXPECT_NE(feishu["content"]["text"].get<std::string>().find("gpu1"), std::string::npos);

  json generic = json::parse(RenderWebhook(f, WebhookFormat::kGeneric));
  EXPECT_EQ(generic["event"], "run_ended");
  EXPECT_EQ(generic["task"]["id"], 12);
  EXPECT_EQ(generic["task"]["user"], "alice");
  EXPECT_EQ(generic["run"]["exit_code"], 3);
  EXPECT_EQ(generic["run"]["duration_ms"], 3'723'000);
  EXPECT_EQ(generic["gpus"], json::array({0, 2}));
  EXPECT_EQ(generic["link"], "https://gpuq.lab/admin/tasks/12");
  EXPECT_EQ(generic["log_tail"], "epoch 9\nTraceback: boom");
}

TEST(RenderWebhookTest, InvalidUtf8InOutputStillMakesValidJson) {
  NotifyFacts f = FailedRun();
  f.log_tail = "bad \xff\xfe bytes";
  for (WebhookFormat format : {WebhookFormat::kGeneric, WebhookFormat::kSlack,
                               WebhookFormat::kDingTalk, WebhookFormat::kFeishu}) {
    EXPECT_FALSE(nlohmann::json::parse(RenderWebhook(f, format), nullptr, false).is_discarded());
  }
}

TEST(WebhookFormatTest, NamesRoundTripAndLarkIsFeishu) {
  for (const char* name : {"generic", "slack", "dingtalk", "feishu"}) {
    EXPECT_STREQ(WebhookFormatName(*ParseWebhookFormat(name)), name);
  }
  EXPECT_EQ(ParseWebhookFormat("lark"), WebhookFormat::kFeishu);
  EXPECT_FALSE(ParseWebhookFormat("teams"));
}

TEST(FormatMailMessageTest, HeadersThenCrlfBodyAndEncodedSubject) {
  SmtpConfig smtp;
  smtp.from = "gpuq@lab.org";
  std::string text = FormatMailMessage(
      smtp, {"alice@lab.org", "[gpuq] 训练 done", "line 1\nline 2", "<gpuq-notification-7@gpuq>"},
      1'700'000'000'000);
  EXPECT_NE(text.find("From: gpuq@lab.org\r\n"), std::string::npos);
  EXPECT_NE(text.find("To: alice@lab.org\r\n"), std::string::npos);
  EXPECT_NE(text.find("Subject: =?UTF-8?B?"), std::string::npos);
  EXPECT_NE(text.find("Message-ID: <gpuq-notification-7@gpuq>\r\n"), std::string::npos);
  EXPECT_NE(text.find("Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\n\r\nline 1\r\nline 2\r\n"), std::string::npos);
}

}  // namespace
}  // namespace gpuq
