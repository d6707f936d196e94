// The one fp32 GEMM entry point of the project (a micro-kernel, BLIS's or our own AVX-512 one,
// under our own packing and threads; docs/gemm-choice.md): the cpu backend's linear ops and
// the trainer's weight gradients and classifier all call it. Matrices are described by element strides, so a
// transpose is a stride swap, not a copy; an operand may be fp16 (converted while packing).
#pragma once

#include <cstdint>

#include "core/thread_pool.h"

namespace ane::cpu {

struct MatrixRef {
  const float* data;
  int64_t rs, cs;                    // row and column strides, in elements
  const uint16_t* halves = nullptr;  // when set, the elements are fp16 here (data is unused)
};
// The same elements read as the transposed matrix (a stride swap).
inline MatrixRef transposed(const MatrixRef& x) { return {x.data, x.cs, x.rs, x.halves}; }

// Where a square matrix may hold nonzeros (an operand) or which entries are wanted (c):
// kLower, column <= row; kUpper, column >= row. A product skips what they rule out: the part
// of k where an operand is zero, and micro-tiles of c wholly outside its triangle (those are
// set to beta * c, 0 when beta is 0). The terms skipped are exact zeros unless the other
// operand holds an inf or NaN there (0 * inf is NaN): a caller that must let those spread
// checks first.
enum class Triangle : uint8_t { kFull, kLower, kUpper };
struct Structure {
  Triangle a = Triangle::kFull, b = Triangle::kFull, c = Triangle::kFull;
  bool any() const { return a != Triangle::kFull || b != Triangle::kFull || c != Triangle::kFull; }
};
// The triangle of the transposed matrix.
inline Triangle transposed(Triangle t) {
  return t == Triangle::kLower ? Triangle::kUpper : t == Triangle::kUpper ? Triangle::kLower : t;
}

// Which micro-kernel computes the product's tiles (micro_kernel.h): the fastest this CPU has,
// or one named (tests and benchmarks compare them).
enum class GemmKernel : uint8_t { kBest, kBlis, kAvx512 };
// False when the CPU cannot run that kernel (kBest and kBlis always run).
bool gemm_kernel_available(GemmKernel kernel);

struct GemmOptions {
  Structure structure;
  // When set, receives the sum of the squares of c's entries after the product, taken over
  // each chunk of rows as soon as they are final (still in L2), in an order fixed by the
  // shape (not the thread count).
  double* sum_of_squares = nullptr;
  GemmKernel kernel = GemmKernel::kBest;  // one the CPU lacks runs as kBest
};

// c[m, n] = a[m, k] b[k, n] + beta * c, c row-major with row stride ldc (beta 0: c is not
// read). With a pool of more than one thread, a large product is shared out: the threads
// pack b together and take chunks of c's rows from a shared queue (all on the calling thread
// when the pool's workers are busy with another job).
void sgemm(MatrixRef a, MatrixRef b, float* c, int64_t ldc, int64_t m, int64_t n, int64_t k, float beta,
           ThreadPool* pool = nullptr, const GemmOptions& options = {});

}  // namespace ane::cpu
