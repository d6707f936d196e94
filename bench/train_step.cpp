// One training step of a model shape, timed: median ms/step, tokens/s, the cores kept busy
// (process CPU time over wall time; the pool's brief spinning counts as busy), achieved
// GFLOP/s and its fraction of the sgemm peak measured in the same run, the bar the trainer
// aims at (step FLOPs / measured sgemm GFLOP/s x 1.3), the same ratio paired step by step
// with a peak measured right after each step (the machine's speed wanders between the two
// measurements less than across the whole run), where the time goes, and a per-op profile
// of each layer kernel (medians of five profiled runs).
//   bench_train_step [config=stories110M] [threads=2] [steps=4] [static|dynamic]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <sys/resource.h>
#include <vector>

#include "core/cpu_features.h"
#include "core/timer.h"
#include "formats/model_config.h"
#include "train/run.h"
#include "train/trainer.h"

using namespace ane;

constexpr int kProfileRuns = 5;

// A kernel's per-op profile with each op's time the median of kProfileRuns runs (the ops
// come in the same order every run). False if profiling fails.
static bool median_profile(Kernel& kernel, std::vector<StepProfile>& out) {
  std::vector<std::vector<double>> ms;
  for (int run = 0; run < kProfileRuns; ++run) {
    std::vector<StepProfile> prof;
    if (!kernel.profile(prof).ok()) return false;
    if (run == 0) {
      out = prof;
      ms.resize(prof.size());
    }
    for (size_t i = 0; i < std::min(prof.size(), ms.size()); ++i) ms[i].push_back(prof[i].ms);
  }
  for (size_t i = 0; i < out.size(); ++i) {
    std::nth_element(ms[i].begin(), ms[i].begin() + ms[i].size() / 2, ms[i].end());
    out[i].ms = ms[i][ms[i].size() / 2];
  }
  return true;
}

// This process's CPU time (user + system) so far, in ms.
static double cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3; };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

int main(int argc, char** argv) {
  // Positional arguments only; flags meant for the Google Benchmark programs (`make bench`
  // passes --benchmark_min_time to every bench_*) are ignored.
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]).rfind("--", 0) != 0) args.emplace_back(argv[i]);
  }
  const std::string name = args.size() > 0 ? args[0] : "stories110M";
  const int threads = args.size() > 1 ? std::atoi(args[1].c_str()) : 2;
  const int steps = std::max(args.size() > 2 ? std::atoi(args[2].c_str()) : 4, 1);
  const bool is_static = args.size() > 3 && args[3] == "static";
  auto config = config_from_name_or_file(name);
  if (!config.ok()) return std::fprintf(stderr, "%s\n", config.error().to_string().c_str()), 1;
  auto weights = train::init_weights(*config, 1);
  auto engine = Engine::create(EngineOptions{.threads = threads, .compile_budget = 0});
  train::TrainerOptions o;
  o.threads = threads;
  o.pipeline = is_static ? train::Pipeline::kStatic : train::Pipeline::kDynamic;
  auto trainer = train::Trainer::create(**engine, std::move(weights).value(), o);
  if (!trainer.ok()) return std::fprintf(stderr, "%s\n", trainer.error().to_string().c_str()), 1;
  train::Trainer& t = **trainer;

  // The peak is measured before and after the steps and the higher one kept: a neighbour
  // taking a core during one measurement would otherwise flatter the ratio.
  const double peak_before = train::measure_peak_gflops(threads);
  std::mt19937_64 rng(7);
  std::vector<uint16_t> window(static_cast<size_t>(config->seq_len + 1));
  std::vector<double> ms, paired;  // paired: each step against the peak measured right after it
  train::TrainerTimes before{};
  double cpu_before = 0, peaks_ms = 0;
  for (int s = 0; s <= steps; ++s) {
    for (auto& tok : window) tok = static_cast<uint16_t>(rng() % static_cast<uint64_t>(config->vocab_size));
    if (s == 1) before = t.times(), cpu_before = cpu_ms();  // step 0 warms up (first-touch of every buffer)
    const Timer timer;
    if (!t.accumulate(window).ok() || !t.step().ok()) return std::fprintf(stderr, "step failed\n"), 1;
    if (s == 0) continue;
    ms.push_back(timer.ms());
    const double cpu_at = cpu_ms();
    paired.push_back(ms.back() / (t.flops_per_window() / train::measure_peak_gflops(threads) / 1e6));
    peaks_ms += cpu_ms() - cpu_at;  // kept out of the cores-busy figure
  }
  const train::TrainerTimes after = t.times();
  const double steps_cpu_ms = cpu_ms() - cpu_before - peaks_ms;
  std::sort(ms.begin(), ms.end());
  std::sort(paired.begin(), paired.end());
  const double median = ms[ms.size() / 2];
  const double peak = std::max(peak_before, train::measure_peak_gflops(threads));
  const double flops = t.flops_per_window();
  const double gflops = flops / (median / 1e3) / 1e9;
  std::printf("%s, seq %d, %d threads, %s pipeline, %d steps; %s (%s)\n", config->name.c_str(), config->seq_len,
              threads, is_static ? "static" : "dynamic", steps, cpu_features().brand.c_str(),
              cpu_features().summary().c_str());
  std::printf("  step        %.1f ms median (min %.1f), %.0f tokens/s, %.2f of %d cores busy\n", median, ms.front(),
              config->seq_len / (median / 1e3), steps_cpu_ms / std::accumulate(ms.begin(), ms.end(), 0.0), threads);
  std::printf("  achieved    %.1f GFLOP/s of %.1f GFLOP/step = %.0f%% of the measured sgemm peak (%.1f GFLOP/s)\n",
              gflops, flops / 1e9, 100 * gflops / peak, peak);
  std::printf("  bar         step <= 1.3 x FLOPs / peak = %.1f ms: %s (%.2fx of ideal)\n", 1.3 * flops / peak / 1e6,
              median <= 1.3 * flops / peak / 1e6 ? "met" : "not met", median / (flops / peak / 1e6));
  std::printf("  paired      each step over the ideal from a peak measured right after it: median %.2fx (%.2f-%.2fx)\n",
              paired[paired.size() / 2], paired.front(), paired.back());
  const double n = steps;
  const double kernels_ms = (after.kernels - before.kernels) / n, cpu_ms = (after.cpu - before.cpu) / n,
               classifier_ms = (after.classifier - before.classifier) / n,
               optimizer_ms = (after.optimizer - before.optimizer) / n, compile_ms = (after.compile - before.compile) / n,
               streaming_ms = (after.streaming - before.streaming) / n;
  const double mean_ms = std::accumulate(ms.begin(), ms.end(), 0.0) / n;
  std::printf("  per step    kernels %.1f ms, classifier %.1f ms, CPU ops and GEMMs %.1f ms, optimizer %.1f ms,\n"
              "              compile %.1f ms, weight streaming %.1f ms, surfaces and the rest %.1f ms (of the mean step %.1f ms)\n",
              kernels_ms, classifier_ms, cpu_ms, optimizer_ms, compile_ms, streaming_ms,
              mean_ms - kernels_ms - classifier_ms - cpu_ms - optimizer_ms - compile_ms - streaming_ms, mean_ms);
  // Where each layer kernel spends its time (layer 0, inputs as the last step left them):
  // each op's median over a few profiled runs, as one run is at the machine's mercy.
  train::KernelSet& kernels = t.kernels();
  for (size_t k = 0; k < train::kLayerKernelCount; ++k) {
    auto kernel = kernels.get(static_cast<train::LayerKernel>(k), 0);
    std::vector<StepProfile> prof;
    if (!kernel.ok() || !median_profile(**kernel, prof)) continue;
    double total = 0, gemm_flops = 0, gemm_ms = 0;
    std::map<std::string, double> by_type;
    for (const StepProfile& p : prof) {
      total += p.ms;
      by_type[p.op_type] += p.ms;
      if (p.op_type == "conv" || p.op_type == "matmul" || p.op_type == "linear") gemm_ms += p.ms, gemm_flops += p.flops;
    }
    std::vector<std::pair<double, std::string>> top;
    for (const auto& [type, m] : by_type) top.emplace_back(m, type);
    std::sort(top.rbegin(), top.rend());
    static const char* kNames[] = {"attention_forward", "ffn_forward", "ffn_backward", "sdpa_backward1",
                                   "sdpa_backward2", "qkv_backward"};
    std::printf("  %-18s %6.1f ms; GEMMs %.1f ms at %.0f GFLOP/s; by op:", kNames[k], total, gemm_ms,
                gemm_ms > 0 ? gemm_flops / gemm_ms / 1e6 : 0.0);
    for (size_t i = 0; i < std::min<size_t>(5, top.size()); ++i) std::printf(" %s %.1f", top[i].second.c_str(), top[i].first);
    std::sort(prof.begin(), prof.end(), [](const StepProfile& a, const StepProfile& b) { return a.ms > b.ms; });
    std::printf("\n    slowest steps:");
    for (size_t i = 0; i < std::min<size_t>(4, prof.size()); ++i) std::printf(" [%s %.1f ms]", prof[i].name.c_str(), prof[i].ms);
    std::printf("\n");
  }
  return 0;
}
