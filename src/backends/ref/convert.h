// Conversions between surface bytes (little-endian, in a MIL dtype) and doubles.
//
// Into double: exact for every dtype except int64/uint64 beyond 2^53.
// Out of double (round_to_dtype, used for outputs and by `cast`):
//   fp16, bf16  round to nearest, ties to even, in one step from the double (no double
//               rounding through fp32); overflow gives +-inf; NaN stays NaN.
//   fp32        the IEEE double -> float conversion (round to nearest even, overflow inf).
//   integers    truncate toward zero (numpy's astype), then saturate to the type's range;
//               NaN gives 0. (numpy leaves out-of-range and NaN undefined; we pick the
//               saturating answer so results never depend on the platform.)
//   bool        any non-zero value (NaN included) is 1.
#pragma once

#include <cstdint>
#include <span>

#include "core/status.h"
#include "mil/types.h"

namespace ane::ref {

// The value `v` takes when stored as `dtype` (string: unchanged).
double round_to_dtype(double v, mil::DType dtype);

// Reads out.size() elements of `dtype` from `bytes` (which holds exactly that many).
Status decode(std::span<const uint8_t> bytes, mil::DType dtype, std::span<double> out);
// Writes values as `dtype` into `bytes` (exactly values.size() elements' worth).
Status encode(std::span<const double> values, mil::DType dtype, std::span<uint8_t> bytes);

}  // namespace ane::ref
