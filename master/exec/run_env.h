#ifndef GPUQ_MASTER_EXEC_RUN_ENV_H_
#define GPUQ_MASTER_EXEC_RUN_ENV_H_

// Pieces of a run's environment script (env.sh on the node, sourced by bash -l before the
// command; see remote_side.sh). Pure: text in, text out.

#include <string>
#include <vector>

namespace gpuq {

// GPUQ_GPU, the old queue scripts' GPU=cuda<N> under gpuq's prefix: "cuda<N>" for each GPU
// of the run, with N its nvidia-smi index (the numbers CUDA_VISIBLE_DEVICES and
// allocated_gpus show), comma-separated: "cuda2", "cuda0,cuda3"; "" for a CPU-only run.
std::string GpuqGpuValue(const std::vector<int>& gpu_indices);

// Shell lines that activate the task's environment, or "" when it has none. REQUIRES: not
// both set (ValidateTaskSpec refuses it).
//   venv PATH: sources PATH/bin/activate ("~/" is the account's home; a relative path is
//     relative to the workdir). Missing: "gpuq: venv not found: ..." in the run's log and
//     exit code 127, the command does not run.
//   conda ENV (a name or a prefix path): uses the shell's `conda` function when the login
//     set-up defined one; else the conda executable from $CONDA_EXE, PATH or the usual
//     install folders (~/miniconda3, ~/anaconda3, ~/miniforge3, ~/mambaforge, /opt/conda,
//     ...) through `conda shell.bash hook`; then `conda activate ENV`. Conda missing or
//     the environment missing: a "gpuq: ..." line in the log and exit code 127.
std::string ActivationScript(const std::string& conda, const std::string& venv);

}  // namespace gpuq

#endif  // GPUQ_MASTER_EXEC_RUN_ENV_H_
