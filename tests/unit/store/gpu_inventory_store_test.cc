#include "master/store/gpu_inventory_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "master/store/node_store.h"
#include "tests/unit/store/store_test_util.h"

namespace gpuq {
namespace {

using store_test::QueryInt;
using store_test::StoreTest;
using ::testing::ElementsAre;
using ::testing::Field;

GpuStatus MakeGpu(int index, std::string model = "NVIDIA A100-SXM4-80GB") {
  GpuStatus gpu;
  gpu.index = index;
  gpu.uuid = "GPU-" + std::to_string(index);
  gpu.model = std::move(model);
  gpu.mem_total_mib = 81920;
  gpu.mem_used_mib = 100;  // live data: not stored
  return gpu;
}

class GpuInventoryStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    NodeSpec spec;
    spec.name = "gpu1";
    spec.host = "h";
    node_ = NodeStore(db_.get(), &clock_).Create(spec).value();
  }
  GpuInventoryStore Inventory() { return GpuInventoryStore(db_.get(), &clock_); }

  NodeId node_;
};

TEST_F(GpuInventoryStoreTest, ReplaceThenList) {
  GpuStatus no_mem = MakeGpu(1, "Tesla T4");
  no_mem.mem_total_mib.reset();
  ASSERT_TRUE(Inventory().Replace(node_, {no_mem, MakeGpu(0)}).ok());
  std::vector<GpuRow> gpus = Inventory().List(node_).value();
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_EQ(gpus[0].node_id, node_);
  EXPECT_EQ(gpus[0].index, 0);
  EXPECT_EQ(gpus[0].uuid, "GPU-0");
  EXPECT_EQ(gpus[0].model, "NVIDIA A100-SXM4-80GB");
  EXPECT_EQ(gpus[0].mem_total_mib, 81920);
  EXPECT_EQ(gpus[0].last_seen_at, clock_.NowUnixMs());
  EXPECT_EQ(gpus[1].index, 1);
  EXPECT_EQ(gpus[1].model, "Tesla T4");
  EXPECT_EQ(gpus[1].mem_total_mib, std::nullopt);
}

TEST_F(GpuInventoryStoreTest, ReplaceDropsGpusNoLongerSeen) {
  ASSERT_TRUE(Inventory().Replace(node_, {MakeGpu(0), MakeGpu(1), MakeGpu(2)}).ok());
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(Inventory().Replace(node_, {MakeGpu(1, "changed")}).ok());
  std::vector<GpuRow> gpus = Inventory().List(node_).value();
  ASSERT_EQ(gpus.size(), 1u);
  EXPECT_EQ(gpus[0].index, 1);
  EXPECT_EQ(gpus[0].model, "changed");
  EXPECT_EQ(gpus[0].last_seen_at, clock_.NowUnixMs());

  ASSERT_TRUE(Inventory().Replace(node_, {}).ok());
  EXPECT_TRUE(Inventory().List(node_).value().empty());
}

TEST_F(GpuInventoryStoreTest, ReplaceLeavesOtherNodesAlone) {
  NodeSpec spec;
  spec.name = "gpu2";
  spec.host = "h";
  NodeId other = NodeStore(db_.get(), &clock_).Create(spec).value();
  ASSERT_TRUE(Inventory().Replace(other, {MakeGpu(0)}).ok());
  ASSERT_TRUE(Inventory().Replace(node_, {MakeGpu(0), MakeGpu(1)}).ok());
  ASSERT_TRUE(Inventory().Replace(node_, {}).ok());
  EXPECT_EQ(Inventory().List(other).value().size(), 1u);
}

TEST_F(GpuInventoryStoreTest, DuplicateIndexIsRefusedAndNothingChanges) {
  ASSERT_TRUE(Inventory().Replace(node_, {MakeGpu(0)}).ok());
  Status s = Inventory().Replace(node_, {MakeGpu(3), MakeGpu(3)});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "index");
  EXPECT_THAT(Inventory().List(node_).value(), ElementsAre(Field(&GpuRow::index, 0)));
  EXPECT_EQ(Inventory().Replace(node_, {MakeGpu(-1)}).code(), ErrorCode::kInvalidArgument);
}

TEST_F(GpuInventoryStoreTest, MissingNodeIsNotFound) {
  Status s = Inventory().Replace(NodeId(99), {MakeGpu(0)});
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.message(), "node 99 not found");
  EXPECT_TRUE(Inventory().List(NodeId(99)).value().empty());
}

TEST_F(GpuInventoryStoreTest, DeletingTheNodeDeletesItsGpus) {
  ASSERT_TRUE(Inventory().Replace(node_, {MakeGpu(0), MakeGpu(1)}).ok());
  ASSERT_TRUE(NodeStore(db_.get(), &clock_).Delete(node_).ok());
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM gpus"), 0);
}

}  // namespace
}  // namespace gpuq
