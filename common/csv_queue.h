#ifndef GPUQ_COMMON_CSV_QUEUE_H_
#define GPUQ_COMMON_CSV_QUEUE_H_

// The seed project's CSV queue format (INTERFACE.md, "CSV import columns"):
//   task_id,task_name,command,work_dir,n_gpus,execution,notify,status,allocated_gpus,
//   start_time,end_time
// read into task specs for `gpuq import`. Pure; never throws. (Writing status back into such
// a file is the live queue file's: master/app/queue_file_sync.h.)

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/task_spec.h"

namespace gpuq {

// The columns in the format's order.
inline constexpr const char* kCsvQueueColumns[] = {
    "task_id", "task_name", "command",        "work_dir",   "n_gpus",  "execution",
    "notify",  "status",    "allocated_gpus", "start_time", "end_time"};

struct CsvQueueTask {
  int line = 0;  // the line its row starts on
  TaskSpec spec;
};

// Reads a queue file. The first record is the header: column names, matched without regard
// to case or surrounding spaces, in any order; it must name `command`; columns it does not
// know are ignored, and so are the informational task_id, status, allocated_gpus,
// start_time and end_time. Each further record is one task:
//   task_name -> name (surrounding spaces dropped); command -> command (byte for byte);
//   work_dir -> workdir (surrounding spaces dropped; empty = home);
//   n_gpus -> gpus: a whole number 0..64 ("2.0" is read as 2); empty = 1;
//   execution: Yes (or empty) = ready, No = held; also true/false, y/n, 1/0;
//   notify: Yes = "end", No (or empty) = "off"; also end/failure/off, true/false, y/n, 1/0;
//   gpu_ids, prefer_gpus (optional columns): GPU indices "0,2" (or "0;2"); empty = none.
// Records whose fields are all empty are skipped. Every task passes ValidateTaskSpec.
// Errors: InvalidArgument "line 17: n_gpus: must be a whole number from 0 to 64" whose
// field() is the column ("" for a problem of the whole line or file), with the line in
// *error_line when given. One bad row fails the whole file. A file with a header and no
// tasks gives an empty list.
Result<std::vector<CsvQueueTask>> ParseCsvQueue(std::string_view text, int* error_line = nullptr);

}  // namespace gpuq

#endif  // GPUQ_COMMON_CSV_QUEUE_H_
