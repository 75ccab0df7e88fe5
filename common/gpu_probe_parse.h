#ifndef GPUQ_COMMON_GPU_PROBE_PARSE_H_
#define GPUQ_COMMON_GPU_PROBE_PARSE_H_

// Pure parsers of what a node's GPU tools print. No I/O: text in, typed value or a clear
// error out. Every function here is safe on any input (fuzzed in tests/fuzz/).

#include <string_view>
#include <vector>

#include "common/gpu.h"
#include "common/status.h"

namespace gpuq {

// The fields gpuq asks `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` for,
// in this order. The parser expects exactly these columns.
inline constexpr std::string_view kQueryGpuFields =
    "index,uuid,name,memory.total,memory.used,utilization.gpu,temperature.gpu,pci.bus_id";

// The fields for `nvidia-smi --query-compute-apps=... --format=csv,noheader,nounits`.
inline constexpr std::string_view kQueryComputeAppsFields =
    "gpu_uuid,pid,used_memory,process_name";

// Parses --query-gpu output (kQueryGpuFields). An empty GPU list is an error only when the
// text says so ("No devices were found" gives an empty vector and OK: a node without GPUs).
// Driver failures ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA
// driver...") and malformed rows return kUnavailable / kCorruption with the offending line.
Result<std::vector<GpuStatus>> ParseQueryGpuCsv(std::string_view text);

// Parses --query-compute-apps output (kQueryComputeAppsFields). Empty text = no processes.
Result<std::vector<GpuProcess>> ParseComputeAppsCsv(std::string_view text);

// Parses `gpustat --json` (gpustat 1.x): GPUs with their processes and users.
Result<std::vector<GpuStatus>> ParseGpustatJson(std::string_view text);

// Parses `ps -o pid=,user= -p PID,...` output into (pid, user) pairs and sets `user` on the
// matching processes of `gpus`. Lines that do not parse are ignored.
void AttachProcessUsers(std::string_view ps_text, std::vector<GpuStatus>* gpus);

// Puts each process on the GPU whose uuid it names. Processes naming an unknown uuid
// (e.g. a MIG device's parent not listed) are dropped.
void AttachProcesses(const std::vector<GpuProcess>& processes, std::vector<GpuStatus>* gpus);

}  // namespace gpuq

#endif  // GPUQ_COMMON_GPU_PROBE_PARSE_H_
