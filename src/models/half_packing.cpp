#include "models/half_packing.h"

#include <algorithm>

namespace ane::models {

void pack_halves(half_bits* dst, int64_t dst_stride, std::span<const float> src, int64_t rows, int64_t cols,
                 bool transpose, ThreadPool* pool) {
  // Work comes in bands of source rows: M's rows, or M's columns when transposing (then
  // each band reads its source rows along their length, 8 at a time).
  constexpr int64_t kBand = 64;
  const int64_t src_rows = transpose ? cols : rows;
  auto pack_bands = [&](size_t band_begin, size_t band_end) {
    const int64_t b0 = static_cast<int64_t>(band_begin) * kBand;
    const int64_t b1 = std::min(src_rows, static_cast<int64_t>(band_end) * kBand);
    if (transpose) {  // M[r][c] = src[c][r]: source rows b0..b1 are M's columns
      floats_to_halves_transposed(dst + b0, dst_stride, &src[static_cast<size_t>(b0 * rows)], rows, rows, b1 - b0);
      return;
    }
    for (int64_t r = b0; r < b1; ++r) {
      floats_to_halves(dst + r * dst_stride, &src[static_cast<size_t>(r * cols)], static_cast<size_t>(cols));
    }
  };
  const auto bands = static_cast<size_t>((src_rows + kBand - 1) / kBand);
  if (pool != nullptr) {
    pool->parallel_for(bands, 1, pack_bands);
  } else {
    pack_bands(0, bands);
  }
}

}  // namespace ane::models
