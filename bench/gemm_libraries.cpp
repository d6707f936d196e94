// Which BLAS for the CPU backend's GEMMs: measures single-precision GEMM of every candidate
// library on the transformer shapes, in one process. Each library is dlopen'ed with
// RTLD_DEEPBIND (they export the same cblas_* symbols, and the pthread / OpenMP builds of one
// library cannot be linked together), so one run compares them all under the same load.
//
//   build/bench/bench_gemm_libraries --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//
// Shapes are C[M, N] = A[M, K] B[K, N], row-major, as a 1x1 conv computes them:
// M = output channels, K = input channels, N = sequence (256). The "after_omp" cases run an
// empty OpenMP region (oneDNN's runtime) before each call, to show what spinning idle OpenMP
// threads cost a pthread BLAS sharing the cores.
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace {

enum Order { kRowMajor = 101 };
enum Trans { kNoTrans = 111 };
using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*,
                            int);
using SetThreads = void (*)(int);
using DnnlSgemm = int (*)(char, char, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);

struct Library {
  const char* name;
  const char* path;
  const char* set_threads;  // symbol of the library's thread-count setter
};

constexpr const char* kLib = "/usr/lib/x86_64-linux-gnu/";
const std::array<Library, 4> kLibraries = {{
    {"openblas_pthread", "openblas-pthread/libopenblas.so.0", "openblas_set_num_threads"},
    {"openblas_openmp", "openblas-openmp/libopenblas.so.0", "openblas_set_num_threads"},
    {"blis_pthread", "blis-pthread/libblis.so.4", "bli_thread_set_num_threads"},
    {"blis_openmp", "blis-openmp/libblis.so.4", "bli_thread_set_num_threads"},
}};

struct Loaded {
  CblasSgemm sgemm = nullptr;
  SetThreads set_threads = nullptr;
};

Loaded load(const Library& lib) {
  void* h = dlopen((std::string(kLib) + lib.path).c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (h == nullptr) return {};
  return {reinterpret_cast<CblasSgemm>(dlsym(h, "cblas_sgemm")), reinterpret_cast<SetThreads>(dlsym(h, lib.set_threads))};
}

struct Dnnl {
  DnnlSgemm sgemm = nullptr;
  SetThreads omp_set_num_threads = nullptr;
};

Dnnl load_dnnl() {
  void* h = dlopen((std::string(kLib) + "libdnnl.so.2").c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  void* omp = dlopen("libgomp.so.1", RTLD_NOW | RTLD_GLOBAL);
  if (h == nullptr || omp == nullptr) return {};
  Dnnl d;
  d.sgemm = reinterpret_cast<DnnlSgemm>(dlsym(h, "dnnl_sgemm"));
  d.omp_set_num_threads = reinterpret_cast<SetThreads>(dlsym(omp, "omp_set_num_threads"));
  return d;
}

struct Shape {
  int m, n, k;
};
const std::array<Shape, 5> kShapes = {{{768, 256, 768}, {2048, 256, 768}, {768, 256, 2048}, {32000, 256, 768},
                                       {256, 256, 768}}};

struct Operands {
  std::vector<float> a, b, c;
  explicit Operands(Shape s)
      : a(static_cast<size_t>(s.m) * s.k, 0.5f), b(static_cast<size_t>(s.k) * s.n, 0.25f),
        c(static_cast<size_t>(s.m) * s.n) {}
};

void report(benchmark::State& state, Shape s) {
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * s.m * s.n * s.k, benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
  state.SetLabel(std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k));
}

// Args: library index, shape index, threads.
void BM_Cblas(benchmark::State& state) {
  static std::array<Loaded, kLibraries.size()> loaded = [] {
    std::array<Loaded, kLibraries.size()> l;
    for (size_t i = 0; i < kLibraries.size(); ++i) l[i] = load(kLibraries[i]);
    return l;
  }();
  const auto lib = static_cast<size_t>(state.range(0));
  const Shape s = kShapes[static_cast<size_t>(state.range(1))];
  const Loaded& f = loaded[lib];
  if (f.sgemm == nullptr || f.set_threads == nullptr) {
    state.SkipWithError((std::string(kLibraries[lib].name) + " not installed").c_str());
    return;
  }
  f.set_threads(static_cast<int>(state.range(2)));
  Operands o(s);
  for (auto _ : state) {
    f.sgemm(kRowMajor, kNoTrans, kNoTrans, s.m, s.n, s.k, 1.0f, o.a.data(), s.k, o.b.data(), s.n, 0.0f, o.c.data(), s.n);
    benchmark::DoNotOptimize(o.c.data());
  }
  report(state, s);
  state.SetLabel(std::string(kLibraries[lib].name) + " " + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
                 std::to_string(s.k) + " t" + std::to_string(state.range(2)));
}

void BM_Dnnl(benchmark::State& state) {
  static Dnnl d = load_dnnl();
  const Shape s = kShapes[static_cast<size_t>(state.range(1))];
  if (d.sgemm == nullptr) {
    state.SkipWithError("oneDNN not installed");
    return;
  }
  d.omp_set_num_threads(static_cast<int>(state.range(2)));
  Operands o(s);
  for (auto _ : state) {
    d.sgemm('N', 'N', s.m, s.n, s.k, 1.0f, o.a.data(), s.k, o.b.data(), s.n, 0.0f, o.c.data(), s.n);
    benchmark::DoNotOptimize(o.c.data());
  }
  report(state, s);
  state.SetLabel("onednn " + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k) + " t" +
                 std::to_string(state.range(2)));
}

// A pthread BLAS GEMM right after a small oneDNN (OpenMP) call: the OpenMP workers spin
// after their region (GOMP's default wait policy) and compete with the BLAS threads.
void BM_PthreadAfterOmp(benchmark::State& state) {
  static Loaded blas = load(kLibraries[static_cast<size_t>(state.range(0))]);
  static Dnnl d = load_dnnl();
  const Shape s = kShapes[static_cast<size_t>(state.range(1))];
  if (blas.sgemm == nullptr || d.sgemm == nullptr) {
    state.SkipWithError("libraries not installed");
    return;
  }
  blas.set_threads(2);
  d.omp_set_num_threads(2);
  Operands o(s), small(Shape{64, 64, 64});
  for (auto _ : state) {
    d.sgemm('N', 'N', 64, 64, 64, 1.0f, small.a.data(), 64, small.b.data(), 64, 0.0f, small.c.data(), 64);
    blas.sgemm(kRowMajor, kNoTrans, kNoTrans, s.m, s.n, s.k, 1.0f, o.a.data(), s.k, o.b.data(), s.n, 0.0f, o.c.data(),
               s.n);
    benchmark::DoNotOptimize(o.c.data());
  }
  report(state, s);
  state.SetLabel(std::string(kLibraries[static_cast<size_t>(state.range(0))].name) + " after omp " +
                 std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k));
}

void all_cblas(benchmark::internal::Benchmark* b) {
  for (int64_t lib = 0; lib < static_cast<int64_t>(kLibraries.size()); ++lib) {
    for (int64_t shape = 0; shape < static_cast<int64_t>(kShapes.size()); ++shape) {
      for (int64_t threads : {1, 2}) b->Args({lib, shape, threads});
    }
  }
}

void all_dnnl(benchmark::internal::Benchmark* b) {
  for (int64_t shape = 0; shape < static_cast<int64_t>(kShapes.size()); ++shape) {
    for (int64_t threads : {1, 2}) b->Args({0, shape, threads});
  }
}

}  // namespace

BENCHMARK(BM_Cblas)->Apply(all_cblas)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.3);
BENCHMARK(BM_Dnnl)->Apply(all_dnnl)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.3);
BENCHMARK(BM_PthreadAfterOmp)->Args({0, 1})->Args({2, 1})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.3);

BENCHMARK_MAIN();
