// The one fp32 GEMM entry point of the project (BLIS underneath, docs/gemm-choice.md): the
// cpu backend's linear ops and the trainer's weight gradients and classifier both call it.
// Matrices are described by element strides, so a transpose is a stride swap, not a copy.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"

namespace ane::cpu {

struct MatrixRef {
  const float* data;
  int64_t rs, cs;  // row and column strides, in elements
};

// c[m, n] = a[m, k] b[k, n] + beta * c, c row-major with row stride ldc.
// With a pool of more than one thread, a large product is cut into one block of rows (or of
// columns, when n > m) per thread, each a single-threaded BLIS call. BLIS's own threads wait
// for each other by spinning, which collapses when another process takes a core; the pool's
// threads sleep instead, so a busy machine slows a product down only in proportion.
void sgemm(MatrixRef a, MatrixRef b, float* c, int64_t ldc, int64_t m, int64_t n, int64_t k, float beta,
           ThreadPool* pool = nullptr);

}  // namespace ane::cpu
