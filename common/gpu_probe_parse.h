#ifndef GPUQ_COMMON_GPU_PROBE_PARSE_H_
#define GPUQ_COMMON_GPU_PROBE_PARSE_H_

// Pure parsers of what a node's GPU tools print. No I/O: text in, typed value or a clear
// error out. Every function here is safe on any input (fuzzed in tests/fuzz/): it never
// crashes, never throws, and allocates no more than a small multiple of the input size.
//
// Error messages quote the offending line, cut to ~120 bytes, with control and non-ASCII
// bytes shown as \xNN, so a message is always printable and valid UTF-8. GpuStatus::error
// texts are escaped the same way. Names (GPU model, process name, user) are kept as given.

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
inline constexpr std::string_view kQueryComputeAppsFields = "gpu_uuid,pid,used_memory,process_name";

// GpuStatus::index of a GPU that nvidia-smi could not open (see ParseQueryGpuCsv).
inline constexpr int kUnknownGpuIndex = -1;

// Parses --query-gpu output (kQueryGpuFields).
//
// On success returns one GpuStatus per row, in output order:
// - Fields are separated by "," (nvidia-smi writes ", "); surrounding blanks are trimmed.
//   GPU names may contain spaces. A first line starting with "index," (csv without
//   noheader) is skipped; blank lines, "\r\n" and a missing final newline are accepted.
// - A bracketed value ("[N/A]", "[Not Supported]", "[Insufficient Permissions]", ...)
//   leaves the field empty (std::nullopt, or "" for text fields). A bracketed value that
//   names a failure ("[Unknown Error]", "[GPU requires reset]", "[GPU is lost]": anything
//   containing "error", "lost" or "reset") also sets GpuStatus::error to its text, so the
//   GPU is shown but never scheduled on.
// - "No devices were found" gives an empty vector and OK: a node without GPUs.
// - A line about one GPU that the driver cannot open, e.g.
//     "Unable to determine the device handle for GPU0000:3B:00.0: Unknown Error"
//     "Unable to determine the device handle for GPU 0000:02:00.0: GPU is lost. Reboot ..."
//     "GPU 00000000:3B:00.0: GPU is lost..."
//   does not fail the parse: the other GPUs are still usable. It becomes a GpuStatus with
//   index = kUnknownGpuIndex, pci_bus_id normalised to nvidia-smi's 8-digit-domain form
//   ("00000000:3B:00.0"), error = the driver's text, and every other field empty. The index
//   is left unknown rather than guessed from the line's position: nvidia-smi writes these
//   lines to stderr, so where they land among the rows depends on how the streams were
//   joined. If a row with the same bus id exists, the error is set on that row instead.
//   These entries come after the rows.
//
// On failure:
// - kUnavailable, message = the tool's text: the driver cannot be reached ("NVIDIA-SMI has
//   failed because it couldn't communicate with the NVIDIA driver...", "Failed to
//   initialize NVML: ...", "NVIDIA-SMI couldn't find libnvidia-ml.so ...").
// - kCorruption "empty output": no text, or only blanks.
// - kCorruption "line N: <why>: \"<line>\"": a row with the wrong number of fields (e.g. a
//   truncated last row), a non-numeric or out-of-range number (index 0..4095, util
//   0..100), a malformed uuid ("GPU-..." or "MIG-...") or bus id, an empty GPU name or
//   one with control bytes, a repeated index, or anything else.
Result<std::vector<GpuStatus>> ParseQueryGpuCsv(std::string_view text);

// Parses --query-compute-apps output (kQueryComputeAppsFields). Empty text, "No running
// processes found" and "No devices were found" give no processes. Everything after the third
// separator is the process name (names may contain commas); a bracketed name ("[Not Found]")
// gives "". used_memory "[N/A]" (MIG, WDDM) gives an empty mem_mib. Lost-GPU lines (see
// ParseQueryGpuCsv) are skipped: the GPU query reports them. A first line starting with
// "gpu_uuid," is skipped as a header. `user` is left empty (see AttachProcessUsers).
// Failures: kUnavailable for driver failures, kCorruption "line N: ..." for malformed rows.
Result<std::vector<GpuProcess>> ParseComputeAppsCsv(std::string_view text);

// Parses `gpustat --json` (gpustat 1.x): GPUs with their processes and users.
// Keys used: gpus[].index (required integer), uuid, name, "memory.total", "memory.used",
// "utilization.gpu", "temperature.gpu", processes[] {pid (required), username, command,
// gpu_memory_usage}. Any of the others may be null or missing (empty field); processes null
// or missing = none. Each process gets its GPU's uuid; username -> user, command -> name,
// gpu_memory_usage -> mem_mib. Other keys are ignored.
// Failures: kUnavailable when gpustat says it could not query the devices ("Error on
// querying NVIDIA devices") or the driver failed; kCorruption "empty output", for text that
// is not JSON, nested deeper than 64 levels, or a value of the wrong type or range (the
// message names its path, e.g. "gpus[1].memory.used").
Result<std::vector<GpuStatus>> ParseGpustatJson(std::string_view text);

// Parses `ps -o pid=,user= -p PID,...` output ("  4121 alice" per line) and sets `user` on
// the processes of `gpus` whose pid it lists, overwriting what was there. Lines that are not
// exactly a positive pid and a user name are ignored. Note that ps shows a user name longer
// than its column as a uid or cut with "+"; ask for `user:32=` to avoid that.
// REQUIRES: gpus != nullptr (a null pointer is ignored).
void AttachProcessUsers(std::string_view ps_text, std::vector<GpuStatus>* gpus);

// Appends each process to the GPU whose uuid it names (existing processes are kept).
// Processes naming an unknown or empty uuid (e.g. a MIG device's parent not listed) are
// dropped. A pid already on that GPU is merged into one entry rather than listed twice
// (nvidia-smi lists a process once per MIG instance it uses): its memory is the sum, or
// empty if either part is unknown.
// REQUIRES: gpus != nullptr (a null pointer is ignored).
void AttachProcesses(const std::vector<GpuProcess>& processes, std::vector<GpuStatus>* gpus);

}  // namespace gpuq

#endif  // GPUQ_COMMON_GPU_PROBE_PARSE_H_
