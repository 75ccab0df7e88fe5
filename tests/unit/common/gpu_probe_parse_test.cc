#include "common/gpu_probe_parse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

namespace gpuq {
namespace {

using ::testing::HasSubstr;

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(GPUQ_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  in.seekg(0, std::ios::end);
  std::string text(static_cast<size_t>(std::max<std::streamoff>(in.tellg(), 0)), '\0');
  in.seekg(0, std::ios::beg);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  return text;
}

// Every byte of an error message is printable ASCII: it goes to logs, the panel and JSON.
bool IsPrintable(const std::string& s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// ---- --query-gpu: one row per fixture ----

struct FixtureCase {
  const char* file;
  ErrorCode code;
  size_t count;             // when kOk
  const char* message_has;  // when an error; "" for no check
};

std::ostream& operator<<(std::ostream& os, const FixtureCase& c) { return os << c.file; }

class QueryGpuFixtureTest : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(QueryGpuFixtureTest, ParsesAsExpected) {
  const FixtureCase& c = GetParam();
  Result<std::vector<GpuStatus>> r = ParseQueryGpuCsv(ReadFixture(c.file));
  ASSERT_EQ(r.status().code(), c.code) << r.status().ToString();
  if (r.ok()) {
    EXPECT_EQ(r->size(), c.count);
  } else {
    EXPECT_THAT(r.status().message(), HasSubstr(c.message_has));
    EXPECT_TRUE(IsPrintable(r.status().message())) << r.status().message();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, QueryGpuFixtureTest,
    ::testing::Values(
        FixtureCase{"nvidia_smi_query_gpu_1x_rtx3090.txt", ErrorCode::kOk, 1, ""},
        FixtureCase{"nvidia_smi_query_gpu_1x_gtx770_not_supported.txt", ErrorCode::kOk, 1, ""},
        FixtureCase{"nvidia_smi_query_gpu_4x_v100.txt", ErrorCode::kOk, 4, ""},
        FixtureCase{"nvidia_smi_query_gpu_8x_a100.txt", ErrorCode::kOk, 8, ""},
        FixtureCase{"nvidia_smi_query_gpu_8x_h100.txt", ErrorCode::kOk, 8, ""},
        FixtureCase{"nvidia_smi_query_gpu_mixed.txt", ErrorCode::kOk, 4, ""},
        FixtureCase{"nvidia_smi_query_gpu_a100_mig.txt", ErrorCode::kOk, 2, ""},
        FixtureCase{"nvidia_smi_query_gpu_no_devices.txt", ErrorCode::kOk, 0, ""},
        FixtureCase{"nvidia_smi_query_gpu_lost_gpu.txt", ErrorCode::kOk, 4, ""},
        FixtureCase{"nvidia_smi_query_gpu_gpu_is_lost.txt", ErrorCode::kOk, 2, ""},
        FixtureCase{"nvidia_smi_query_gpu_requires_reset.txt", ErrorCode::kOk, 4, ""},
        FixtureCase{"nvidia_smi_query_gpu_header_crlf.txt", ErrorCode::kOk, 2, ""},
        FixtureCase{"nvidia_smi_query_gpu_driver_failure.txt", ErrorCode::kUnavailable, 0,
                    "couldn't communicate with the NVIDIA driver"},
        FixtureCase{"nvidia_smi_query_gpu_driver_mismatch.txt", ErrorCode::kUnavailable, 0,
                    "Driver/library version mismatch"},
        FixtureCase{"nvidia_smi_query_gpu_empty.txt", ErrorCode::kCorruption, 0, "empty output"},
        FixtureCase{"nvidia_smi_query_gpu_truncated.txt", ErrorCode::kCorruption, 0,
                    "line 8: expected 8 fields"},
        FixtureCase{"nvidia_smi_query_gpu_wrong_fields.txt", ErrorCode::kCorruption, 0,
                    "line 1: expected 8 fields"},
        FixtureCase{"nvidia_smi_query_gpu_bad_number.txt", ErrorCode::kCorruption, 0,
                    "line 2: memory.total"},
        FixtureCase{"nvidia_smi_query_gpu_garbage_binary.txt", ErrorCode::kCorruption, 0,
                    "line 1:"},
        FixtureCase{"nvidia_smi_query_gpu_garbage_html.txt", ErrorCode::kCorruption, 0,
                    "line 1: expected 8 fields"}));

// ---- --query-gpu: exact values ----

TEST(ParseQueryGpuCsvTest, SingleRtx3090AllFields) {
  Result<std::vector<GpuStatus>> r =
      ParseQueryGpuCsv(ReadFixture("nvidia_smi_query_gpu_1x_rtx3090.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  GpuStatus want;
  want.index = 0;
  want.uuid = "GPU-cc9afeec-d424-0363-9f33-8b03fedf5171";
  want.model = "NVIDIA GeForce RTX 3090";
  want.mem_total_mib = 24576;
  want.mem_used_mib = 1623;
  want.util_pct = 37;
  want.temperature_c = 52;
  want.pci_bus_id = "00000000:01:00.0";
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0], want);
}

TEST(ParseQueryGpuCsvTest, EightH100FirstAndLastRows) {
  Result<std::vector<GpuStatus>> r =
      ParseQueryGpuCsv(ReadFixture("nvidia_smi_query_gpu_8x_h100.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 8u);
  const GpuStatus& g0 = (*r)[0];
  EXPECT_EQ(g0.index, 0);
  EXPECT_EQ(g0.uuid, "GPU-2b3b762a-8e20-e814-d99c-61a910a22e88");
  EXPECT_EQ(g0.model, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(g0.mem_total_mib, 81559);
  EXPECT_EQ(g0.mem_used_mib, 72790);
  EXPECT_EQ(g0.util_pct, 100);
  EXPECT_EQ(g0.temperature_c, 39);
  EXPECT_EQ(g0.pci_bus_id, "00000000:18:00.0");
  EXPECT_EQ(g0.error, "");
  EXPECT_TRUE(g0.processes.empty());
  const GpuStatus& g7 = (*r)[7];
  EXPECT_EQ(g7.index, 7);
  EXPECT_EQ(g7.util_pct, 97);
  EXPECT_EQ(g7.temperature_c, 40);
  EXPECT_EQ(g7.pci_bus_id, "00000000:DB:00.0");
  for (size_t i = 0; i < r->size(); ++i) EXPECT_EQ((*r)[i].index, static_cast<int>(i));
}

TEST(ParseQueryGpuCsvTest, FourV100AndEightA100Spots) {
  Result<std::vector<GpuStatus>> v100 =
      ParseQueryGpuCsv(ReadFixture("nvidia_smi_query_gpu_4x_v100.txt"));
  ASSERT_TRUE(v100.ok()) << v100.status().ToString();
  EXPECT_EQ((*v100)[2].model, "Tesla V100-SXM2-32GB");
  EXPECT_EQ((*v100)[2].mem_total_mib, 32510);
  EXPECT_EQ((*v100)[2].mem_used_mib, 4);
  EXPECT_EQ((*v100)[2].util_pct, 0);
  EXPECT_EQ((*v100)[3].pci_bus_id, "00000000:1E:00.0");

  Result<std::vector<GpuStatus>> a100 =
      ParseQueryGpuCsv(ReadFixture("nvidia_smi_query_gpu_8x_a100.txt"));
  ASSERT_TRUE(a100.ok()) << a100.status().ToString();
  EXPECT_EQ((*a100)[4].model, "NVIDIA A100-SXM4-80GB");
  EXPECT_EQ((*a100)[4].mem_total_mib, 81920);
  EXPECT_EQ((*a100)[4].mem_used_mib, 78112);
  EXPECT_EQ((*a100)[4].util_pct, 100);
  EXPECT_EQ((*a100)[4].pci_bus_id, "00000000:87:00.0");
}

TEST(ParseQueryGpuCsvTest, NotAvailableFieldsAreEmptyNotErrors) {
  Result<std::vector<GpuStatus>> mixed =
      ParseQueryGpuCsv(ReadFixture("nvidia_smi_query_gpu_mixed.txt"));
  ASSERT_TRUE(mixed.ok()) << mixed.status().ToString();
  EXPECT_EQ((*mixed)[1].model, "NVIDIA RTX A6000");
  EXPECT_EQ((*mixed)[2].model, "NVIDIA GeForce RTX 2080 Ti");
  EXPECT_FALSE((*mixed)[2].util_pct.has_value());
  EXPECT_EQ((*mixed)[2].temperature_c, 66);
  EXPECT_EQ((*mixed)[3].model, "Quadro RTX 8000");
  EXPECT_FALSE((*mixed)[3].temperature_c.has_value());
  EXPECT_EQ((*mixed)[3].util_pct, 0);
  for (const GpuStatus& g : *mixed) EXPECT_EQ(g.error, "") << g.index;

  Result<std::vector<GpuStatus>> old =
      ParseQueryGpuCsv(ReadFixture("nvidia_smi_query_gpu_1x_gtx770_not_supported.txt"));
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ((*old)[0].model, "GeForce GTX 770");
  EXPECT_FALSE((*old)[0].util_pct.has_value());
  EXPECT_EQ((*old)[0].mem_total_mib, 1998);
  EXPECT_EQ((*old)[0].error, "");
}

TEST(ParseQueryGpuCsvTest, MigEnabledA100HasNoUtilization) {
  Result<std::vector<GpuStatus>> r =
      ParseQueryGpuCsv(ReadFixture("nvidia_smi_query_gpu_a100_mig.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE((*r)[0].util_pct.has_value());
  EXPECT_EQ((*r)[0].mem_used_mib, 36537);
  EXPECT_EQ((*r)[0].error, "");
  EXPECT_EQ((*r)[1].util_pct, 0);
}

TEST(ParseQueryGpuCsvTest, LostGpuLineBecomesAnErroredGpuAfterTheRows) {
  Result<std::vector<GpuStatus>> r =
      ParseQueryGpuCsv(ReadFixture("nvidia_smi_query_gpu_lost_gpu.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].index, 0);
  EXPECT_EQ((*r)[1].index, 2);
  EXPECT_EQ((*r)[2].index, 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ((*r)[i].error, "");
  GpuStatus want;
  want.index = kUnknownGpuIndex;
  want.pci_bus_id = "00000000:0B:00.0";  // "0000:0B:00.0" in the line
  want.error = "Unknown Error";
  EXPECT_EQ((*r)[3], want);
}

TEST(ParseQueryGpuCsvTest, GpuIsLostWithSpaceAndLineFirst) {
  Result<std::vector<GpuStatus>> r =
      ParseQueryGpuCsv(ReadFixture("nvidia_smi_query_gpu_gpu_is_lost.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].model, "Tesla V100-PCIE-16GB");
  EXPECT_EQ((*r)[0].error, "");
  EXPECT_EQ((*r)[1].index, kUnknownGpuIndex);
  EXPECT_EQ((*r)[1].pci_bus_id, "00000000:02:00.0");
  EXPECT_EQ((*r)[1].error, "GPU is lost. Reboot the system to recover this GPU");
}

TEST(ParseQueryGpuCsvTest, BracketedFailuresSetError) {
  Result<std::vector<GpuStatus>> r =
      ParseQueryGpuCsv(ReadFixture("nvidia_smi_query_gpu_requires_reset.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].error, "");
  EXPECT_EQ((*r)[1].error, "GPU requires reset");
  EXPECT_FALSE((*r)[1].mem_total_mib.has_value());
  EXPECT_FALSE((*r)[1].temperature_c.has_value());
  EXPECT_EQ((*r)[1].pci_bus_id, "00000000:0F:00.0");
  EXPECT_EQ((*r)[3].error, "Unknown Error");
  EXPECT_EQ((*r)[3].mem_total_mib, 81920);
  EXPECT_FALSE((*r)[3].mem_used_mib.has_value());
  EXPECT_EQ((*r)[3].temperature_c, 31);
}

TEST(ParseQueryGpuCsvTest, HeaderCrlfAndNoFinalNewline) {
  Result<std::vector<GpuStatus>> r =
      ParseQueryGpuCsv(ReadFixture("nvidia_smi_query_gpu_header_crlf.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].pci_bus_id, "00000000:2D:00.0");
  EXPECT_EQ((*r)[1].pci_bus_id, "00000000:99:00.0");
  EXPECT_EQ((*r)[1].temperature_c, 33);
}

TEST(ParseQueryGpuCsvTest, TruncatedOutputShowsTheLine) {
  Result<std::vector<GpuStatus>> r =
      ParseQueryGpuCsv(ReadFixture("nvidia_smi_query_gpu_truncated.txt"));
  ASSERT_EQ(r.status().code(), ErrorCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("line 8: expected 8 fields"));
  EXPECT_THAT(r.status().message(), HasSubstr("got 5"));
  EXPECT_THAT(r.status().message(), HasSubstr("\"7, GPU-df946c1e"));
}

TEST(ParseQueryGpuCsvTest, DriverFailureKeepsTheDriverText) {
  Result<std::vector<GpuStatus>> r =
      ParseQueryGpuCsv(ReadFixture("nvidia_smi_query_gpu_driver_failure.txt"));
  ASSERT_EQ(r.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(r.status().message(),
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
            "Make sure that the latest NVIDIA driver is installed and running.");
}

TEST(ParseQueryGpuCsvTest, LongGarbageLineIsCutAndEscaped) {
  std::string line(10000, 'x');
  line[5] = '\x01';
  line[6] = '\xff';
  Result<std::vector<GpuStatus>> r = ParseQueryGpuCsv(line);
  ASSERT_EQ(r.status().code(), ErrorCode::kCorruption);
  EXPECT_LT(r.status().message().size(), 300u);
  EXPECT_THAT(r.status().message(), HasSubstr("xxxxx\\x01\\xffxxx"));
  EXPECT_THAT(r.status().message(), HasSubstr("...\""));
  EXPECT_TRUE(IsPrintable(r.status().message()));
}

constexpr char kGoodRow[] =
    "0, GPU-2b3b762a-8e20-e814-d99c-61a910a22e88, NVIDIA H100 80GB HBM3, 81559, 72790, 100, 39, "
    "00000000:18:00.0";

struct TextCase {
  const char* name;
  std::string text;
  ErrorCode code;
  size_t count;             // when kOk
  const char* message_has;  // when an error
};

std::ostream& operator<<(std::ostream& os, const TextCase& c) { return os << c.name; }

class QueryGpuTextTest : public ::testing::TestWithParam<TextCase> {};

TEST_P(QueryGpuTextTest, ParsesAsExpected) {
  const TextCase& c = GetParam();
  Result<std::vector<GpuStatus>> r = ParseQueryGpuCsv(c.text);
  ASSERT_EQ(r.status().code(), c.code) << r.status().ToString();
  if (r.ok()) {
    EXPECT_EQ(r->size(), c.count);
  } else {
    EXPECT_THAT(r.status().message(), HasSubstr(c.message_has));
  }
}

std::string Row(const std::string& index, const std::string& mem_used = "72790",
                const std::string& util = "100", const std::string& bus = "00000000:18:00.0") {
  return index + ", GPU-2b3b762a-8e20-e814-d99c-61a910a22e88, NVIDIA H100 80GB HBM3, 81559, " +
         mem_used + ", " + util + ", 39, " + bus + "\n";
}

INSTANTIATE_TEST_SUITE_P(
    Text, QueryGpuTextTest,
    ::testing::Values(
        TextCase{"NoFinalNewline", kGoodRow, ErrorCode::kOk, 1, ""},
        TextCase{"BlankLinesBetweenRows", Row("0") + "\n\n" + Row("1"), ErrorCode::kOk, 2, ""},
        TextCase{"CommaWithoutSpace",
                 "0,GPU-2b3b762a-8e20-e814-d99c-61a910a22e88,NVIDIA H100 80GB HBM3,81559,72790,"
                 "100,39,00000000:18:00.0\n",
                 ErrorCode::kOk, 1, ""},
        TextCase{"NoDevicesCrlf", "No devices were found\r\n", ErrorCode::kOk, 0, ""},
        TextCase{"WhitespaceOnly", " \n\r\n\t\n", ErrorCode::kCorruption, 0, "empty output"},
        TextCase{"NegativeIndex", Row("-1"), ErrorCode::kCorruption, 0, "line 1: index"},
        TextCase{"HugeIndex", Row("4096"), ErrorCode::kCorruption, 0, "line 1: index"},
        TextCase{"RepeatedIndex", Row("0") + Row("0"), ErrorCode::kCorruption, 0,
                 "line 2: repeats index 0"},
        TextCase{"MemoryOverflow", Row("0", "99999999999999999999999"), ErrorCode::kCorruption, 0,
                 "line 1: memory.used"},
        TextCase{"MemoryWithUnit", Row("0", "72790 MiB"), ErrorCode::kCorruption, 0,
                 "line 1: memory.used"},
        TextCase{"FractionalMemory", Row("0", "72790.5"), ErrorCode::kCorruption, 0,
                 "line 1: memory.used"},
        TextCase{"UtilAbove100", Row("0", "1", "101"), ErrorCode::kCorruption, 0,
                 "line 1: utilization.gpu"},
        TextCase{"BadBusId", Row("0", "1", "1", "0000:18:00"), ErrorCode::kCorruption, 0,
                 "line 1: pci.bus_id"},
        TextCase{"BadUuid",
                 "0, 2b3b762a, NVIDIA H100 80GB HBM3, 81559, 72790, 100, 39, 00000000:18:00.0\n",
                 ErrorCode::kCorruption, 0, "line 1: uuid"},
        TextCase{"EmptyName",
                 "0, GPU-2b3b762a-8e20-e814-d99c-61a910a22e88, , 81559, 72790, 100, 39, "
                 "00000000:18:00.0\n",
                 ErrorCode::kCorruption, 0, "line 1: name: expected a GPU model"},
        TextCase{"ExtraField", Row("0").substr(0, Row("0").size() - 1) + ", P0\n",
                 ErrorCode::kCorruption, 0, "got 9"},
        TextCase{"HeaderOnlyOnFirstLine", Row("0") + "index, uuid\n", ErrorCode::kCorruption, 0,
                 "line 2"},
        TextCase{"LostLineForAListedBusMergesIntoTheRow",
                 Row("0") + "Unable to determine the device handle for GPU0000:18:00.0: Unknown "
                            "Error\n",
                 ErrorCode::kOk, 1, ""},
        TextCase{"TwoLostLinesSameBus",
                 "GPU 00000000:3B:00.0: GPU is lost\nGPU 0000:3b:00.0: GPU is lost\n",
                 ErrorCode::kOk, 1, ""}));

TEST(ParseQueryGpuCsvTest, LostLineOnAListedBusSetsThatRowsError) {
  Result<std::vector<GpuStatus>> r = ParseQueryGpuCsv(
      Row("0") + "Unable to determine the device handle for GPU0000:18:00.0: Unknown Error\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].index, 0);
  EXPECT_EQ((*r)[0].error, "Unknown Error");
}

TEST(ParseQueryGpuCsvTest, ControlBytesNeverReachTheResult) {
  Result<std::vector<GpuStatus>> lost =
      ParseQueryGpuCsv("GPU 0000:3B:00.0: Unknown \x1b[31mError\xff\n");
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  EXPECT_EQ((*lost)[0].error, "Unknown \\x1b[31mError\\xff");

  Result<std::vector<GpuStatus>> name = ParseQueryGpuCsv(
      "0, GPU-2b3b762a-8e20-e814-d99c-61a910a22e88, NVIDIA\x01H100, 81559, 72790, 100, 39, "
      "00000000:18:00.0\n");
  ASSERT_EQ(name.status().code(), ErrorCode::kCorruption);
  EXPECT_THAT(name.status().message(), HasSubstr("line 1: name"));
  EXPECT_THAT(name.status().message(), HasSubstr("NVIDIA\\x01H100"));
}

TEST(ParseQueryGpuCsvTest, BusIdIsNormalisedToUpperCase) {
  Result<std::vector<GpuStatus>> r = ParseQueryGpuCsv(Row("0", "1", "1", "00000000:3b:00.0"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].pci_bus_id, "00000000:3B:00.0");
}

// ---- --query-compute-apps ----

class ComputeAppsFixtureTest : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(ComputeAppsFixtureTest, ParsesAsExpected) {
  const FixtureCase& c = GetParam();
  Result<std::vector<GpuProcess>> r = ParseComputeAppsCsv(ReadFixture(c.file));
  ASSERT_EQ(r.status().code(), c.code) << r.status().ToString();
  if (r.ok()) {
    EXPECT_EQ(r->size(), c.count);
  } else {
    EXPECT_THAT(r.status().message(), HasSubstr(c.message_has));
    EXPECT_TRUE(IsPrintable(r.status().message())) << r.status().message();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, ComputeAppsFixtureTest,
    ::testing::Values(
        FixtureCase{"nvidia_smi_compute_apps_4x_v100.txt", ErrorCode::kOk, 4, ""},
        FixtureCase{"nvidia_smi_compute_apps_8x_h100.txt", ErrorCode::kOk, 8, ""},
        FixtureCase{"nvidia_smi_compute_apps_mig.txt", ErrorCode::kOk, 3, ""},
        FixtureCase{"nvidia_smi_compute_apps_empty.txt", ErrorCode::kOk, 0, ""},
        FixtureCase{"nvidia_smi_compute_apps_no_processes.txt", ErrorCode::kOk, 0, ""},
        FixtureCase{"nvidia_smi_compute_apps_not_found_name.txt", ErrorCode::kOk, 1, ""},
        FixtureCase{"nvidia_smi_compute_apps_driver_failure.txt", ErrorCode::kUnavailable, 0,
                    "couldn't communicate with the NVIDIA driver"},
        FixtureCase{"nvidia_smi_compute_apps_truncated.txt", ErrorCode::kCorruption, 0,
                    "line 2: expected 4 fields"},
        FixtureCase{"nvidia_smi_compute_apps_garbage_binary.txt", ErrorCode::kCorruption, 0,
                    "line 1:"}));

TEST(ParseComputeAppsCsvTest, ExactRowsNamesWithSpacesAndCommas) {
  Result<std::vector<GpuProcess>> r =
      ParseComputeAppsCsv(ReadFixture("nvidia_smi_compute_apps_4x_v100.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 4u);
  GpuProcess want;
  want.pid = 48211;
  want.gpu_uuid = "GPU-a6431ed4-5c8b-dfc4-e3b5-a0e0f0f497ac";
  want.mem_mib = 31214;
  want.name = "/home/alice/miniconda3/envs/torch/bin/python";
  EXPECT_EQ((*r)[0], want);
  EXPECT_EQ((*r)[2].name, "/opt/conda/envs/my env/bin/python3.10");
  EXPECT_EQ((*r)[3].pid, 52033);
  EXPECT_EQ((*r)[3].mem_mib, 4318);
  EXPECT_EQ((*r)[3].name, "/home/carol/runs/lr=0.1,bs=64/train");
  EXPECT_EQ((*r)[3].user, "");
}

TEST(ParseComputeAppsCsvTest, MigRowsHaveNoMemory) {
  Result<std::vector<GpuProcess>> r =
      ParseComputeAppsCsv(ReadFixture("nvidia_smi_compute_apps_mig.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const GpuProcess& p : *r) EXPECT_FALSE(p.mem_mib.has_value()) << p.pid;
  EXPECT_EQ((*r)[2].name, "/usr/local/bin/tritonserver");
}

TEST(ParseComputeAppsCsvTest, BracketedNameIsEmpty) {
  Result<std::vector<GpuProcess>> r =
      ParseComputeAppsCsv(ReadFixture("nvidia_smi_compute_apps_not_found_name.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].name, "");
  EXPECT_EQ((*r)[0].mem_mib, 1610);
}

TEST(ParseComputeAppsCsvTest, HeaderAndLostLinesAreSkipped) {
  Result<std::vector<GpuProcess>> r = ParseComputeAppsCsv(
      "gpu_uuid, pid, used_gpu_memory [MiB], process_name\r\n"
      "Unable to determine the device handle for GPU0000:3B:00.0: Unknown Error\r\n"
      "GPU-2b3b762a-8e20-e814-d99c-61a910a22e88, 4121, 1024, python\r\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].pid, 4121);
  EXPECT_EQ((*r)[0].name, "python");
}

TEST(ParseComputeAppsCsvTest, BadRowsNameTheLine) {
  const std::string uuid = "GPU-2b3b762a-8e20-e814-d99c-61a910a22e88";
  struct Case {
    std::string text;
    const char* message_has;
  };
  for (const Case& c : {
           Case{uuid + ", 0, 1024, python\n", "line 1: pid"},
           Case{uuid + ", abc, 1024, python\n", "line 1: pid"},
           Case{uuid + ", 4121, -5, python\n", "line 1: used_memory"},
           Case{uuid + ", 4121, 1024 MiB, python\n", "line 1: used_memory"},
           Case{"\n" + uuid + ", 4121, 1024\n", "line 2: expected 4 fields"},
           Case{"nonsense, 4121, 1024, python\n", "line 1: gpu_uuid"},
       }) {
    Result<std::vector<GpuProcess>> r = ParseComputeAppsCsv(c.text);
    ASSERT_EQ(r.status().code(), ErrorCode::kCorruption) << c.text;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message_has)) << c.text;
  }
}

// ---- gpustat --json ----

class GpustatFixtureTest : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(GpustatFixtureTest, ParsesAsExpected) {
  const FixtureCase& c = GetParam();
  Result<std::vector<GpuStatus>> r = ParseGpustatJson(ReadFixture(c.file));
  ASSERT_EQ(r.status().code(), c.code) << r.status().ToString();
  if (r.ok()) {
    EXPECT_EQ(r->size(), c.count);
  } else {
    EXPECT_THAT(r.status().message(), HasSubstr(c.message_has));
    EXPECT_TRUE(IsPrintable(r.status().message())) << r.status().message();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, GpustatFixtureTest,
    ::testing::Values(FixtureCase{"gpustat_4x_v100.json", ErrorCode::kOk, 4, ""},
                      FixtureCase{"gpustat_1x_rtx3090_nulls.json", ErrorCode::kOk, 1, ""},
                      FixtureCase{"gpustat_2x_a100_mig.json", ErrorCode::kOk, 2, ""},
                      FixtureCase{"gpustat_no_gpus.json", ErrorCode::kOk, 0, ""},
                      FixtureCase{"gpustat_error_output.json", ErrorCode::kUnavailable, 0,
                                  "Error on querying NVIDIA devices"},
                      FixtureCase{"gpustat_truncated.json", ErrorCode::kCorruption, 0, "not JSON"},
                      FixtureCase{"gpustat_wrong_type.json", ErrorCode::kCorruption, 0,
                                  "gpus[1].memory.used: expected a number or null"},
                      FixtureCase{"gpustat_garbage_html.json", ErrorCode::kCorruption, 0,
                                  "not JSON"}));

TEST(ParseGpustatJsonTest, GpusWithProcessesAndUsers) {
  Result<std::vector<GpuStatus>> r = ParseGpustatJson(ReadFixture("gpustat_4x_v100.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const GpuStatus& g0 = (*r)[0];
  EXPECT_EQ(g0.index, 0);
  EXPECT_EQ(g0.uuid, "GPU-a6431ed4-5c8b-dfc4-e3b5-a0e0f0f497ac");
  EXPECT_EQ(g0.model, "Tesla V100-SXM2-32GB");
  EXPECT_EQ(g0.mem_total_mib, 32768);
  EXPECT_EQ(g0.mem_used_mib, 31218);
  EXPECT_EQ(g0.util_pct, 98);
  EXPECT_EQ(g0.temperature_c, 61);
  EXPECT_EQ(g0.pci_bus_id, "");  // gpustat does not report it
  ASSERT_EQ(g0.processes.size(), 1u);
  GpuProcess want;
  want.pid = 48211;
  want.gpu_uuid = g0.uuid;
  want.mem_mib = 31214;
  want.name = "python";
  want.user = "alice";
  EXPECT_EQ(g0.processes[0], want);
  EXPECT_TRUE((*r)[2].processes.empty());
  ASSERT_EQ((*r)[3].processes.size(), 2u);
  EXPECT_EQ((*r)[3].processes[0].name, "python3.10");
  EXPECT_EQ((*r)[3].processes[1].user, "carol");
  EXPECT_EQ((*r)[3].processes[1].gpu_uuid, "GPU-0b25c46d-86fc-9dff-2a48-bbcf4ce6e0ad");
}

TEST(ParseGpustatJsonTest, NullsAreEmpty) {
  Result<std::vector<GpuStatus>> r = ParseGpustatJson(ReadFixture("gpustat_1x_rtx3090_nulls.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].model, "NVIDIA GeForce RTX 3090");
  EXPECT_EQ((*r)[0].util_pct, 37);
  EXPECT_TRUE((*r)[0].processes.empty());  // "processes": null

  Result<std::vector<GpuStatus>> mig = ParseGpustatJson(ReadFixture("gpustat_2x_a100_mig.json"));
  ASSERT_TRUE(mig.ok()) << mig.status().ToString();
  EXPECT_FALSE((*mig)[0].util_pct.has_value());
  ASSERT_EQ((*mig)[0].processes.size(), 2u);
  EXPECT_FALSE((*mig)[0].processes[0].mem_mib.has_value());
  EXPECT_EQ((*mig)[0].processes[1].user, "root");
  EXPECT_EQ((*mig)[1].util_pct, 0);
}

TEST(ParseGpustatJsonTest, InlineCases) {
  struct Case {
    std::string text;
    ErrorCode code;
    const char* message_has;
  };
  for (const Case& c : {
           Case{"", ErrorCode::kCorruption, "empty output"},
           Case{"null", ErrorCode::kCorruption, "top level"},
           Case{"{}", ErrorCode::kCorruption, "gpus: expected an array"},
           Case{R"({"gpus": {}})", ErrorCode::kCorruption, "gpus: expected an array"},
           Case{R"({"gpus": [{"uuid": "GPU-1"}]})", ErrorCode::kCorruption, "gpus[0].index"},
           Case{R"({"gpus": [{"index": -1}]})", ErrorCode::kCorruption, "gpus[0].index"},
           Case{R"({"gpus": [{"index": 0}, {"index": 0}]})", ErrorCode::kCorruption,
                "gpus[1].index: repeats index 0"},
           Case{R"({"gpus": [{"index": 0, "processes": [{"username": "a"}]}]})",
                ErrorCode::kCorruption, "gpus[0].processes[0].pid"},
           Case{R"({"gpus": [{"index": 0, "processes": {}}]})", ErrorCode::kCorruption,
                "gpus[0].processes: expected an array"},
           Case{R"({"gpus": [{"index": 0, "name": 5}]})", ErrorCode::kCorruption,
                "gpus[0].name: expected a string"},
           Case{R"({"gpus": [{"index": 0, "utilization.gpu": 1e300}]})", ErrorCode::kCorruption,
                "gpus[0].utilization.gpu"},
           Case{R"({"gpus": [{"index": 0, "memory.used": 18446744073709551615}]})",
                ErrorCode::kCorruption, "gpus[0].memory.used"},
           Case{std::string(100000, '[') + std::string(100000, ']'), ErrorCode::kCorruption,
                "nested deeper"},
           Case{R"({"gpus": [{"index": 1, "utilization.gpu": 37.9, "processes": null}]})",
                ErrorCode::kOk, ""},
           Case{R"({"gpus": [{"index": 0}]})", ErrorCode::kOk, ""},
       }) {
    Result<std::vector<GpuStatus>> r = ParseGpustatJson(c.text);
    ASSERT_EQ(r.status().code(), c.code) << c.text.substr(0, 100) << ": " << r.status().ToString();
    if (!r.ok()) {
      EXPECT_THAT(r.status().message(), HasSubstr(c.message_has));
    }
  }
  Result<std::vector<GpuStatus>> r =
      ParseGpustatJson(R"({"gpus": [{"index": 1, "utilization.gpu": 37.9}]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].index, 1);
  EXPECT_EQ((*r)[0].util_pct, 37);  // gpustat writes integers; a float is truncated
}

// ---- attaching processes and users ----

TEST(AttachProcessesTest, PutsComputeAppsOnTheirGpus) {
  Result<std::vector<GpuStatus>> gpus =
      ParseQueryGpuCsv(ReadFixture("nvidia_smi_query_gpu_4x_v100.txt"));
  Result<std::vector<GpuProcess>> apps =
      ParseComputeAppsCsv(ReadFixture("nvidia_smi_compute_apps_4x_v100.txt"));
  ASSERT_TRUE(gpus.ok() && apps.ok());
  AttachProcesses(*apps, &*gpus);
  EXPECT_EQ((*gpus)[0].processes.size(), 1u);
  EXPECT_EQ((*gpus)[1].processes.size(), 1u);
  EXPECT_EQ((*gpus)[2].processes.size(), 0u);
  ASSERT_EQ((*gpus)[3].processes.size(), 2u);
  EXPECT_EQ((*gpus)[3].processes[1].pid, 52033);

  AttachProcessUsers("  48211 alice\n  48212 alice\n  51907 bob\n 52033 carol extra\ngarbage\n",
                     &*gpus);
  EXPECT_EQ((*gpus)[0].processes[0].user, "alice");
  EXPECT_EQ((*gpus)[1].processes[0].user, "alice");
  EXPECT_EQ((*gpus)[3].processes[0].user, "bob");
  EXPECT_EQ((*gpus)[3].processes[1].user, "");  // its line has 3 words: ignored
}

TEST(AttachProcessesTest, MigProcessListedTwiceIsMergedAndUnknownGpusDropped) {
  Result<std::vector<GpuStatus>> gpus =
      ParseQueryGpuCsv(ReadFixture("nvidia_smi_query_gpu_a100_mig.txt"));
  Result<std::vector<GpuProcess>> apps =
      ParseComputeAppsCsv(ReadFixture("nvidia_smi_compute_apps_mig.txt"));
  ASSERT_TRUE(gpus.ok() && apps.ok());
  GpuProcess stray;
  stray.pid = 9;
  stray.gpu_uuid = "GPU-00000000-0000-0000-0000-000000000000";
  apps->push_back(stray);
  AttachProcesses(*apps, &*gpus);
  ASSERT_EQ((*gpus)[0].processes.size(), 2u);
  EXPECT_EQ((*gpus)[0].processes[0].pid, 77120);
  EXPECT_FALSE((*gpus)[0].processes[0].mem_mib.has_value());
  EXPECT_EQ((*gpus)[0].processes[1].pid, 77391);
  EXPECT_TRUE((*gpus)[1].processes.empty());
}

TEST(AttachProcessesTest, SamePidTwiceSumsKnownMemory) {
  std::vector<GpuStatus> gpus(1);
  gpus[0].uuid = "GPU-a";
  GpuProcess p;
  p.pid = 7;
  p.gpu_uuid = "GPU-a";
  p.mem_mib = 100;
  AttachProcesses({p, p}, &gpus);
  ASSERT_EQ(gpus[0].processes.size(), 1u);
  EXPECT_EQ(gpus[0].processes[0].mem_mib, 200);
}

TEST(AttachProcessesTest, EmptyUuidMatchesNothing) {
  std::vector<GpuStatus> gpus(1);  // a lost GPU has no uuid
  GpuProcess p;
  p.pid = 7;
  AttachProcesses({p}, &gpus);
  EXPECT_TRUE(gpus[0].processes.empty());
  AttachProcesses({p}, nullptr);
  AttachProcessUsers("7 alice", nullptr);
}

TEST(AttachProcessUsersTest, OverwritesAndIgnoresBadLines) {
  std::vector<GpuStatus> gpus(1);
  gpus[0].processes.resize(3);
  gpus[0].processes[0].pid = 4121;
  gpus[0].processes[0].user = "old";
  gpus[0].processes[1].pid = 4122;
  gpus[0].processes[2].pid = 4123;
  AttachProcessUsers("  4121 alice\r\n\n-4122 bob\nx4123 carol\n 4123\n", &gpus);
  EXPECT_EQ(gpus[0].processes[0].user, "alice");
  EXPECT_EQ(gpus[0].processes[1].user, "");
  EXPECT_EQ(gpus[0].processes[2].user, "");
}

// ---- robustness ----

// Every fixture through every parser: any answer is fine, a crash is not (the fuzzers go
// further; this keeps the check in the ordinary test run).
TEST(ParsersTest, EveryFixtureThroughEveryParser) {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(GPUQ_TEST_DATA_DIR)) {
    if (!entry.is_regular_file()) continue;
    std::string text = ReadFixture(entry.path().filename().string());
    Result<std::vector<GpuStatus>> a = ParseQueryGpuCsv(text);
    Result<std::vector<GpuProcess>> b = ParseComputeAppsCsv(text);
    Result<std::vector<GpuStatus>> c = ParseGpustatJson(text);
    for (const Status& s : {a.status(), b.status(), c.status()}) {
      EXPECT_TRUE(IsPrintable(s.message())) << entry.path() << ": " << s.message();
    }
    ++files;
  }
  EXPECT_GE(files, 30u);
}

}  // namespace
}  // namespace gpuq
