#include "models/half_packing.h"

namespace ane::models {

void pack_halves(half_bits* dst, int64_t dst_stride, std::span<const float> src, int64_t rows, int64_t cols,
                 bool transpose) {
  if (transpose) {  // M[r][c] = src[c][r]: reads src's rows along their length, 8 at a time
    floats_to_halves_transposed(dst, dst_stride, src.data(), rows, rows, cols);
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    floats_to_halves(dst + r * dst_stride, &src[static_cast<size_t>(r * cols)], static_cast<size_t>(cols));
  }
}

}  // namespace ane::models
