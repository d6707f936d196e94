// fp16 <-> fp32 bulk conversion: the plain reference loop against the F16C path, in the
// same run. Bytes/s counts source plus destination. Also packing a 2048 x 768 weight into an
// fp16 block as is and transposed (as the static pipeline's baked weight blobs hold them),
// from matrices that are not in cache.
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

// Arg 0: rows copied as they are; 1: transposed. Cycles over 40 matrices (250 MB), more
// than the caches hold, as a static pipeline recompile bakes every layer's weights.
void BM_PackWeight(benchmark::State& state) {
  constexpr int64_t kRows = 2048, kCols = 768, kMatrices = 40;
  const bool transpose = state.range(0) == 1;
  std::vector<std::vector<float>> weights(kMatrices, std::vector<float>(kRows * kCols));
  for (auto& w : weights) w.assign(w.size(), 0.5f);
  std::vector<ane::half_bits> surface(static_cast<size_t>(kRows * kCols));
  size_t next = 0;
  for (auto _ : state) {
    const std::vector<float>& w = weights[next++ % kMatrices];
    if (transpose) {  // W^T [kCols, kRows]
      ane::floats_to_halves_transposed(surface.data(), kRows, w.data(), kCols, kCols, kRows);
    } else {
      ane::floats_to_halves(surface.data(), w.data(), w.size());
    }
    benchmark::DoNotOptimize(surface.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kRows * kCols * 6));
}

BENCHMARK(BM_PackWeight)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FloatsToHalves_Reference);
BENCHMARK(BM_FloatsToHalves_Fast);
BENCHMARK(BM_HalvesToFloats_Reference);
BENCHMARK(BM_HalvesToFloats_Fast);

}  // namespace

BENCHMARK_MAIN();
