// The CPU backend against its baselines, each ratio measured within one run:
//   BM_RawGemm vs BM_EngineConv   a 1x1 conv through a compiled plan vs the bare BLIS call
//                                 (same shape, same threads); target >= 90%
//   BM_Chain fused vs unfused     6 elementwise ops, cache-resident and not; target >= 2x
//   BM_Sgemm/shape/{0,1,2,3,4,5}  the training step's GEMM shapes: cpu::sgemm (the best
//                                 micro-kernel for this CPU, our packing and threads) /
//                                 bli_sgemm_ex with BLIS's own threads / cpu::sgemm with A in
//                                 fp16 / cpu::sgemm also returning the sum of c's squares (the
//                                 gradient norm) / cpu::sgemm with A in fp16 and cold (out of
//                                 cache, as a step's weights are) / cpu::sgemm with BLIS's
//                                 micro-kernel (5 against 0: our AVX-512 kernel's gain, where
//                                 the CPU has AVX-512)
//   BM_PackPanels/panel/layout/row packing a 768 x 768 block of an fp16 weight with rows `row`
//                                 values long into the micro-kernel's 6-, 12-, 16- or 32-row
//                                 panels (one thread), its rows read along k (layout 0, W) or
//                                 across (1, W^T): ns per packed value
//   BM_SoftmaxColumns             the classifier's softmax over a 32000-row vocabulary, 256
//                                 positions: GB/s over x read and y written once
//   BM_CausalAttention/skip       softmax(q^T k / 8 + causal mask) v^T over 12 heads of 64,
//                                 seq 256 (the attention kernel's core), with the masked half
//                                 skipped (1) or computed (0): GFLOP/s over the full FLOPs
//   BM_CompileLayer               compile a Stories110M layer's kernels with baked weights;
//                                 target < 1 s
//   BM_ParallelForRoundTrip       one parallel_for over two threads with no work: the cost a
//                                 kernel step pays for waking the pool
//   BM_FmaPeak/threads:N          12 independent chains of 8-wide AVX2 FMAs on N threads: the
//                                 machine's FMA peak, the ceiling of every GEMM (GFLOP/s of
//                                 the N threads together)
//
//   build/bench/bench_cpu_backend --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <blis.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <random>
#include <vector>

#include "backends/cpu/blas.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/kernels.h"
#include "core/fp16.h"
#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "mil/builder.h"

namespace {

using ane::mil::Builder;
using ane::mil::DType;
using ane::mil::Value;

struct ConvShape {
  int64_t cout, cin, seq;
};
constexpr ConvShape kShapes[] = {{768, 768, 256}, {2048, 768, 256}, {32000, 768, 256}};

std::vector<float> random_floats(size_t n, float scale = 0.05f) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (float& e : v) e = d(rng);
  return v;
}

Value* weight(Builder& b, const std::string& name, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return b.const_tensor(name, ane::mil::Constant::float_tensor(DType::kFp16, std::move(shape), random_floats(static_cast<size_t>(n))));
}

// ANE_BENCH_THREADS overrides the thread count (default: physical cores); on a loaded
// machine 1 thread gives steadier ratios.
int threads() {
  const char* env = std::getenv("ANE_BENCH_THREADS");
  return env ? std::atoi(env) : ane::cpu_features().physical_cores;
}

// Runs a compiled function on zeroed surfaces.
struct Runner {
  std::unique_ptr<ane::Executable> exe;
  std::vector<std::vector<uint8_t>> in, out;
  std::vector<std::span<const uint8_t>> ins;
  std::vector<std::span<uint8_t>> outs;
  Runner(const ane::mil::Function& fn, ane::CpuBackendOptions o = {}) {
    auto e = ane::make_cpu_backend(o)->compile(fn, {ane::Precision::kFp32, threads()});
    if (!e.ok()) return;
    exe = std::move(*e);
    for (const Value* v : fn.inputs) in.emplace_back(v->type.num_bytes());
    for (const Value* v : fn.outputs) out.emplace_back(v->type.num_bytes());
    for (auto& b : in) ins.emplace_back(b);
    for (auto& b : out) outs.emplace_back(b);
  }
  bool run() { return exe && exe->run({ins, outs}).ok(); }
};

void set_gflops(benchmark::State& state, double flops) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_RawGemm(benchmark::State& state) {
  const ConvShape s = kShapes[state.range(0)];
  std::vector<float> w = random_floats(static_cast<size_t>(s.cout * s.cin));
  std::vector<float> x(static_cast<size_t>(s.cin * s.seq), 0.5f), y(static_cast<size_t>(s.cout * s.seq));
  rntm_t rntm = BLIS_RNTM_INITIALIZER;
  bli_rntm_set_num_threads(threads(), &rntm);
  float one = 1.0f, zero = 0.0f;
  for (auto _ : state) {
    bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, s.cout, s.seq, s.cin, &one, w.data(), s.cin, 1, x.data(), s.seq,
                 1, &zero, y.data(), s.seq, 1, nullptr, &rntm);
    benchmark::DoNotOptimize(y.data());
  }
  set_gflops(state, 2.0 * static_cast<double>(s.cout * s.cin * s.seq));
}

// The GEMMs of a Stories110M training step (seq 256): the kernels' projections (A = weight,
// B = activations; A read transposed in the backward kernels), the weight gradients (B read
// transposed) and the classifier.
struct GemmShape {
  int64_t m, n, k;
  bool a_transposed, b_transposed;
};
constexpr GemmShape kStepShapes[] = {{768, 256, 768, false, false},  {2048, 256, 768, false, false},
                                     {768, 256, 2048, false, false}, {768, 256, 2048, true, false},
                                     {768, 768, 256, false, true},   {2048, 768, 256, false, true},
                                     {32000, 256, 768, false, false}, {768, 256, 32000, true, false},
                                     {32000, 768, 256, false, true}};

void BM_Sgemm(benchmark::State& state) {
  const GemmShape s = kStepShapes[state.range(0)];
  const int impl = static_cast<int>(state.range(1));
  std::vector<float> a = random_floats(static_cast<size_t>(s.m * s.k)), b = random_floats(static_cast<size_t>(s.k * s.n));
  std::vector<float> c(static_cast<size_t>(s.m * s.n));
  std::vector<ane::half_bits> a16(a.size());
  ane::floats_to_halves(a16.data(), a.data(), a.size());
  // impl 4: copies of a16 together larger than L3, a different one each run (a step's weights
  // come to their GEMM cold).
  constexpr size_t kColdBytes = size_t{64} << 20;
  const size_t copies = impl == 4 ? std::max<size_t>(2, kColdBytes / (a16.size() * sizeof(ane::half_bits)) + 1) : 0;
  std::vector<ane::half_bits> cold(copies * a16.size());
  for (size_t i = 0; i < copies; ++i) std::copy(a16.begin(), a16.end(), cold.begin() + static_cast<ptrdiff_t>(i * a16.size()));
  size_t run = 0;
  const int64_t a_rs = s.a_transposed ? 1 : s.k, a_cs = s.a_transposed ? s.m : 1;
  const int64_t b_rs = s.b_transposed ? 1 : s.n, b_cs = s.b_transposed ? s.k : 1;
  ane::ThreadPool pool(threads());
  rntm_t rntm = BLIS_RNTM_INITIALIZER;
  bli_rntm_set_num_threads(threads(), &rntm);
  float one = 1.0f, zero = 0.0f;
  for (auto _ : state) {
    if (impl == 1) {
      bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, s.m, s.n, s.k, &one, a.data(), a_rs, a_cs, b.data(), b_rs, b_cs,
                   &zero, c.data(), s.n, 1, nullptr, &rntm);
    } else {
      const ane::half_bits* halves = impl == 2 ? a16.data() : impl == 4 ? cold.data() + (run++ % copies) * a16.size() : nullptr;
      const ane::cpu::MatrixRef am = halves ? ane::cpu::MatrixRef{nullptr, a_rs, a_cs, halves}
                                            : ane::cpu::MatrixRef{a.data(), a_rs, a_cs};
      double squares = 0;
      const auto kernel = impl == 5 ? ane::cpu::GemmKernel::kBlis : ane::cpu::GemmKernel::kBest;
      ane::cpu::sgemm(am, {b.data(), b_rs, b_cs}, c.data(), s.n, s.m, s.n, s.k, 0.0f, &pool,
                      {{}, impl == 3 ? &squares : nullptr, kernel});
      benchmark::DoNotOptimize(squares);
    }
    benchmark::DoNotOptimize(c.data());
  }
  set_gflops(state, 2.0 * static_cast<double>(s.m * s.n * s.k));
}

// As sgemm packs A and B: 256-deep k blocks, every panel of a 768 x 768 block of a weight
// whose rows are `row` values long (768, or 2048 as the FFN's down projection: its rows are
// then 4 KiB apart, so a panel's source lines all fall in one L1 set).
void BM_PackPanels(benchmark::State& state) {
  constexpr int64_t kDim = 768, kDepth = 256;
  const int64_t panel = state.range(0), row = state.range(2);
  const bool across = state.range(1) == 1;
  const std::vector<float> w = random_floats(static_cast<size_t>(kDim * row));
  std::vector<ane::half_bits> w16(w.size());
  ane::floats_to_halves(w16.data(), w.data(), w.size());
  std::vector<float> packed(static_cast<size_t>(panel * kDepth));
  const ane::cpu::Kernels& k = ane::cpu::kernels();
  for (auto _ : state) {
    for (int64_t p0 = 0; p0 < kDim; p0 += kDepth) {
      for (int64_t i0 = 0; i0 + panel <= kDim; i0 += panel) {
        ane::cpu::PackSource src;
        src.rs = across ? 1 : row;
        src.cs = across ? row : 1;
        src.halves = w16.data() + i0 * src.rs + p0 * src.cs;
        k.pack_panel(packed.data(), panel, src, panel, kDepth);
        benchmark::DoNotOptimize(packed.data());
      }
    }
  }
  const double values = static_cast<double>((kDim / panel) * panel * kDim);
  // Inverted rate: seconds per (values * 1e-9), i.e. ns per value.
  state.counters["ns/value"] = benchmark::Counter(
      values * 1e-9, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_EngineConv(benchmark::State& state) {
  const ConvShape s = kShapes[state.range(0)];
  Builder b;
  Value* x = b.input("x", {DType::kFp32, {1, s.cin, 1, s.seq}});
  b.output(b.conv(x, b.cast(weight(b, "w", {s.cout, s.cin, 1, 1}), DType::kFp32)));
  auto p = b.finish();
  Runner r(*(*p)->functions[0]);
  for (auto _ : state) {
    if (!r.run()) state.SkipWithError("run failed");
  }
  set_gflops(state, 2.0 * static_cast<double>(s.cout * s.cin * s.seq));
}

// x [1, C, 1, S]: ((x * scale[c] + bias[c]) -> silu) * y - 0.5, clipped: 6 elementwise ops.
// Args: fused (0/1), C, S.
void BM_Chain(benchmark::State& state) {
  const int64_t c = state.range(1), seq = state.range(2);
  Builder b;
  Value* x = b.input("x", {DType::kFp32, {1, c, 1, seq}});
  Value* y = b.input("y", {DType::kFp32, {1, c, 1, seq}});
  Value* scale = b.cast(weight(b, "scale", {1, c, 1, 1}), DType::kFp32);
  Value* bias = b.cast(weight(b, "bias", {1, c, 1, 1}), DType::kFp32);
  Value* h = b.silu(b.add(b.mul(x, scale), bias));
  b.output(b.clip(b.sub(b.mul(h, y), 0.5), -4.0, 4.0));
  auto p = b.finish();
  ane::CpuBackendOptions o;
  o.fuse_elementwise = state.range(0) == 1;
  Runner r(*(*p)->functions[0], o);
  for (auto _ : state) {
    if (!r.run()) state.SkipWithError("run failed");
  }
  state.SetLabel(o.fuse_elementwise ? "fused" : "unfused");
  state.SetBytesProcessed(state.iterations() * 3 * c * seq * 4);
}

void BM_CausalAttention(benchmark::State& state) {
  constexpr int64_t heads = 12, dim = 64, seq = 256;
  Builder b;
  Value* q = b.input("q", {DType::kFp16, {1, heads, dim, seq}});
  Value* k = b.input("k", {DType::kFp16, {1, heads, dim, seq}});
  Value* v = b.input("v", {DType::kFp16, {1, heads, dim, seq}});
  std::vector<float> mask(static_cast<size_t>(seq * seq), 0.0f);
  for (int64_t i = 0; i < seq; ++i) {
    for (int64_t j = i + 1; j < seq; ++j) mask[static_cast<size_t>(i * seq + j)] = -65504.0f;
  }
  Value* m = b.const_tensor("mask", ane::mil::Constant::float_tensor(DType::kFp16, {1, 1, seq, seq}, mask));
  Value* p = b.softmax(b.add(b.mul(b.matmul(q, k, true, false), 0.125), m), -1);
  b.output(b.matmul(v, p, false, true));
  auto program = b.finish();
  ane::CpuBackendOptions o;
  o.skip_zero_triangles = state.range(0) == 1;
  Runner r(*(*program)->functions[0], o);
  for (auto _ : state) {
    if (!r.run()) state.SkipWithError("run failed");
  }
  state.SetLabel(o.skip_zero_triangles ? "skip" : "full");
  set_gflops(state, 2.0 * 2.0 * heads * dim * seq * seq);
}

// One Stories110M layer's weight-bearing kernels (dim 768, hidden 2048, seq 256, 12 heads):
// RMSNorm + q/k/v/o projections + attention, and RMSNorm + w1/w3/w2 with SiLU.
std::unique_ptr<ane::mil::Program> layer_program() {
  const int64_t d = 768, hdim = 2048, s = 256, heads = 12, hd = 64;
  Builder b;
  Value* x = b.input("x", {DType::kFp16, {1, d, 1, s}});
  auto rms = [&](Value* t, const std::string& name) {
    Value* r = b.rsqrt(b.add(b.reduce_mean(b.mul(t, t), {1}, true), 1e-5));
    return b.mul(b.mul(t, r), weight(b, name, {1, d, 1, 1}));
  };
  Value* n = rms(x, "att_norm");
  auto heads_of = [&](Value* t) { return b.transpose(b.reshape(t, {1, heads, hd, s}), {0, 1, 3, 2}); };
  Value* q = heads_of(b.conv(n, weight(b, "wq", {d, d, 1, 1})));
  Value* k = heads_of(b.conv(n, weight(b, "wk", {d, d, 1, 1})));
  Value* v = heads_of(b.conv(n, weight(b, "wv", {d, d, 1, 1})));
  Value* att = b.softmax(b.mul(b.matmul(q, k, false, true), 0.125), -1);
  Value* o = b.reshape(b.transpose(b.matmul(att, v), {0, 1, 3, 2}), {1, d, 1, s});
  Value* h = b.add(x, b.conv(o, weight(b, "wo", {d, d, 1, 1})));
  Value* m = rms(h, "ffn_norm");
  Value* f = b.mul(b.silu(b.conv(m, weight(b, "w1", {hdim, d, 1, 1}))), b.conv(m, weight(b, "w3", {hdim, d, 1, 1})));
  b.output(b.add(h, b.conv(f, weight(b, "w2", {d, hdim, 1, 1}))));
  auto p = b.finish();
  return p.ok() ? std::move(*p) : nullptr;
}

// The attention kernels' per-head products, 12 heads of a [64, 256] Q/K/V (head_dim x seq,
// fp16 inputs as the taps are) through a compiled plan: 0 scores Qᵀ K [256 x 256 x 64],
// 1 P V-style [64 x 256 x 256] with the second operand transposed, 2 dV-style [64 x 256 x 256].
void BM_AttentionHeads(benchmark::State& state) {
  const int64_t heads = 12, hd = 64, s = 256;
  const int pattern = static_cast<int>(state.range(0));
  Builder b;
  Value* x = b.input("x", {DType::kFp16, {1, heads, hd, s}});
  Value* y = b.input("y", {DType::kFp16, pattern == 0 ? std::vector<int64_t>{1, heads, hd, s} : std::vector<int64_t>{1, heads, s, s}});
  b.output(pattern == 0 ? b.matmul(x, y, true, false) : b.matmul(x, y, false, pattern == 1));
  auto p = b.finish();
  Runner r(*(*p)->functions[0]);
  for (auto _ : state) {
    if (!r.run()) state.SkipWithError("run failed");
  }
  set_gflops(state, 2.0 * static_cast<double>(heads * hd * s * s));
}

// The classifier's softmax over the vocabulary: [32000, 256] logits, a column per position.
void BM_SoftmaxColumns(benchmark::State& state) {
  const int64_t n = 32000, inner = 256;
  std::vector<float> x = random_floats(static_cast<size_t>(n * inner), 8.0f), y(x.size());
  ane::ThreadPool pool(threads());
  for (auto _ : state) {
    ane::cpu::softmax_columns(x.data(), y.data(), n, inner, &pool);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GB/s"] = benchmark::Counter(2.0 * static_cast<double>(x.size() * sizeof(float)),
                                              benchmark::Counter::kIsIterationInvariantRate);
}

void BM_CompileLayer(benchmark::State& state) {
  auto p = layer_program();
  auto backend = ane::make_cpu_backend();
  for (auto _ : state) {
    auto exe = backend->compile(*p->functions[0], {ane::Precision::kFp32, threads()});
    if (!exe.ok()) state.SkipWithError("compile failed");
    benchmark::DoNotOptimize(exe);
  }
}

void BM_RunLayer(benchmark::State& state) {
  auto p = layer_program();
  Runner r(*p->functions[0]);
  for (auto _ : state) {
    if (!r.run()) state.SkipWithError("run failed");
  }
  state.counters["arena_MiB"] = static_cast<double>(r.exe->stats().arena_bytes) / (1 << 20);
}

#if defined(__x86_64__)
// 12 chains so that the two FMA pipes' latency (4 cycles) is covered; 192 FLOP an iteration.
__attribute__((target("avx2,fma"), noipa)) float fma_chains(int64_t iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(1.0f + 1e-3f * static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  float sum = 0;
  for (int i = 0; i < 12; ++i) sum += _mm256_cvtss_f32(acc[i]);
  return sum;
}

void BM_FmaPeak(benchmark::State& state) {
  if (!ane::cpu_features().fma) return state.SkipWithError("no FMA on this CPU");
  constexpr int64_t kIterations = 1 << 20;
  for (auto _ : state) {
    int64_t iterations = kIterations;
    benchmark::DoNotOptimize(iterations);  // so that no call is hoisted out of the loop
    benchmark::DoNotOptimize(fma_chains(iterations));
  }
  // Google Benchmark sums a counter over the threads and divides a rate by the time one
  // thread's iterations took: kAvgThreads makes it the machine's total.
  state.counters["GFLOP/s"] = benchmark::Counter(
      192.0 * kIterations, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_FmaPeak)->Threads(1)->Threads(2)->UseRealTime();
#endif

void BM_ParallelForRoundTrip(benchmark::State& state) {
  ane::ThreadPool pool(2);
  std::atomic<size_t> sink{0};
  for (auto _ : state) pool.parallel_for(2, 1, [&](size_t b, size_t e) { sink += e - b; });
  benchmark::DoNotOptimize(sink.load());
}

}  // namespace

// Interleaved (raw, engine) per shape so both see the same machine load.
BENCHMARK(BM_RawGemm)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_EngineConv)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_RawGemm)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_EngineConv)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_RawGemm)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_EngineConv)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
// [1, 768, 1, 256] fits in L2/L3; [1, 2048, 1, 4096] (32 MiB a tensor) does not.
BENCHMARK(BM_Chain)->Args({0, 768, 256})->Args({1, 768, 256})->Args({0, 2048, 4096})->Args({1, 2048, 4096})
    ->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.5);
// Interleaved (the six variants above) per shape.
BENCHMARK(BM_Sgemm)->Apply([](benchmark::internal::Benchmark* b) {
  for (int64_t shape = 0; shape < static_cast<int64_t>(std::size(kStepShapes)); ++shape) {
    for (int64_t impl = 0; impl < 6; ++impl) b->Args({shape, impl});
  }
})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.3);
BENCHMARK(BM_PackPanels)->ArgsProduct({{6, 12, 16, 32}, {0, 1}, {768, 2048}})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AttentionHeads)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SoftmaxColumns)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CausalAttention)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CompileLayer)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_RunLayer)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_ParallelForRoundTrip)->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK_MAIN();
