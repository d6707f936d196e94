// Cast/const family: `const` places its value at compile time; `cast` converts to a dtype.
#pragma once

#include "backends/ref/tensor.h"
#include "mil/types.h"

namespace ane::ref {

// y = x stored as `to` (convert.h's round_to_dtype: fp16/bf16/fp32 round to nearest even,
// integers truncate toward zero and saturate, bool is x != 0).
void cast(const DTensor& x, mil::DType to, DTensor& y);

}  // namespace ane::ref
