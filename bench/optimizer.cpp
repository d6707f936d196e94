// The optimizer's share of a step on Stories110M (1.76 GB of fp32 weights, gradients and
// moments), against a memory-bandwidth baseline measured in the same run:
//   BM_AdamWStep/T     AdamW::step over every tensor on T threads, writing the fp16 weight
//                      copies too
//   BM_GlobalNorm      the gradient norm clipping needs before that pass
//   BM_MemoryBaseline  a plain loop with AdamW's traffic (4 fp32 streams read, 3 written) and
//                      none of its arithmetic: what this machine's memory allows
// Each reports GB/s over the bytes it must move; the ratio to the baseline is the fraction
// of the memory bandwidth the pass reaches.
//   build/bench/bench_optimizer --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <vector>

#include "core/thread_pool.h"
#include "formats/model_config.h"
#include "train/optimizer.h"
#include "train/run.h"

namespace {

using namespace ane;

constexpr int kThreads = 2;

struct State {
  ModelWeights weights, grads;
  train::AdamW adam;
  std::vector<std::vector<half_bits>> halves;
  std::vector<train::HalfCopy> copies;
};

State& stories110m() {
  static State* s = [] {
    auto config = model_preset("stories110M");
    auto* st = new State{train::init_weights(*config, 1).value(), train::init_weights(*config, 2).value(),
                         train::AdamW::create(*config, {}).value(), {}, {}};
    // fp16 copies of the layer matrices, as the dynamic pipeline keeps them.
    for (auto& t : st->weights.tensors()) {
      if (t.shape.size() != 2 || t.name == "embedding" || t.name == "classifier") continue;
      st->halves.emplace_back(t.data.size());
      st->copies.push_back({t.data.data(), st->halves.back()});
    }
    return st;
  }();
  return *s;
}

size_t parameter_count(const ModelWeights& w) {
  size_t n = 0;
  for (const auto& t : w.tensors()) n += t.data.size();
  return n;
}

void BM_AdamWStep(benchmark::State& state) {
  State& s = stories110m();
  ThreadPool pool(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    if (Status st = s.adam.step(s.weights, s.grads, 1e-6, 1.0f, pool, s.copies); !st.ok()) {
      state.SkipWithError(st.error().to_string().c_str());
      return;
    }
  }
  size_t half_bytes = 0;
  for (const auto& h : s.halves) half_bytes += h.size() * sizeof(half_bits);
  const double bytes = static_cast<double>(parameter_count(s.weights)) * 4 * 7 + static_cast<double>(half_bytes);
  state.counters["GB/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_GlobalNorm(benchmark::State& state) {
  State& s = stories110m();
  ThreadPool pool(kThreads);
  for (auto _ : state) benchmark::DoNotOptimize(train::global_norm(s.grads, pool));
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(parameter_count(s.grads)) * 4,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

void BM_MemoryBaseline(benchmark::State& state) {
  State& s = stories110m();
  ThreadPool pool(kThreads);
  auto w = s.weights.tensors(), g = s.grads.tensors(), m = s.adam.m().tensors(), v = s.adam.v().tensors();
  for (auto _ : state) {
    for (size_t t = 0; t < w.size(); ++t) {
      pool.parallel_for(w[t].data.size(), size_t{1} << 16, [&](size_t b, size_t e) {
        float* __restrict wp = w[t].data.data();
        float* __restrict mp = m[t].data.data();
        float* __restrict vp = v[t].data.data();
        const float* __restrict gp = g[t].data.data();
        for (size_t i = b; i < e; ++i) {
          mp[i] += gp[i];
          vp[i] += wp[i];
          wp[i] += mp[i] - vp[i];
        }
      });
    }
    benchmark::ClobberMemory();
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(parameter_count(s.weights)) * 4 * 7,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_MemoryBaseline)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
// Its argument is the thread count: one thread's pass is what AdamW would take beside a
// kernel running on the other core.
BENCHMARK(BM_AdamWStep)->Arg(kThreads)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_GlobalNorm)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);

}  // namespace

BENCHMARK_MAIN();
