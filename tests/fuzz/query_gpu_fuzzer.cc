// libFuzzer target for ParseQueryGpuCsv (and AttachProcessUsers on what it returns).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/gpu_probe_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  gpuq::Result<std::vector<gpuq::GpuStatus>> gpus = gpuq::ParseQueryGpuCsv(text);
  if (gpus.ok()) {
    for (const gpuq::GpuStatus& gpu : *gpus) {
      // Invariants the rest of gpuq relies on.
      if (gpu.index < gpuq::kUnknownGpuIndex) __builtin_trap();
      if (gpu.util_pct && (*gpu.util_pct < 0 || *gpu.util_pct > 100)) __builtin_trap();
    }
    gpuq::AttachProcessUsers(text, &*gpus);
  } else if (gpus.status().message().empty()) {
    __builtin_trap();  // every error explains itself
  }
  return 0;
}
