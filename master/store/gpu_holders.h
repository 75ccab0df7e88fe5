#ifndef GPUQ_MASTER_STORE_GPU_HOLDERS_H_
#define GPUQ_MASTER_STORE_GPU_HOLDERS_H_

#include <string>
#include <vector>

#include "common/ids.h"
#include "common/status.h"
#include "master/store/run_store.h"

namespace gpuq {

class Database;

// A live (starting or running) run with its task's name and owner: who holds which GPUs.
struct GpuHolder {
  RunRow run;
  std::string task_name;
  std::string username;
  UserId user_id;
};

// Every live run, in one query (the panel's dashboard and node pages). Live runs are bounded
// by the number of GPUs (plus CPU-only runs), so this stays small with any queue length.
Result<std::vector<GpuHolder>> ListGpuHolders(Database* db);

}  // namespace gpuq

#endif  // GPUQ_MASTER_STORE_GPU_HOLDERS_H_
