#ifndef GPUQ_COMMON_GPU_INDICES_H_
#define GPUQ_COMMON_GPU_INDICES_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gpuq {

// A run's GPUs as the store keeps them and CUDA_VISIBLE_DEVICES takes them: "0,2".
std::string FormatGpuIndices(const std::vector<int>& indices);
// The inverse; "" is no GPU. kCorruption on anything but non-negative integers and commas.
Result<std::vector<int>> ParseGpuIndices(std::string_view text);

}  // namespace gpuq

#endif  // GPUQ_COMMON_GPU_INDICES_H_
