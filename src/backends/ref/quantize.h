// Quantize family: affine (de)quantisation with a scalar or per-axis scale and zero point.
#pragma once

#include "backends/ref/tensor.h"
#include "mil/types.h"

namespace ane::ref {

// scale and zero_point (null: 0) hold one element, or x.shape[axis] elements applied
// along `axis` (in [0, rank)).

// y = saturate_to_dtype(round_half_even(x / scale) + zero_point), to = y's integer dtype.
void quantize(const DTensor& x, const DTensor& scale, const DTensor* zero_point, int axis, mil::DType to, DTensor& y);

// y = (q - zero_point) * scale.
void dequantize(const DTensor& q, const DTensor& scale, const DTensor* zero_point, int axis, DTensor& y);

}  // namespace ane::ref
