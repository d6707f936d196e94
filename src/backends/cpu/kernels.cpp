// The one place the kernel variant is chosen: AVX2 when the CPU has AVX2, FMA and F16C.
#include "backends/cpu/kernels.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/cpu_features.h"

namespace ane::cpu {
namespace avx2 { const Kernels& table(); }
namespace portable { const Kernels& table(); }

const Kernels& portable_kernels() { return portable::table(); }

const Kernels& kernels() {
  static const Kernels& chosen = [&]() -> const Kernels& {
    const CpuFeatures& f = cpu_features();
    return f.avx2 && f.fma && f.f16c ? avx2::table() : portable::table();
  }();
  return chosen;
}

void softmax_columns(const float* x, float* y, int64_t n, int64_t inner, ThreadPool* pool, float scale) {
  const Kernels& k = kernels();
  if (inner == 1) {  // one column is one row
    k.softmax(x, y, n, 1);
    if (scale != 1.0f) {
      for (int64_t i = 0; i < n; ++i) y[i] *= scale;
    }
    return;
  }
  // Items are (column tile, row range); each range's statistics are merged in range order.
  constexpr int64_t kTileColumns = 256, kMinRangeRows = 512, kMaxRanges = 16;
  const int64_t ranges = std::clamp<int64_t>(n / kMinRangeRows, 1, kMaxRanges);
  const int64_t range_rows = (n + ranges - 1) / ranges;
  const int64_t tiles = (inner + kTileColumns - 1) / kTileColumns;
  // m then s for every column, per row range: grown once per thread, so running a compiled
  // softmax allocates nothing after its first run.
  thread_local std::vector<float> t_stats;
  t_stats.resize(static_cast<size_t>(2 * ranges * inner));
  float* stats = t_stats.data();
  auto for_items = [&](auto&& fn) {
    auto run = [&](size_t begin, size_t end) {
      for (size_t item = begin; item < end; ++item) {
        const int64_t r = static_cast<int64_t>(item) % ranges, i0 = static_cast<int64_t>(item) / ranges * kTileColumns;
        const int64_t k0 = r * range_rows;
        fn(r, i0, k0 * inner + i0, std::min(range_rows, n - k0), std::min(kTileColumns, inner - i0));
      }
    };
    parallel_for(n * inner < (int64_t{1} << 14) ? nullptr : pool, static_cast<size_t>(tiles * ranges), 1, run);
  };
  for_items([&](int64_t r, int64_t i0, int64_t offset, int64_t rows, int64_t w) {
    float* m = stats + 2 * r * inner + i0;
    float* s = m + inner;
    std::fill(m, m + w, -INFINITY);
    std::fill(s, s + w, 0.0f);
    k.softmax_stats(x + offset, rows, w, inner, m, s);
  });
  float* m = stats;
  float* f = stats + inner;
  auto rescale = [](float from, float to) { return from == to ? 1.0f : std::exp(from - to); };
  for (int64_t r = 1; r < ranges; ++r) {
    const float* mr = stats + 2 * r * inner;
    const float* sr = mr + inner;
    for (int64_t i = 0; i < inner; ++i) {
      const float mx = std::max(m[i], mr[i]);
      f[i] = f[i] * rescale(m[i], mx) + sr[i] * rescale(mr[i], mx);
      m[i] = mx;
    }
  }
  for (int64_t i = 0; i < inner; ++i) f[i] = scale / f[i];
  for_items([&](int64_t, int64_t i0, int64_t offset, int64_t rows, int64_t w) {
    k.softmax_apply(x + offset, y + offset, rows, w, inner, m + i0, f + i0);
  });
}

float line_sum_of_squares(const float* x, int64_t count, int64_t step) {
  constexpr int64_t kLanes = 16;
  float lanes[kLanes] = {};
  int64_t t = 0;
  if (step == 1) {  // the usual case, written apart so that it vectorises
    for (; t + kLanes <= count; t += kLanes) {
      for (int64_t l = 0; l < kLanes; ++l) lanes[l] += x[t + l] * x[t + l];
    }
  }
  for (; t < count; ++t) lanes[t % kLanes] += x[t * step] * x[t * step];
  // Pairwise, in steps of fixed width (they vectorise), not a chain of 16 additions.
  for (int l = 0; l < 8; ++l) lanes[l] += lanes[l + 8];
  for (int l = 0; l < 4; ++l) lanes[l] += lanes[l + 4];
  for (int l = 0; l < 2; ++l) lanes[l] += lanes[l + 2];
  return lanes[0] + lanes[1];
}

}  // namespace ane::cpu
