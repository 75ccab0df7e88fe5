// libFuzzer target for ParseComputeAppsCsv, then AttachProcesses and AttachProcessUsers.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/gpu_probe_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  gpuq::Result<std::vector<gpuq::GpuProcess>> processes = gpuq::ParseComputeAppsCsv(text);
  if (!processes.ok()) {
    if (processes.status().message().empty()) __builtin_trap();
    return 0;
  }
  // Give every named uuid a GPU, so attaching (and merging repeated pids) is exercised.
  std::vector<gpuq::GpuStatus> gpus;
  for (const gpuq::GpuProcess& p : *processes) {
    if (p.pid <= 0 || p.gpu_uuid.empty()) __builtin_trap();
    gpuq::GpuStatus gpu;
    gpu.uuid = p.gpu_uuid;
    gpus.push_back(gpu);
  }
  gpuq::AttachProcesses(*processes, &gpus);
  gpuq::AttachProcessUsers(text, &gpus);
  return 0;
}
