#ifndef GPUQ_COMMON_POLICY_H_
#define GPUQ_COMMON_POLICY_H_

// The scheduling policy: a pure function from one cluster snapshot and the queue to the
// placements of this cycle (DESIGN.md, "Scheduling rules"). No I/O, no clock (the snapshot
// carries `now`), no threads, no state between calls: the same input gives the same output.
// Thread-safe (it shares nothing). "Does not fit" is a normal result with a reason that
// `gpuq show` prints, never an error.
//
// FILTERS. A task fits a node when all of these hold (first failing one is the reason):
//   - the node is available ("node n3: unavailable (connection refused)") and schedulable
//     ("node n1: not schedulable"); its name is the task's node constraint, if any;
//   - the node is below max_running_per_node, when set;
//   - CPU-only tasks (gpus == 0) need nothing more;
//   - at least `gpus` of its eligible GPUs pass the GPU rules ("node n2: 1 of 2 GPUs free
//     (gpu 0: held by run 7 of task 3; gpu 3: 30 GiB in use by pid 4121)"). Eligible = model
//     contains the task's gpu_model (case-insensitive) and index is in gpu_ids, when set.
// GPU rules, in order:
//   - known and healthy: index >= 0, GpuView::error empty ("gpu 2: failing (GPU is lost)"),
//     total memory and used-memory samples known ("gpu 2: memory unknown"); utilisation
//     samples known when the task needs utilisation ("gpu 2: utilisation unknown");
//   - not held by a gpuq run, including placements made earlier in the same pass ("gpu 0:
//     held by run 7 of task 3", "gpu 0: given to task 12 in this pass"). Exception,
//     sharing: a task with share, a memory need and not exclusive may join a GPU whose
//     holders all share (with a memory need), while foreign use (window-max used minus
//     what the holders' processes use) + the declared memory of every holder + its own
//     need <= total memory ("gpu 0: 30 GiB does not fit beside shared runs (60 GiB
//     declared, 0 MiB other use, 80 GiB total)"). The next rule also applies, so a holder
//     that uses more than it declared is seen;
//   - exclusive tasks: no foreign compute process ("gpu 3: 30 GiB in use by pid 4121") and
//     window-max used memory <= exclusive_max_mem_used_mib ("gpu 3: 30 GiB in use, no
//     process listed");
//   - every GPU task: total - window-max used - promised >= mem need ("gpu 1: 10 GiB free,
//     needs 20 GiB") and 100 - window-max utilisation >= util need ("gpu 1: 20% utilisation
//     free, needs 50%"). The window is the last max_samples samples: one quiet sample among
//     busy ones does not make a GPU free. Promised = declared memory of holders whose
//     process has not been seen and that started less than promise_grace_ms ago (placements
//     of this pass included), so tasks placed seconds apart do not pile onto one GPU;
//   - the GPU is not reserved for a task ahead in the queue (see BACKFILL).
// A task with no memory and no utilisation need takes any healthy GPU that no gpuq run
// holds; the submit path chooses defaults.
//
// ORDER. Tasks are considered by: priority (higher first), then fair share (fewer recent
// GPU-hours of the task's user first; usage is an input and does not change within a pass),
// then submitted_at (earlier first), then id. Each task is placed on the best fitting node
// or gets a waiting reason; a task that cannot run does not stop the ones behind it, except
// through the reservation below.
//
// CHOICE. Among fitting nodes: the fewest passing GPUs left over after the placement (best
// fit: keeps whole nodes free for big tasks), then lowest NodeId, then name. CPU-only tasks:
// the node with the fewest running runs, then lowest NodeId. Among passing GPUs of a node:
// indices in prefer_gpus first; sharing tasks then GPUs that already hold sharing runs (pack
// sharers, keep whole GPUs free); then more free memory (whole GiB) for non-exclusive tasks;
// then lowest index. gpu_indices of a placement are sorted ascending.
//
// BACKFILL (a single reservation, like Slurm's backfill with one planned job). The first
// task in order that (a) needs GPUs, (b) cannot be placed now, (c) is not held by a cap and
// can ever run, and (d) has a node where it could start once gpuq runs end, holds a
// reservation for the rest of the pass:
//   - for each node passing the node filters, each eligible healthy GPU gets a free time:
//     now if it passes the GPU rules now; else, if it would pass with all its gpuq holders
//     gone (foreign use only counted), the latest expected_end of its holders (unknown if
//     a holder has no time limit); else never (foreign use, failure: cannot be predicted).
//   - on each node the task would take the `gpus` GPUs with the earliest free times (known
//     before unknown, then preference order); the node's start is the latest of them.
//   - the reservation is on the node with the earliest known start (ties: lowest NodeId).
//     If no node has a known start, on the node needing the fewest GPUs of unknown free
//     time, then the earliest latest-known time, with start_at empty — unless
//     reserve_when_start_unknown is false, in which case no reservation is made.
//     If no node qualifies (only foreign use or failures block it), the next task in order
//     may take the reservation.
// A task after it in the order may use a reserved GPU only if it has a time limit and
// now + time_limit <= start_at (it ends before the reserved task could start anyway). With
// an unknown start_at no task may use the reserved GPUs: they stay free for the reserved
// task, which starts as soon as the blocking runs end; tasks that do not touch them run as
// usual. So a stream of small tasks cannot starve a big one: they can only take its GPUs
// when they end in time.
//
// CAPS (0 = unlimited): max_running_total and max_running_per_user hold a task back with a
// reason ("user alice is at max_running_per_user (2 running)"); max_running_per_node is a
// node filter. Runs placed earlier in the pass count. Caps do not create reservations.
//
// NEVER FITS. A task that no registered node could ever satisfy, whatever runs end (too
// many GPUs, too much memory, a model or node that does not exist), gets "can never run:
// <NeverFitsReason>" as its waiting reason and holds no reservation.
//
// WAITING REASON. Written once every placement of the pass is made, so it describes what
// the task meets now (and what the next pass will see): GPUs given to tasks later in the
// order show as "given to task N in this pass". One line: the reason of the closest node (passing the node filters
// before not; enough eligible GPUs before too few; then the most passing GPUs; then node
// order), at most 3 GPU reasons then "N more", followed by "; N more nodes do not fit" when
// others were considered. A task that fits but for the reservation says so: "held back by
// the reservation for task 12 (node n1 gpus 0,1) from <RFC 3339>: only tasks that end by
// then may use those GPUs". The reserved task's reason ends with "; reserved node n1 gpus
// 0,1, expected to start by <RFC 3339>" (or "start unknown (...)").
//
// SPEED. Per-GPU values are digested once per pass; nodes with too few GPUs free of gpuq
// runs (for sharing tasks: free or shared) are skipped without looking at their GPUs.
// Within a pass capacity only shrinks, so a task at least as big (gpus, mem_mib, util_pct)
// as one that already failed in the same class (exclusive, sharing, node, model, gpu_ids,
// may use the reservation) fails without a search. Reasons are built after the last
// placement, once per class, size and reservation state, and shared by the tasks that have
// them (WaitingReasons). Never-fits is answered from a per-class capacity summary. Model
// and gpu_ids matches are judged once per pass for each distinct pair; a node's count of
// passing GPUs is reused for tasks with the same class and needs until the node gets a
// placement; looking for the closest node skips nodes that cannot be closer without judging
// their GPUs. The cost of a pass is about O(placements x GPUs + distinct failing shapes x
// nodes + queue x log); bench/policy_bench measures it (10 000 tasks, 100 nodes x 8 GPUs).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/snapshot.h"
#include "common/waiting_reasons.h"

namespace gpuq {

struct PolicyOptions {
  // Most memory an exclusive task tolerates on an otherwise idle GPU. An idle data-centre
  // GPU reports 0-20 MiB; a workstation GPU that drives a display (Xorg, a desktop) shows
  // 100-400 MiB; any real CUDA program holds at least its context (~300 MiB) plus its
  // data, and a process we cannot see (another container) still shows up here. 512 MiB
  // lets display-only GPUs count as free while a GPU holding gigabytes never does.
  int64_t exclusive_max_mem_used_mib = 512;

  // How long a started run's declared memory counts as used while none of its processes
  // has shown up on the GPU: long enough for an environment to load and allocate, short
  // enough that a task that never touches its GPU does not block it for long.
  int64_t promise_grace_ms = 60'000;

  // Samples judged per GPU: the last max_samples entries of the recent_* vectors
  // (0 = all that the snapshot provides).
  int max_samples = 0;

  // Concurrency caps, 0 = unlimited. Counted over runs starting or running plus the
  // placements made earlier in the same pass.
  int max_running_total = 0;
  int max_running_per_user = 0;
  int max_running_per_node = 0;

  // When the reserved task's start cannot be computed (a run blocking it has no time
  // limit), still reserve GPUs for it (they stay idle until the blocking runs end) rather
  // than let every smaller task go ahead. See BACKFILL above.
  bool reserve_when_start_unknown = true;
};

// Start `task` on `node` with these GPUs (nvidia-smi indices, ascending; empty = CPU-only).
struct Placement {
  TaskId task;
  NodeId node;
  std::vector<int> gpu_indices;
  friend bool operator==(const Placement&, const Placement&) = default;
};

// GPUs held for the first waiting task (see BACKFILL).
struct Reservation {
  TaskId task;
  NodeId node;
  std::string node_name;
  std::vector<int> gpu_indices;  // ascending
  // When the task is expected to start; empty when a blocking run has no time limit.
  std::optional<UnixMs> start_at;
  friend bool operator==(const Reservation&, const Reservation&) = default;
};

struct Decision {
  // In the order they were decided (queue order). No GPU appears in two placements unless
  // both tasks share and their memory fits.
  std::vector<Placement> placements;
  // One line for every task of the queue that was not placed.
  WaitingReasons waiting_reasons;
  std::optional<Reservation> reservation;
};

// Decides which queued tasks start now and where (rules above).
// REQUIRES: task ids in `queue` are distinct; node ids in the snapshot are distinct.
// Invalid requests (negative gpus or memory, util_pct outside 0..100) are never placed;
// their waiting reason says why.
Decision Schedule(const ClusterSnapshot& snapshot, std::span<const TaskRequest> queue,
                  const PolicyOptions& options = PolicyOptions());

// Why no registered node could ever run `task`, whatever ends or frees up, or nullopt
// when some node could. Judges capacity only: node names, GPU models, GPU counts, total
// memory, gpu_ids; nodes that are down, unschedulable or failing still count (they may
// come back); a GPU with unknown total memory counts as large enough; an unavailable
// node whose GPUs were never seen counts as able to run anything. Texts (no prefix):
//   "no node has 4 GPUs of at least 80 GiB", "no node has model 'A100'",
//   "no node named 'n9'", "node n1 does not have 2 GPUs of model 'A100'",
//   "no node is registered", "util_pct must be between 0 and 100".
// The submit path can call this to warn; Schedule prefixes it with "can never run: ".
std::optional<std::string> NeverFitsReason(const ClusterSnapshot& snapshot,
                                           const TaskRequest& task);

}  // namespace gpuq

#endif  // GPUQ_COMMON_POLICY_H_
