// The GEMM micro-kernels sgemm.cpp drives: each computes one MR x NR tile of C from packed
// panels (Kernels::pack_panel's layout), and comes with the block sizes that keep its panels
// in cache. BLIS's kernel for the CPU serves every AVX2 machine; our own AVX-512 kernel
// (micro_kernel_avx512.cpp) serves CPUs that have AVX-512, where it is faster
// (docs/gemm-choice.md).
#pragma once

#include <cstdint>
#include <string>

#include "backends/cpu/blas.h"

namespace ane::cpu {

// c[i, j] = sum over p < k of a[p * MR + i] * b[p * NR + j], plus beta * c[i, j] (beta 0: c is
// not read), for i < mr <= MR and j < nr <= NR, c[i, j] at c + i * rs_c + j * cs_c. The panels
// are zero-padded to MR and NR. next_a and next_b are the panels the next call reads (the
// kernel may prefetch them).
using TileFn = void (*)(int64_t mr, int64_t nr, int64_t k, const float* a, const float* b, float beta, float* c,
                        int64_t rs_c, int64_t cs_c, const float* next_a, const float* next_b);

struct MicroKernel {
  std::string name;  // where it comes from and its tile, e.g. "BLIS 0.9.0 6x16"
  TileFn tile;
  int64_t mr, nr;  // the tile
  int64_t mc, kc;  // rows of A and depth packed per block
  bool prefers_cols;  // writes column-stored C fastest (else cs_c is 1 when called)
};

// The kernel of that kind; kBest picks the fastest this CPU runs. Null when the CPU lacks it.
const MicroKernel* micro_kernel(GemmKernel kind);

// The kernels of each kind (defined in their own files).
const MicroKernel& blis_micro_kernel();
const MicroKernel& avx512_micro_kernel();

}  // namespace ane::cpu
