// libFuzzer target for ParseGpustatJson.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/gpu_probe_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  gpuq::Result<std::vector<gpuq::GpuStatus>> gpus = gpuq::ParseGpustatJson(text);
  if (gpus.ok()) {
    for (const gpuq::GpuStatus& gpu : *gpus) {
      if (gpu.index < 0) __builtin_trap();
      for (const gpuq::GpuProcess& p : gpu.processes) {
        if (p.pid <= 0 || p.gpu_uuid != gpu.uuid) __builtin_trap();
      }
    }
  } else if (gpus.status().message().empty()) {
    __builtin_trap();
  }
  return 0;
}
