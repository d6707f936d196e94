// IEEE 754 binary16 <-> binary32 conversion.
// Round-to-nearest-even, subnormals, infinities and NaN are exact in both paths: the plain
// scalar reference (*_ref) and the bulk converters, which use F16C when the CPU has it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ane {

// Half-precision value as its bit pattern; arithmetic happens in float.
using half_bits = uint16_t;

// Plain bit-manipulation reference, the definition the fast paths are tested against.
float half_to_float_ref(half_bits h);
half_bits float_to_half_ref(float f);

// Scalar conversion (same results as the reference, faster).
float half_to_float(half_bits h);
half_bits float_to_half(float f);

// Rounds a float to the nearest representable half and back: what storing in fp16 does.
inline float round_to_half(float f) { return half_to_float(float_to_half(f)); }

// Bulk conversion of n values; dst and src must not overlap.
void halves_to_floats(float* dst, const half_bits* src, size_t n);
void floats_to_halves(half_bits* dst, const float* src, size_t n);
// dst[r * dst_stride + c] = half(src[c * src_stride + r]) for r < rows, c < cols: a
// transpose and a conversion in one pass (8 x 8 register blocks with F16C).
void floats_to_halves_transposed(half_bits* dst, int64_t dst_stride, const float* src, int64_t src_stride,
                                 int64_t rows, int64_t cols);

// True when the bulk converters use the F16C instructions on this CPU.
bool fp16_uses_f16c();

inline constexpr float kHalfMax = 65504.0f;

// bfloat16 (the top half of a binary32): exact widening, and narrowing with
// round-to-nearest-even (NaN stays a quiet NaN).
float bf16_to_float(uint16_t h);
uint16_t float_to_bf16(float f);

}  // namespace ane
