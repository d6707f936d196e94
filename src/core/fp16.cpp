#include "core/fp16.h"

#include <cstring>

#include "core/cpu_features.h"
#include "core/transpose8x8.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ane {
namespace {

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace

float half_to_float_ref(half_bits h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;
  if (exp == 0x1F) {  // inf, or NaN: quieted, payload kept (as F16C does)
    return float_of(sign | 0x7F800000u | (mant != 0 ? 0x400000u : 0u) | (mant << 13));
  }
  if (exp != 0) return float_of(sign | ((exp + 112) << 23) | (mant << 13));
  if (mant == 0) return float_of(sign);
  // Subnormal half: normalise into a float.
  int e = -1;
  do {
    ++e;
    mant <<= 1;
  } while ((mant & 0x400u) == 0);
  mant &= 0x3FFu;
  return float_of(sign | static_cast<uint32_t>(112 - e) << 23 | (mant << 13));
}

half_bits float_to_half_ref(float f) {
  const uint32_t u = bits_of(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t exp = (u >> 23) & 0xFFu;
  const uint32_t mant = u & 0x7FFFFFu;
  if (exp == 0xFF) {  // inf or NaN; a NaN stays a (quiet) NaN
    if (mant == 0) return sign | 0x7C00u;
    return static_cast<half_bits>(sign | 0x7E00u | (mant >> 13));
  }
  const int e = static_cast<int>(exp) - 127;  // unbiased exponent
  if (e > 15) return sign | 0x7C00u;          // overflow even before rounding
  // Shift the 24-bit significand (with the implicit 1) so that its last kept bit is the
  // half's ulp, then round to nearest even on the dropped bits.
  uint32_t sig = (exp == 0) ? mant : (mant | 0x800000u);
  int shift;                          // how many low bits of sig are dropped
  uint32_t half_exp_field;            // biased half exponent before rounding carry
  if (e >= -14) {                     // normal half
    shift = 13;
    half_exp_field = static_cast<uint32_t>(e + 15);
    sig &= 0x7FFFFFu;                 // implicit bit is carried by the exponent field
  } else {                            // subnormal half (or zero): ulp is 2^-24
    shift = 13 + (-14 - e);
    half_exp_field = 0;
    if (shift > 24) return sign;      // far below half the smallest subnormal
  }
  const uint32_t kept = sig >> shift;
  const uint32_t dropped = sig & ((1u << shift) - 1);
  const uint32_t halfway = 1u << (shift - 1);
  uint32_t result = (half_exp_field << 10) + kept;
  if (dropped > halfway || (dropped == halfway && (kept & 1u))) ++result;  // carry may bump the exponent: correct
  return static_cast<half_bits>(sign | result);  // 0x7C00 reached by carry is +inf: correct
}

#if defined(__x86_64__)
__attribute__((target("f16c"))) static float half_to_float_f16c(half_bits h) {
  return _cvtsh_ss(h);
}
__attribute__((target("f16c"))) static half_bits float_to_half_f16c(float f) {
  return static_cast<half_bits>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
__attribute__((target("avx,f16c"))) static void halves_to_floats_f16c(float* dst, const half_bits* src, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
}
__attribute__((target("avx,f16c"))) static void floats_to_halves_f16c(half_bits* dst, const float* src, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
  for (; i < n; ++i) dst[i] = static_cast<half_bits>(_cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT));
}

__attribute__((target("avx,f16c"))) static void floats_to_halves_transposed_f16c(half_bits* dst, int64_t dst_stride,
                                                                                 const float* src, int64_t src_stride,
                                                                                 int64_t rows, int64_t cols) {
  int64_t c0 = 0;
  for (; c0 + 8 <= cols; c0 += 8) {  // eight source rows at a time, read along their length
    int64_t r0 = 0;
    for (; r0 + 8 <= rows; r0 += 8) {
      __m256 a[8];
      for (int i = 0; i < 8; ++i) a[i] = _mm256_loadu_ps(src + (c0 + i) * src_stride + r0);
      transpose8x8(a);
      for (int i = 0; i < 8; ++i) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (r0 + i) * dst_stride + c0),
                         _mm256_cvtps_ph(a[i], _MM_FROUND_TO_NEAREST_INT));
      }
    }
    for (; r0 < rows; ++r0) {
      for (int64_t c = c0; c < c0 + 8; ++c) dst[r0 * dst_stride + c] = float_to_half_f16c(src[c * src_stride + r0]);
    }
  }
  for (; c0 < cols; ++c0) {
    for (int64_t r = 0; r < rows; ++r) dst[r * dst_stride + c0] = float_to_half_f16c(src[c0 * src_stride + r]);
  }
}
#endif

float bf16_to_float(uint16_t h) { return float_of(static_cast<uint32_t>(h) << 16); }

uint16_t float_to_bf16(float f) {
  uint32_t u = bits_of(f);
  if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x7FFFFFu)) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7FFFu + ((u >> 16) & 1u);  // round to nearest even
  return static_cast<uint16_t>(u >> 16);
}

bool fp16_uses_f16c() {
  // Asked once: conversions of short runs (a channel, a tile) call this millions of times a step.
  static const bool f16c = cpu_features().f16c && cpu_features().avx;
  return f16c;
}

float half_to_float(half_bits h) {
#if defined(__x86_64__)
  if (fp16_uses_f16c()) return half_to_float_f16c(h);
#endif
  return half_to_float_ref(h);
}

half_bits float_to_half(float f) {
#if defined(__x86_64__)
  if (fp16_uses_f16c()) return float_to_half_f16c(f);
#endif
  return float_to_half_ref(f);
}

void halves_to_floats(float* dst, const half_bits* src, size_t n) {
#if defined(__x86_64__)
  if (fp16_uses_f16c()) return halves_to_floats_f16c(dst, src, n);
#endif
  for (size_t i = 0; i < n; ++i) dst[i] = half_to_float_ref(src[i]);
}

void floats_to_halves(half_bits* dst, const float* src, size_t n) {
#if defined(__x86_64__)
  if (fp16_uses_f16c()) return floats_to_halves_f16c(dst, src, n);
#endif
  for (size_t i = 0; i < n; ++i) dst[i] = float_to_half_ref(src[i]);
}

void floats_to_halves_transposed(half_bits* dst, int64_t dst_stride, const float* src, int64_t src_stride,
                                 int64_t rows, int64_t cols) {
#if defined(__x86_64__)
  if (fp16_uses_f16c()) return floats_to_halves_transposed_f16c(dst, dst_stride, src, src_stride, rows, cols);
#endif
  for (int64_t c = 0; c < cols; ++c) {
    for (int64_t r = 0; r < rows; ++r) dst[r * dst_stride + c] = float_to_half_ref(src[c * src_stride + r]);
  }
}

}  // namespace ane
