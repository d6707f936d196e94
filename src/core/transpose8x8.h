// An 8 x 8 float transpose in AVX registers, shared by the F16C fp16 converters (core) and
// the cpu backend's GEMM packing. x86-64 only; callers compile it for AVX or more.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

namespace ane {

// Transposes the 8 x 8 block whose rows are a[0..7] in place: a[i] lane j <- a[j] lane i.
__attribute__((target("avx"))) inline void transpose8x8(__m256 a[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(a[i], a[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(a[i], a[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) {
    a[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    a[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

}  // namespace ane
#endif
