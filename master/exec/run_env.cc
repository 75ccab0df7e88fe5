#include "master/exec/run_env.h"

#include "common/shell_quote.h"

namespace gpuq {

std::string GpuqGpuValue(const std::vector<int>& gpu_indices) {
  std::string out;
  for (int index : gpu_indices) out += (out.empty() ? "cuda" : ",cuda") + std::to_string(index);
  return out;
}

std::string ActivationScript(const std::string& conda, const std::string& venv) {
  if (!venv.empty()) {
    return "__gpuq_venv=" + ShellQuote(venv) +
           "\n"
           "case $__gpuq_venv in \"~/\"*) __gpuq_venv=$HOME/${__gpuq_venv#\"~/\"} ;; esac\n"
           "if [ ! -f \"$__gpuq_venv/bin/activate\" ]; then\n"
           "  echo \"gpuq: venv not found: '$__gpuq_venv' has no bin/activate"
           " (make it on this node with: python3 -m venv '$__gpuq_venv')\" >&2\n"
           "  exit 127\n"
           "fi\n"
           ". \"$__gpuq_venv/bin/activate\" || {\n"
           "  echo \"gpuq: cannot activate the venv '$__gpuq_venv'\" >&2\n"
           "  exit 127\n"
           "}\n"
           "unset __gpuq_venv\n";
  }
  if (conda.empty()) return "";
  return "__gpuq_conda_env=" + ShellQuote(conda) +
         "\n"
         "if [ \"$(type -t conda)\" != function ]; then\n"
         "  __gpuq_conda=\n"
         "  if [ -n \"${CONDA_EXE:-}\" ] && [ -x \"$CONDA_EXE\" ]; then\n"
         "    __gpuq_conda=$CONDA_EXE\n"
         "  elif [ \"$(type -t conda)\" = file ]; then\n"
         "    __gpuq_conda=$(command -v conda)\n"
         "  else\n"
         "    for __gpuq_d in \"$HOME/miniconda3\" \"$HOME/anaconda3\" \"$HOME/miniforge3\" "
         "\"$HOME/mambaforge\" \"$HOME/.conda\" /opt/conda /opt/miniconda3 /opt/anaconda3 "
         "/opt/miniforge3 /usr/local/miniconda3 /usr/local/anaconda3; do\n"
         "      if [ -x \"$__gpuq_d/bin/conda\" ]; then __gpuq_conda=$__gpuq_d/bin/conda; break; "
         "fi\n"
         "    done\n"
         "  fi\n"
         "  if [ -z \"$__gpuq_conda\" ]; then\n"
         "    echo \"gpuq: conda not found (no conda after the login shell set-up, no CONDA_EXE,"
         " none in ~/miniconda3, ~/anaconda3, ~/miniforge3, ~/mambaforge or /opt/conda);"
         " cannot activate '$__gpuq_conda_env'\" >&2\n"
         "    exit 127\n"
         "  fi\n"
         "  eval \"$(\"$__gpuq_conda\" shell.bash hook)\" || {\n"
         "    echo \"gpuq: '$__gpuq_conda shell.bash hook' failed\" >&2\n"
         "    exit 127\n"
         "  }\n"
         "fi\n"
         "conda activate \"$__gpuq_conda_env\" || {\n"
         "  echo \"gpuq: conda cannot activate the environment '$__gpuq_conda_env'\" >&2\n"
         "  exit 127\n"
         "}\n"
         "unset __gpuq_conda __gpuq_conda_env __gpuq_d\n";
}

}  // namespace gpuq
