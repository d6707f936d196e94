// fp16 <-> fp32 bulk conversion: the plain reference loop against the F16C path, in the
// same run. Bytes/s counts source plus destination.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "core/fp16.h"

namespace {

constexpr size_t kN = 768 * 256;  // one [1, 768, 1, 256] activation

std::vector<float> random_floats() {
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 4.0f);
  std::vector<float> v(kN);
  for (auto& x : v) x = dist(rng);
  return v;
}

void BM_FloatsToHalves_Reference(benchmark::State& state) {
  auto src = random_floats();
  std::vector<uint16_t> dst(kN);
  for (auto _ : state) {
    for (size_t i = 0; i < kN; ++i) dst[i] = ane::float_to_half_ref(src[i]);
    benchmark::DoNotOptimize(dst.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kN * 6));
}

void BM_FloatsToHalves_Fast(benchmark::State& state) {
  auto src = random_floats();
  std::vector<uint16_t> dst(kN);
  for (auto _ : state) {
    ane::floats_to_halves(dst.data(), src.data(), kN);
    benchmark::DoNotOptimize(dst.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kN * 6));
}

void BM_HalvesToFloats_Reference(benchmark::State& state) {
  auto f = random_floats();
  std::vector<uint16_t> src(kN);
  ane::floats_to_halves(src.data(), f.data(), kN);
  for (auto _ : state) {
    for (size_t i = 0; i < kN; ++i) f[i] = ane::half_to_float_ref(src[i]);
    benchmark::DoNotOptimize(f.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kN * 6));
}

void BM_HalvesToFloats_Fast(benchmark::State& state) {
  auto f = random_floats();
  std::vector<uint16_t> src(kN);
  ane::floats_to_halves(src.data(), f.data(), kN);
  for (auto _ : state) {
    ane::halves_to_floats(f.data(), src.data(), kN);
    benchmark::DoNotOptimize(f.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kN * 6));
}

BENCHMARK(BM_FloatsToHalves_Reference);
BENCHMARK(BM_FloatsToHalves_Fast);
BENCHMARK(BM_HalvesToFloats_Reference);
BENCHMARK(BM_HalvesToFloats_Fast);

}  // namespace

BENCHMARK_MAIN();
