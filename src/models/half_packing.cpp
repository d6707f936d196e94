#include "models/half_packing.h"

#include <algorithm>

namespace ane::models {

void pack_halves(half_bits* dst, int64_t dst_stride, std::span<const float> src, int64_t rows, int64_t cols,
                 bool transpose, ThreadPool* pool) {
  constexpr int64_t kTile = 64;
  auto pack_tiles = [&](size_t tile_begin, size_t tile_end) {
    float tile[kTile * kTile];
    const int64_t r_end = std::min(rows, static_cast<int64_t>(tile_end) * kTile);
    for (int64_t r0 = static_cast<int64_t>(tile_begin) * kTile; r0 < r_end; r0 += kTile) {
      const int64_t r1 = std::min(rows, r0 + kTile);
      if (!transpose) {
        for (int64_t r = r0; r < r1; ++r) {
          floats_to_halves(dst + r * dst_stride, &src[static_cast<size_t>(r * cols)], static_cast<size_t>(cols));
        }
        continue;
      }
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        const int64_t c1 = std::min(cols, c0 + kTile);
        for (int64_t c = c0; c < c1; ++c) {
          const float* column = &src[static_cast<size_t>(c * rows)];  // M[., c] = src row c
          for (int64_t r = r0; r < r1; ++r) tile[(r - r0) * kTile + (c - c0)] = column[r];
        }
        for (int64_t r = r0; r < r1; ++r) {
          floats_to_halves(dst + r * dst_stride + c0, &tile[(r - r0) * kTile], static_cast<size_t>(c1 - c0));
        }
      }
    }
  };
  const auto tiles = static_cast<size_t>((rows + kTile - 1) / kTile);
  if (pool != nullptr) {
    pool->parallel_for(tiles, 1, pack_tiles);
  } else {
    pack_tiles(0, tiles);
  }
}

}  // namespace ane::models
