// Micro-benchmarks of the pure parsers on the master's hot paths: what every probe of a
// node reads (nvidia-smi, gpustat, ps), what every submission reads (a task's JSON body,
// memory sizes), and a CSV queue import. Inputs are the captured outputs in tests/data/.
//   build/bench/parse_bench
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "common/csv_queue.h"
#include "common/gpu_probe_parse.h"
#include "common/task_spec.h"
#include "common/units.h"

namespace {

std::string ReadData(const std::string& name) {
  std::ifstream in(std::string(GPUQ_TEST_DATA_DIR) + "/" + name);
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().empty()) {
    std::fprintf(stderr, "missing test data: %s\n", name.c_str());
    std::abort();
  }
  return text.str();
}

void BM_ParseQueryGpuCsv_8xH100(benchmark::State& state) {
  const std::string text = ReadData("nvidia_smi_query_gpu_8x_h100.txt");
  for (auto _ : state) {
    auto gpus = gpuq::ParseQueryGpuCsv(text);
    if (!gpus.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(gpus);
  }
}
BENCHMARK(BM_ParseQueryGpuCsv_8xH100);

void BM_ParseComputeAppsCsv_8xH100(benchmark::State& state) {
  const std::string text = ReadData("nvidia_smi_compute_apps_8x_h100.txt");
  for (auto _ : state) {
    auto apps = gpuq::ParseComputeAppsCsv(text);
    if (!apps.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(apps);
  }
}
BENCHMARK(BM_ParseComputeAppsCsv_8xH100);

// A whole probe as the node link digests it: GPUs, their processes, the processes' users.
void BM_DigestProbe_8xH100(benchmark::State& state) {
  const std::string gpu_text = ReadData("nvidia_smi_query_gpu_8x_h100.txt");
  const std::string apps_text = ReadData("nvidia_smi_compute_apps_8x_h100.txt");
  std::string ps_text;
  for (int pid = 90417; pid <= 90424; ++pid) ps_text += " " + std::to_string(pid) + " alice\n";
  for (auto _ : state) {
    auto gpus = gpuq::ParseQueryGpuCsv(gpu_text);
    auto apps = gpuq::ParseComputeAppsCsv(apps_text);
    if (!gpus.ok() || !apps.ok()) state.SkipWithError("parse failed");
    gpuq::AttachProcesses(*apps, &*gpus);
    gpuq::AttachProcessUsers(ps_text, &*gpus);
    benchmark::DoNotOptimize(gpus);
  }
}
BENCHMARK(BM_DigestProbe_8xH100);

void BM_ParseGpustatJson_4xV100(benchmark::State& state) {
  const std::string text = ReadData("gpustat_4x_v100.json");
  for (auto _ : state) {
    auto gpus = gpuq::ParseGpustatJson(text);
    if (!gpus.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(gpus);
  }
}
BENCHMARK(BM_ParseGpustatJson_4xV100);

// A submission body as the API receives it: JSON text to a validated spec.
void BM_ParseTaskSpec(benchmark::State& state) {
  const std::string body =
      R"({"command": "python train.py --lr 0.1 --epochs 90", "name": "train", "gpus": 2,)"
      R"( "mem_mib": 20480, "time_limit_s": 7200, "priority": 1, "gpu_model": "A100",)"
      R"( "env": {"WANDB_PROJECT": "lab", "SEED": "3"}, "retries": 1, "notify": "end"})";
  for (auto _ : state) {
    auto spec = gpuq::ParseTaskSpec(nlohmann::json::parse(body));
    if (!spec.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(spec);
  }
}
BENCHMARK(BM_ParseTaskSpec);

void BM_ParseMemMib(benchmark::State& state) {
  for (auto _ : state) {
    auto mib = gpuq::ParseMemMib("20.5G");
    benchmark::DoNotOptimize(mib);
  }
}
BENCHMARK(BM_ParseMemMib);

// `gpuq import` of a 1000-row queue file.
void BM_ParseCsvQueue_1000Rows(benchmark::State& state) {
  std::string text = "task_id,task_name,command,work_dir,n_gpus,execution,notify\n";
  for (int i = 0; i < 1000; ++i) {
    text += std::to_string(i) + ",run" + std::to_string(i) + ",\"python train.py --seed " +
            std::to_string(i) + "\",/home/alice/exp," + std::to_string(1 + i % 4) + ",Yes,No\n";
  }
  for (auto _ : state) {
    auto tasks = gpuq::ParseCsvQueue(text);
    if (!tasks.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(tasks);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_ParseCsvQueue_1000Rows)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
