// fp32 matrices into fp16 blocks, optionally transposed: the conversion behind baked weight
// blobs (W or W^T). Transposes convert 8 x 8 register blocks, reading eight
// source rows along their length at a time (a strided column walk is memory-latency bound).
#pragma once

#include <cstdint>
#include <span>

#include "core/fp16.h"

namespace ane::models {

// dst[r * dst_stride + c] = half(M[r][c]) for r < rows, c < cols, where M = src as [rows, cols]
// row-major, or, when `transpose`, M = src^T with src [cols, rows] row-major.
void pack_halves(half_bits* dst, int64_t dst_stride, std::span<const float> src, int64_t rows, int64_t cols,
                 bool transpose);

}  // namespace ane::models
