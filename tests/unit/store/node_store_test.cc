#include "master/store/node_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

using store_test::StoreTest;
using ::testing::ElementsAre;
using ::testing::Field;

NodeSpec MakeNode(std::string name) {
  NodeSpec spec;
  spec.name = std::move(name);
  spec.host = "10.0.0.1";
  return spec;
}

class NodeStoreTest : public StoreTest {
 protected:
  NodeStore nodes_{nullptr, nullptr};
  void SetUp() override {
    StoreTest::SetUp();
    nodes_ = NodeStore(db_.get(), &clock_);
  }
};

TEST_F(NodeStoreTest, CreateThenGet) {
  NodeSpec spec = MakeNode("gpu1");
  spec.port = 2222;
  spec.schedulable = false;
  Result<NodeId> id = nodes_.Create(spec);
  ASSERT_TRUE(id.ok()) << id.status().ToString();

  Result<NodeRow> row = nodes_.Get(*id);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->id, *id);
  EXPECT_EQ(row->name, "gpu1");
  EXPECT_EQ(row->host, "10.0.0.1");
  EXPECT_EQ(row->port, 2222);
  EXPECT_EQ(row->probe, "nvidia-smi");
  EXPECT_FALSE(row->schedulable);
  EXPECT_EQ(row->host_key_sha256, std::nullopt);
  EXPECT_EQ(row->pending_host_key_sha256, std::nullopt);
  EXPECT_EQ(row->created_at, clock_.NowUnixMs());
  EXPECT_EQ(row->updated_at, clock_.NowUnixMs());

  Result<NodeRow> by_name = nodes_.GetByName("gpu1");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->id, *id);
}

TEST_F(NodeStoreTest, DuplicateNameIsAlreadyExistsOnName) {
  ASSERT_TRUE(nodes_.Create(MakeNode("gpu1")).ok());
  Result<NodeId> again = nodes_.Create(MakeNode("gpu1"));
  EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.status().field(), "name");
  EXPECT_EQ(again.status().message(), "a node named \"gpu1\" already exists");
}

TEST_F(NodeStoreTest, PortOutsideRangeIsRefusedBySchema) {
  NodeSpec spec = MakeNode("gpu1");
  spec.port = 70000;
  EXPECT_EQ(nodes_.Create(spec).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(NodeStoreTest, MissingNodeIsNotFoundNamingIt) {
  EXPECT_EQ(nodes_.Get(NodeId(7)).status().message(), "node 7 not found");
  EXPECT_EQ(nodes_.Get(NodeId(7)).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(nodes_.GetByName("gpu9").status().message(), "node \"gpu9\" not found");
  for (Status s : {nodes_.Update(NodeId(7), NodeUpdate{}), nodes_.Delete(NodeId(7)),
                   nodes_.PinHostKey(NodeId(7), "k"), nodes_.SetPendingHostKey(NodeId(7), "k"),
                   nodes_.AcceptPendingHostKey(NodeId(7))}) {
    EXPECT_EQ(s.code(), ErrorCode::kNotFound) << s.ToString();
    EXPECT_EQ(s.message(), "node 7 not found");
  }
}

TEST_F(NodeStoreTest, ListIsOrderedById) {
  ASSERT_TRUE(nodes_.Create(MakeNode("b")).ok());
  ASSERT_TRUE(nodes_.Create(MakeNode("a")).ok());
  EXPECT_THAT(nodes_.List().value(),
              ElementsAre(Field(&NodeRow::name, "b"), Field(&NodeRow::name, "a")));
}

TEST_F(NodeStoreTest, UpdateChangesOnlyGivenFields) {
  NodeId id = nodes_.Create(MakeNode("gpu1")).value();
  clock_.Advance(std::chrono::seconds(1));
  NodeUpdate update;
  update.host = "gpu1.lab";
  update.schedulable = false;
  ASSERT_TRUE(nodes_.Update(id, update).ok());
  NodeRow row = nodes_.Get(id).value();
  EXPECT_EQ(row.name, "gpu1");
  EXPECT_EQ(row.host, "gpu1.lab");
  EXPECT_EQ(row.port, 22);
  EXPECT_EQ(row.probe, "nvidia-smi");
  EXPECT_FALSE(row.schedulable);
  EXPECT_EQ(row.updated_at, row.created_at + 1000);

  update = NodeUpdate{};
  update.name = "gpu-one";
  update.port = 2200;
  update.probe = "gpustat";
  update.schedulable = true;
  ASSERT_TRUE(nodes_.Update(id, update).ok());
  row = nodes_.Get(id).value();
  EXPECT_EQ(row.name, "gpu-one");
  EXPECT_EQ(row.host, "gpu1.lab");
  EXPECT_EQ(row.port, 2200);
  EXPECT_EQ(row.probe, "gpustat");
  EXPECT_TRUE(row.schedulable);
}

TEST_F(NodeStoreTest, RenameOntoTakenNameIsAlreadyExists) {
  ASSERT_TRUE(nodes_.Create(MakeNode("gpu1")).ok());
  NodeId id = nodes_.Create(MakeNode("gpu2")).value();
  NodeUpdate update;
  update.name = "gpu1";
  Status s = nodes_.Update(id, update);
  EXPECT_EQ(s.code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(s.field(), "name");
  EXPECT_EQ(nodes_.Get(id).value().name, "gpu2");
}

TEST_F(NodeStoreTest, DeleteRemovesTheNode) {
  NodeId id = nodes_.Create(MakeNode("gpu1")).value();
  ASSERT_TRUE(nodes_.Delete(id).ok());
  EXPECT_EQ(nodes_.Get(id).status().code(), ErrorCode::kNotFound);
  // Ids are not reused after a delete.
  EXPECT_GT(nodes_.Create(MakeNode("gpu1")).value().value, id.value);
}

TEST_F(NodeStoreTest, HostKeyPinPendingAcceptFlow) {
  NodeId id = nodes_.Create(MakeNode("gpu1")).value();

  // First contact: pin.
  ASSERT_TRUE(nodes_.PinHostKey(id, "SHA256:first").ok());
  NodeRow row = nodes_.Get(id).value();
  EXPECT_EQ(row.host_key_sha256, "SHA256:first");
  EXPECT_EQ(row.pending_host_key_sha256, std::nullopt);

  // Nothing pending yet: accepting is a precondition failure, and changes nothing.
  Status none = nodes_.AcceptPendingHostKey(id);
  EXPECT_EQ(none.code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(none.message(),
            "node " + std::to_string(id.value) + " has no pending host key to accept");
  EXPECT_EQ(nodes_.Get(id).value().host_key_sha256, "SHA256:first");

  // The node shows a different key: it waits, the pin stays.
  ASSERT_TRUE(nodes_.SetPendingHostKey(id, "SHA256:second").ok());
  row = nodes_.Get(id).value();
  EXPECT_EQ(row.host_key_sha256, "SHA256:first");
  EXPECT_EQ(row.pending_host_key_sha256, "SHA256:second");

  // An admin accepts it.
  ASSERT_TRUE(nodes_.AcceptPendingHostKey(id).ok());
  row = nodes_.Get(id).value();
  EXPECT_EQ(row.host_key_sha256, "SHA256:second");
  EXPECT_EQ(row.pending_host_key_sha256, std::nullopt);
  EXPECT_EQ(nodes_.AcceptPendingHostKey(id).code(), ErrorCode::kFailedPrecondition);

  // A pending key can also be cleared without accepting it.
  ASSERT_TRUE(nodes_.SetPendingHostKey(id, "SHA256:third").ok());
  ASSERT_TRUE(nodes_.SetPendingHostKey(id, std::nullopt).ok());
  row = nodes_.Get(id).value();
  EXPECT_EQ(row.host_key_sha256, "SHA256:second");
  EXPECT_EQ(row.pending_host_key_sha256, std::nullopt);
}

TEST_F(NodeStoreTest, PinningClearsAPendingKey) {
  NodeId id = nodes_.Create(MakeNode("gpu1")).value();
  ASSERT_TRUE(nodes_.SetPendingHostKey(id, "SHA256:x").ok());
  ASSERT_TRUE(nodes_.PinHostKey(id, "SHA256:y").ok());
  NodeRow row = nodes_.Get(id).value();
  EXPECT_EQ(row.host_key_sha256, "SHA256:y");
  EXPECT_EQ(row.pending_host_key_sha256, std::nullopt);
}

TEST_F(NodeStoreTest, UpdatingHostKeepsThePinnedKey) {
  NodeId id = nodes_.Create(MakeNode("gpu1")).value();
  ASSERT_TRUE(nodes_.PinHostKey(id, "SHA256:first").ok());
  NodeUpdate update;
  update.host = "elsewhere";
  ASSERT_TRUE(nodes_.Update(id, update).ok());
  EXPECT_EQ(nodes_.Get(id).value().host_key_sha256, "SHA256:first");
}

}  // namespace
}  // namespace gpuq
