// The CPU backend's inner loops over fp32 arrays, in two builds of the same source
// (kernels_impl.inc): AVX2/FMA/F16C and portable x86-64. kernels() picks one, once, from
// core/cpu_features.h; everything else calls through the table.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"

namespace ane::cpu {

// The elementwise ops a fused group can hold: binary ops of x and y, unary ops of x; p0/p1
// are the op's scalar parameters.
enum class EwKind : uint8_t {
  kAdd, kSub, kMul, kDiv, kPow, kMax, kMin,                          // binary
  kSigmoid, kTanh, kRelu, kGeluExact, kGeluTanh, kGeluSigmoid, kSilu,  // unary
  kExp, kLog, kSqrt, kRsqrt, kInverse, kClip,
};
inline bool is_binary(EwKind k) { return k <= EwKind::kMin; }

enum class ReduceKind : uint8_t { kSum, kMax, kMin };

// A GEMM operand as pack_panel reads it: element (i, p) at floats[i * rs + p * cs], or at
// halves[...] (fp16, converted while packing) when halves is set.
struct PackSource {
  const float* floats = nullptr;
  const uint16_t* halves = nullptr;
  int64_t rs = 0, cs = 0;
};

struct Kernels {
  const char* isa;  // "avx2" or "portable"
  // dst[i] = op(x[i * x_stride], y[i * y_stride]), or op(x[i * x_stride]) for unary kinds;
  // strides are 0 (one broadcast value) or 1; dst may be x or y (in place).
  void (*ew)(EwKind kind, float* dst, const float* x, int64_t x_stride, const float* y, int64_t y_stride, int64_t n,
             float p0, float p1);
  // x[i] = the nearest fp16 value (ties to even, overflow to inf, fp16 subnormals).
  void (*round_fp16)(float* x, int64_t n);
  // y[k, i] = softmax over k of x[k, i], k < n, i < inner (row k at x + k * inner).
  void (*softmax)(const float* x, float* y, int64_t n, int64_t inner);
  // Folds rows k < n (row k at x + k * row_stride) into running per-column softmax
  // statistics: m[i] the max so far, s[i] the sum of exp(x[k, i] - m[i]) (start them at -inf
  // and 0). Statistics of separate row ranges merge as m = max(m1, m2),
  // s = s1 exp(m1 - m) + s2 exp(m2 - m).
  void (*softmax_stats)(const float* x, int64_t n, int64_t inner, int64_t row_stride, float* m, float* s);
  // y[k, i] = exp(x[k, i] - m[i]) * f[i] (f = 1 / s gives the softmax).
  void (*softmax_apply)(const float* x, float* y, int64_t n, int64_t inner, int64_t row_stride, const float* m,
                        const float* f);
  // y[i] = reduce over k < n of x[k * inner + i], i < inner.
  void (*reduce)(ReduceKind kind, const float* x, float* y, int64_t n, int64_t inner);
  // y[k, i] = (x[k, i] - mean_i) / sqrt(var_i + eps) * gamma[k] + beta[k] (gamma/beta may be null).
  void (*layer_norm)(const float* x, float* y, int64_t n, int64_t inner, const float* gamma, const float* beta,
                     float eps);
  // y[r, i] += bias[r] for a [rows, inner] block.
  void (*add_row_bias)(float* y, const float* bias, int64_t rows, int64_t inner);
  // A GEMM micro-panel: dst[p * panel + i] = src(i, p) for i < rows, p < k, and zeros for
  // rows <= i < panel (the layout the GEMM micro-kernels read, micro_kernel.h).
  void (*pack_panel)(float* dst, int64_t panel, const PackSource& src, int64_t rows, int64_t k);
};

const Kernels& kernels();
const Kernels& portable_kernels();  // for tests: the other path, also on AVX2 machines

// Kernels::softmax over a single row (inner 1) takes its max and sum in this many lanes,
// element k in lane k % kRowLanes from the row's start (then the lanes in order, then the
// tail): a softmax over a prefix of whole lane groups, or a suffix starting on one, adds the
// same values in the same order as over the whole row when the rest are exact zeros.
inline constexpr int64_t kRowLanes = 8;

// The sum of the squares of `count` elements `step` apart, in fp32 in a fixed order (16
// lanes, added pairwise): for chunks of a few hundred values; callers go on in double.
float line_sum_of_squares(const float* x, int64_t count, int64_t step);

// y = scale * softmax over the n rows of a contiguous [n, inner] block, for each column,
// shared out over `pool` (null: this thread) by row ranges and column tiles: a softmax over
// channels has a single outer block and long columns (the classifier's [V, S] logits, a
// [1, C, 1, S] channel softmax). Two passes over x; the row ranges depend on n alone, so the
// result does not depend on the thread count.
void softmax_columns(const float* x, float* y, int64_t n, int64_t inner, ThreadPool* pool, float scale = 1.0f);

}  // namespace ane::cpu
