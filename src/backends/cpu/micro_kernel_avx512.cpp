// Our AVX-512 micro-kernel: a 12 x 32 tile of C in 24 zmm accumulators, each k step two loads
// of B's panel, twelve broadcasts of A's and 24 FMAs. On a Zen 4, which runs each 512-bit FMA
// as two 256-bit halves, it runs the training step's GEMMs at 90% of the FMA peak where BLIS's
// AVX2 6 x 16 kernel ran them at 81%: half the instructions per FLOP, and C's rows prefetched
// before the loop (docs/gemm-choice.md). Compiled for AVX-512F alone; chosen only on CPUs that have it.
#include <immintrin.h>

#include <cassert>

#include "backends/cpu/micro_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx512f")

namespace ane::cpu {
namespace {

constexpr int kMr = 12, kNr = 32;

// The first n of a row's 16 lanes.
__mmask16 first_lanes(int64_t n) {
  return n >= 16 ? __mmask16{0xFFFF} : n <= 0 ? __mmask16{0} : static_cast<__mmask16>((1u << n) - 1);
}

void tile_12x32(int64_t mr, int64_t nr, int64_t k, const float* a, const float* b, float beta, float* c,
                int64_t rs_c, [[maybe_unused]] int64_t cs_c, const float*, const float*) {
  assert(cs_c == 1);  // prefers_cols is false: the driver stores C by rows
  __m512 acc[kMr][2];
#pragma GCC unroll 12
  for (int i = 0; i < kMr; ++i) {
    acc[i][0] = _mm512_setzero_ps();
    acc[i][1] = _mm512_setzero_ps();
    if (i < mr) {  // C's tile is read (or written) after the loop: fetch it meanwhile
      _mm_prefetch(reinterpret_cast<const char*>(c + i * rs_c), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * rs_c + 16), _MM_HINT_T0);
    }
  }
#pragma GCC unroll 4
  for (int64_t p = 0; p < k; ++p) {
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < kMr; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += kMr;
    b += kNr;
  }
  // Masked loads and stores keep an edge tile inside C (and never fault past its end).
  const __mmask16 lo = first_lanes(nr), hi = first_lanes(nr - 16);
  const __m512 vbeta = _mm512_set1_ps(beta);
#pragma GCC unroll 12
  for (int i = 0; i < kMr; ++i) {
    if (i >= mr) break;
    float* row = c + i * rs_c;
    __m512 r0 = acc[i][0], r1 = acc[i][1];
    if (beta != 0.0f) {  // beta 1: the FMA's product is exact, so this is c + acc rounded once
      r0 = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(lo, row), r0);
      r1 = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(hi, row + 16), r1);
    }
    _mm512_mask_storeu_ps(row, lo, r0);
    _mm512_mask_storeu_ps(row + 16, hi, r1);
  }
}

}  // namespace

const MicroKernel& avx512_micro_kernel() {
  // A's block, 144 x 256 floats (144 KB), stays in L2; a B panel is 32 KB, as large as L1,
  // yet smaller depths were no faster (KC 128 to 512 measured; docs/performance.md, Session 12).
  static const MicroKernel m{"own AVX-512 12x32", tile_12x32, kMr, kNr, 144, 256, false};
  return m;
}

}  // namespace ane::cpu

#pragma GCC pop_options
