// fp32 matrices into fp16 blocks, optionally transposed: the one conversion behind baked weight
// blobs and streamed weight columns. Transposes go through small tiles so that reads and the
// vectorised F16C conversions both run along contiguous rows.
#pragma once

#include <cstdint>
#include <span>

#include "core/fp16.h"
#include "core/thread_pool.h"

namespace ane::models {

// dst[r * dst_stride + c] = half(M[r][c]) for r < rows, c < cols, where M = src as [rows, cols]
// row-major, or, when `transpose`, M = src^T with src [cols, rows] row-major. With a pool the
// rows are converted in parallel.
void pack_halves(half_bits* dst, int64_t dst_stride, std::span<const float> src, int64_t rows, int64_t cols,
                 bool transpose, ThreadPool* pool = nullptr);

}  // namespace ane::models
