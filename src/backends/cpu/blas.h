// The one fp32 GEMM entry point of the project (BLIS underneath, docs/gemm-choice.md): the
// cpu backend's linear ops and the trainer's weight gradients and classifier both call it.
// Matrices are described by element strides, so a transpose is a stride swap, not a copy.
#pragma once

#include <cstdint>

namespace ane::cpu {

struct MatrixRef {
  const float* data;
  int64_t rs, cs;  // row and column strides, in elements
};

// c[m, n] = a[m, k] b[k, n] + beta * c, c row-major with row stride ldc. `threads` goes to
// BLIS for this call only (no global state).
void sgemm(MatrixRef a, MatrixRef b, float* c, int64_t ldc, int64_t m, int64_t n, int64_t k, float beta, int threads);

}  // namespace ane::cpu
