#ifndef GPUQ_COMMON_GPU_H_
#define GPUQ_COMMON_GPU_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace gpuq {

// A process that holds memory on a GPU, as nvidia-smi --query-compute-apps or gpustat show it.
struct GpuProcess {
  int64_t pid = 0;
  std::string gpu_uuid;               // which GPU (compute-apps reports the uuid, not the index)
  std::optional<int64_t> mem_mib;     // [N/A] under MIG or WDDM
  std::string name;                   // process name, may be empty
  std::string user;                   // owning account on the node; empty when unknown
  friend bool operator==(const GpuProcess&, const GpuProcess&) = default;
};

// One GPU at one moment. Fields that the driver reports as [N/A] or [Not Supported] are empty.
struct GpuStatus {
  int index = 0;                         // nvidia-smi index: what CUDA_VISIBLE_DEVICES takes
  std::string uuid;                      // "GPU-..."
  std::string model;                     // "NVIDIA A100-SXM4-80GB"
  std::optional<int64_t> mem_total_mib;
  std::optional<int64_t> mem_used_mib;
  std::optional<int> util_pct;           // [N/A] e.g. when MIG is enabled
  std::optional<int> temperature_c;
  std::string pci_bus_id;
  std::vector<GpuProcess> processes;     // filled by AttachProcesses / the gpustat parser
  // Non-empty when the driver reports this GPU as failing ("Unknown Error", "GPU is lost",
  // "GPU requires reset"): such a GPU is shown but never scheduled on.
  std::string error;
  friend bool operator==(const GpuStatus&, const GpuStatus&) = default;
};

// Everything one probe of a node saw.
struct NodeSample {
  UnixMs sampled_at = 0;
  std::vector<GpuStatus> gpus;
};

}  // namespace gpuq

#endif  // GPUQ_COMMON_GPU_H_
