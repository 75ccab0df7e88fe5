// ExecLink sends what is queued as one pipelined batch (NodeConnection::CallAll) and hands each
// reply to its own request, in order; a failure answers the failed request and every later one
// with the error.
#include "master/node/exec_link.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <vector>

namespace gpuq {
namespace {

using std::chrono::milliseconds;

struct Shared {
  std::mutex mu;
  std::condition_variable cv;
  bool may_connect = false;
  std::vector<std::vector<std::string>> batches;  // "verb arg" of each CallAll
  int fail_at = -1;                               // index in a batch that breaks the session
};

class BatchConnection : public NodeConnection {
 public:
  explicit BatchConnection(Shared* shared) : shared_(shared) {}
  Result<RemoteReply> Call(std::string_view, std::string_view, milliseconds) override {
    return Status::Internal("the link must send through CallAll");
  }
  Status CallAll(std::span<const RemoteRequest> requests,
                 const std::function<void(size_t, RemoteReply)>& on_reply) override {
    std::vector<std::string> batch;
    for (const RemoteRequest& r : requests)
      batch.push_back(std::string(r.verb) + " " + std::string(r.arg));
    int fail_at;
    {
      std::lock_guard lock(shared_->mu);
      shared_->batches.push_back(batch);
      fail_at = shared_->fail_at;
    }
    for (size_t i = 0; i < requests.size(); ++i) {
      if (static_cast<int>(i) == fail_at) return Status::Unavailable("session broke");
      RemoteReply reply;
      reply.sections["echo"] = {std::string(requests[i].arg), 0};
      on_reply(i, std::move(reply));
    }
    return Status::Ok();
  }
  Result<std::vector<std::string>> ReadEvents(milliseconds) override {
    return std::vector<std::string>();
  }

 private:
  Shared* shared_;
};

// Connects only once the test allows it, so that requests queue up first.
class GatedTransport : public NodeTransport {
 public:
  explicit GatedTransport(Shared* shared) : shared_(shared) {}
  Result<std::unique_ptr<NodeConnection>> Connect(const ConnectParams&, HostKeySeen*) override {
    std::unique_lock lock(shared_->mu);
    shared_->cv.wait(lock, [&] { return shared_->may_connect; });
    return std::unique_ptr<NodeConnection>(new BatchConnection(shared_));
  }

 private:
  Shared* shared_;
};

class QuietListener : public ExecLinkListener {
 public:
  void OnExecConnected(NodeId, const std::string&) override {}
  void OnExecDown(NodeId, const std::string&, const Status&) override {}
  void OnRunEvent(NodeId, const std::string&, const std::string&) override {}
};

struct Answers {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> got;  // "arg=echo" or "arg=!error"
  void Add(const std::string& s) {
    std::lock_guard lock(mu);
    got.push_back(s);
    cv.notify_all();
  }
  bool WaitFor(size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(5), [&] { return got.size() >= n; });
  }
};

ExecLink::Done Record(Answers* answers, const std::string& arg) {
  return [answers, arg](Result<RemoteReply> reply) {
    answers->Add(reply.ok() ? arg + "=" + reply->sections["echo"].text
                            : arg + "=!" + reply.status().message());
  };
}

void QueueThenConnect(Shared* shared, Answers* answers, int requests) {
  GatedTransport transport(shared);
  QuietListener listener;
  ExecLink link(NodeId(1), ConnectParams{}, &transport, &listener);
  for (int i = 0; i < requests; ++i) {
    std::string arg = "run" + std::to_string(i);
    link.Submit("launch", arg, milliseconds(1000), Record(answers, arg));
  }
  {
    std::lock_guard lock(shared->mu);
    shared->may_connect = true;
  }
  shared->cv.notify_all();
  ASSERT_TRUE(answers->WaitFor(static_cast<size_t>(requests)));
}

TEST(ExecLinkTest, QueuedRequestsGoOutAsOneBatchAndAreAnsweredInOrder) {
  Shared shared;
  Answers answers;
  QueueThenConnect(&shared, &answers, 3);
  ASSERT_EQ(shared.batches.size(), 1u);
  EXPECT_EQ(shared.batches[0],
            (std::vector<std::string>{"launch run0", "launch run1", "launch run2"}));
  EXPECT_EQ(answers.got, (std::vector<std::string>{"run0=run0", "run1=run1", "run2=run2"}));
}

TEST(ExecLinkTest, ABrokenBatchAnswersTheRestWithTheError) {
  Shared shared;
  shared.fail_at = 1;
  Answers answers;
  QueueThenConnect(&shared, &answers, 3);
  EXPECT_EQ(answers.got,
            (std::vector<std::string>{"run0=run0", "run1=!session broke", "run2=!session broke"}));
}

TEST(ExecLinkTest, ABatchIsBoundedSoItStaysFarBelowTheChannelWindow) {
  Shared shared;
  Answers answers;
  QueueThenConnect(&shared, &answers, 70);
  ASSERT_GE(shared.batches.size(), 3u);
  size_t total = 0;
  for (const auto& batch : shared.batches) {
    EXPECT_LE(batch.size(), 32u);
    total += batch.size();
  }
  EXPECT_EQ(total, 70u);
  EXPECT_EQ(answers.got.front(), "run0=run0");
  EXPECT_EQ(answers.got.back(), "run69=run69");
}

}  // namespace
}  // namespace gpuq
