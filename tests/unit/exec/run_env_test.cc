#include "master/exec/run_env.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

TEST(GpuqGpuValueTest, OneCudaNamePerGpu) {
  EXPECT_EQ(GpuqGpuValue({}), "");
  EXPECT_EQ(GpuqGpuValue({2}), "cuda2");
  EXPECT_EQ(GpuqGpuValue({0, 3}), "cuda0,cuda3");
}

TEST(ActivationScriptTest, NothingWithoutAnEnvironment) { EXPECT_EQ(ActivationScript("", ""), ""); }

TEST(ActivationScriptTest, PathsAreQuotedAndMissingOnesStopTheCommand) {
  const std::string venv = ActivationScript("", "/data/my env's");
  EXPECT_EQ(venv.rfind("__gpuq_venv='/data/my env'\\''s'\n", 0), 0u) << venv;
  EXPECT_NE(venv.find("gpuq: venv not found"), std::string::npos);
  EXPECT_NE(venv.find("exit 127"), std::string::npos);
  const std::string conda = ActivationScript("$(reboot)", "");
  EXPECT_EQ(conda.rfind("__gpuq_conda_env='$(reboot)'\n", 0), 0u) << conda;
  EXPECT_NE(conda.find("conda activate \"$__gpuq_conda_env\""), std::string::npos);
  EXPECT_NE(conda.find("gpuq: conda not found"), std::string::npos);
}

}  // namespace
}  // namespace gpuq
