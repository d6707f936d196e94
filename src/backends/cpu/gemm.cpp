// Linear family: 1x1 convolutions, matmul and linear as sgemm calls (blas.h).
// Constant weights are already fp32 in the executable's constant buffer (converted once at
// compile time); every product runs on the executable's pool (Runtime). Convolutions other than
// 1x1 / stride 1 / no padding / groups 1 fall back to the reference kernel.
#include <algorithm>
#include <bit>
#include <cmath>
#include <optional>
#include <string>

#include "backends/cpu/blas.h"
#include "backends/cpu/plan.h"
#include "backends/ref/elementwise.h"
#include "backends/ref/linear.h"
#include "backends/ref/lowering.h"
#include "core/fp16.h"

namespace ane::cpu {

namespace {

// A GEMM operand as its step reads it: fp32 at `data`, or fp16 straight from an input's bytes
// (resolved at run time, when the input is bound).
struct Operand {
  const float* data;
  HalfOperand half;
  MatrixRef at(int64_t offset, int64_t rs, int64_t cs) const {
    if (half.base != nullptr) return {nullptr, rs, cs, *half.base + half.offset + offset};
    return {data + offset, rs, cs};
  }
};

Operand operand(const LowerCtx& ctx, const mil::Value* v) { return {ctx.data(v), ctx.half_operand(v)}; }

Error not_fast(const mil::Op& op, const std::string& why) {
  return ref::op_error(op, "", why, ErrorCode::kUnsupported);
}

// A convolution that is one GEMM per batch item: 1x1 kernel, stride 1, no padding, one group.
Expected<bool> conv_is_gemm(const mil::Op& op) {
  const mil::Value* x = op.arg_value("x");
  const mil::Value* w = op.arg_value("weight");
  if (x == nullptr || w == nullptr) return false;
  ANE_ASSIGN_OR_RETURN(int64_t groups, ref::int_arg(op, "groups", 1));
  const int spatial = x->type.rank() - 2;
  ANE_ASSIGN_OR_RETURN(std::vector<int64_t> strides, ref::ints_arg(op, "strides", std::vector<int64_t>(static_cast<size_t>(std::max(spatial, 0)), 1)));
  ANE_ASSIGN_OR_RETURN(std::string pad_type, ref::string_arg(op, "pad_type", "valid"));
  std::vector<int64_t> pad;
  if (pad_type == "custom") {
    ANE_ASSIGN_OR_RETURN(pad, ref::ints_arg(op, "pad"));
  }
  const bool one_by_one = spatial >= 1 && w->type.rank() == x->type.rank() &&
                          std::all_of(w->type.shape.begin() + 2, w->type.shape.end(), [](int64_t d) { return d == 1; });
  return one_by_one && groups == 1 && std::all_of(strides.begin(), strides.end(), [](int64_t s) { return s == 1; }) &&
         std::all_of(pad.begin(), pad.end(), [](int64_t p) { return p == 0; });
}

// y[n] = w [Cout, Cin] @ x[n] [Cin, HW] (+ bias per output channel).
Expected<StepFn> lower_conv(const mil::Op& op, LowerCtx& ctx) {
  ANE_ASSIGN_OR_RETURN(bool gemm, conv_is_gemm(op));
  if (!gemm) return not_fast(op, "only 1x1 convolutions run as GEMM");
  const mil::Value* x = ctx.arg(op, "x");
  const mil::Value* w = ctx.arg(op, "weight");
  const mil::Value* bias = ctx.arg(op, "bias");
  const mil::Value* y = op.outputs[0];
  const int64_t batch = x->type.shape[0], cin = x->type.shape[1], cout = w->type.shape[0];
  const int64_t hw = x->type.num_elements() / (batch * cin);
  const int64_t x_rows = ctx.row_stride(x, hw);
  const Operand xo = operand(ctx, x), wo = operand(ctx, w);
  const float* bp = bias ? ctx.data(bias) : nullptr;
  float* yp = ctx.mutable_data(y);
  Runtime* rt = &ctx.runtime();
  const Kernels* k = &ctx.k();
  return StepFn([=] {
    for (int64_t n = 0; n < batch; ++n) {
      float* yn = yp + n * cout * hw;
      sgemm(wo.at(0, cin, 1), xo.at(n * cin * hw, x_rows, 1), yn, hw, cout, hw, cin, 0.0f, rt->pool.get());
      if (bp) k->add_row_bias(yn, bp, cout, hw);
    }
    return Status();
  });
}

struct BatchPair {
  int64_t x, y;  // element offsets of one batch's matrices
};

// The largest sum of squares over x's rows (element (i, p) at i * rs + p * cs); inf when some
// element is inf or NaN (or the sum overflows). Reads each element once, along whichever
// stride is 1. Sums run in fp32 over at most 256 terms (relative error below 2^-16), then in
// double.
double max_row_sum_of_squares(const MatrixRef& x, int64_t rows, int64_t cols) {
  constexpr int64_t kChunk = 256;
  float line[kChunk];
  // count elements from `offset`, `stride` apart, as floats
  auto load = [&](int64_t offset, int64_t count, int64_t stride) -> const float* {
    if (stride == 1 && x.halves == nullptr) return x.data + offset;
    if (stride == 1) {
      halves_to_floats(line, x.halves + offset, static_cast<size_t>(count));
    } else if (x.halves != nullptr) {  // gathered, then converted in one vector pass
      half_bits gathered[kChunk];
      for (int64_t t = 0; t < count; ++t) gathered[t] = x.halves[offset + t * stride];
      halves_to_floats(line, gathered, static_cast<size_t>(count));
    } else {
      for (int64_t t = 0; t < count; ++t) line[t] = x.data[offset + t * stride];
    }
    return line;
  };
  double best = 0;
  if (x.rs == 1) {  // a row's elements are apart, rows are adjacent: sum a chunk of rows at once
    float part[kChunk];
    double acc[kChunk];
    for (int64_t i0 = 0; i0 < rows; i0 += kChunk) {
      const int64_t count = std::min(kChunk, rows - i0);
      std::fill_n(acc, count, 0.0);
      for (int64_t p0 = 0; p0 < cols; p0 += kChunk) {
        std::fill_n(part, count, 0.0f);
        for (int64_t p = p0; p < std::min(cols, p0 + kChunk); ++p) {
          const float* v = load(i0 + p * x.cs, count, 1);
          for (int64_t t = 0; t < count; ++t) part[t] += v[t] * v[t];
        }
        for (int64_t t = 0; t < count; ++t) acc[t] += part[t];
      }
      for (int64_t t = 0; t < count; ++t) {
        if (!std::isfinite(acc[t])) return INFINITY;
        best = std::max(best, acc[t]);
      }
    }
    return best;
  }
  for (int64_t i = 0; i < rows; ++i) {
    double acc = 0;
    for (int64_t p0 = 0; p0 < cols; p0 += kChunk) {
      const int64_t count = std::min(kChunk, cols - p0);
      acc += line_sum_of_squares(load(i * x.rs + p0 * x.cs, count, x.cs), count, 1);
    }
    if (!std::isfinite(acc)) return INFINITY;
    best = std::max(best, acc);
  }
  return best;
}

// kLower when the n x n matrix x is zero above its diagonal, kUpper when below it, else
// kFull. Reads along x's contiguous stride and stops at the first nonzero, so a dense matrix
// costs a read or two and only a triangular one is read half through.
Triangle zero_triangle(const MatrixRef& x, int64_t n) {
  const bool inner_is_j = x.cs == 1;  // walk row i's elements (j inner) or column j's (i inner)
  const int64_t outer_step = inner_is_j ? x.rs : x.cs, inner_step = inner_is_j ? x.cs : x.rs;
  // True when elements [lo, hi) of line `outer` are all +-0: an OR of their bits without the
  // sign, which vectorises when the line is contiguous; a dense line stops at its first block.
  auto zero_run = [&](int64_t outer, int64_t lo, int64_t hi) {
    constexpr int64_t kBlock = 64;
    for (int64_t b = lo; b < hi; b += kBlock) {
      const int64_t e = std::min(hi, b + kBlock);
      uint32_t bits = 0;
      if (x.halves) {
        const uint16_t* h = x.halves + outer * outer_step;
        for (int64_t t = b; t < e; ++t) bits |= h[t * inner_step] & 0x7fffu;
      } else if (inner_step == 1) {
        const float* f = x.data + outer * outer_step;
        for (int64_t t = b; t < e; ++t) bits |= std::bit_cast<uint32_t>(f[t]) & 0x7fffffffu;
      } else {
        const float* f = x.data + outer * outer_step;
        for (int64_t t = b; t < e; ++t) bits |= std::bit_cast<uint32_t>(f[t * inner_step]) & 0x7fffffffu;
      }
      if (bits != 0) return false;
    }
    return true;
  };
  auto zero_where = [&](bool above) {  // above: j > i; below: j < i
    // For each outer index, the inner ones on that side: after it or before it.
    const bool after = inner_is_j == above;
    for (int64_t outer = 0; outer < n; ++outer) {
      if (!zero_run(outer, after ? outer + 1 : 0, after ? n : outer)) return false;
    }
    return true;
  };
  if (zero_where(true)) return Triangle::kLower;
  if (zero_where(false)) return Triangle::kUpper;
  return Triangle::kFull;
}

// The triangles of a product's square operands (a: m x k, b: k x n) that are zero this run;
// none when the product would need them added (an inf or NaN in the other operand).
Structure zero_triangles(const MatrixRef& a, const MatrixRef& b, int64_t m, int64_t n, int64_t k) {
  constexpr int64_t kMinSide = 32;  // below this a scan buys little
  Structure st;
  if (m == k && k >= kMinSide) st.a = zero_triangle(a, k);
  if (n == k && k >= kMinSide) st.b = zero_triangle(b, k);
  if (st.a != Triangle::kFull && !std::isfinite(max_row_sum_of_squares(b, k, n))) return {};
  if (st.b != Triangle::kFull && !std::isfinite(max_row_sum_of_squares(a, m, k))) return {};
  return st;
}

// The structure of product `index` (operands at `batch`) of a matmul with a causal role, a
// m x k, b k x n. The scores product decides from its operands' norms whether this run skips
// P's masked triangle and records it in the role's state for the softmax and P's readers.
Structure causal_structure(const CausalRole& role, size_t index, const BatchPair& batch, const MatrixRef& a,
                           const MatrixRef& b, int64_t m, int64_t n, int64_t k, bool tx, bool ty) {
  const Triangle kept = role.keep_lower ? Triangle::kLower : Triangle::kUpper;
  std::vector<uint8_t>& skipped = role.state->skipped;
  if (role.kind == CausalRole::Kind::kScores) {
    const double bound =
        std::sqrt(max_row_sum_of_squares(a, m, k)) * std::sqrt(max_row_sum_of_squares(transposed(b), n, k));
    skipped[index] = bound <= role.product_limit;  // false for inf and NaN
    return skipped[index] ? Structure{Triangle::kFull, Triangle::kFull, kept} : Structure{};
  }
  const bool p_is_a = role.operand == "x";
  const size_t block = static_cast<size_t>(p_is_a ? batch.x / (m * k) : batch.y / (k * n));
  if (!skipped[block]) return {};
  // 0 * inf is NaN: with a non-finite entry in the other operand, the zeros must be added.
  const double other = p_is_a ? max_row_sum_of_squares(b, k, n) : max_row_sum_of_squares(a, m, k);
  if (!std::isfinite(other)) return {};
  if (p_is_a) return {tx ? transposed(kept) : kept, Triangle::kFull, Triangle::kFull};
  return {Triangle::kFull, ty ? transposed(kept) : kept, Triangle::kFull};
}

Expected<StepFn> lower_matmul(const mil::Op& op, LowerCtx& ctx) {
  const mil::Value* x = ctx.arg(op, "x");
  const mil::Value* y = ctx.arg(op, "y");
  ANE_ASSIGN_OR_RETURN(bool tx_arg, ref::bool_arg(op, "transpose_x", false));
  ANE_ASSIGN_OR_RETURN(bool ty_arg, ref::bool_arg(op, "transpose_y", false));
  const ref::MatmulDims d = ref::matmul_dims(x->type.shape, y->type.shape, tx_arg, ty_arg);
  if (!d.valid) return ref::op_error(op, "y", "operands do not multiply");
  const bool tx = x->type.rank() > 1 && tx_arg, ty = y->type.rank() > 1 && ty_arg;
  const int64_t m = d.m, n = d.n, kk = d.k;
  // Stored rows are shape.back() long (a transpose only swaps the strides).
  const int64_t x_rows = ctx.row_stride(x, x->type.shape.back()), y_rows = ctx.row_stride(y, y->type.shape.back());
  const Operand a = operand(ctx, x), b = operand(ctx, y);
  const int64_t a_rs = tx ? 1 : x_rows, a_cs = tx ? x_rows : 1, b_rs = ty ? 1 : y_rows, b_cs = ty ? y_rows : 1;
  std::vector<BatchPair> batches;
  ref::for_each_broadcast<2>(d.batch_out, {&d.batch_x, &d.batch_y}, [&](int64_t, const std::array<int64_t, 2>& o) {
    batches.push_back({o[0] * m * kk, o[1] * kk * n});
  });
  float* out = ctx.mutable_data(op.outputs[0]);
  Runtime* rt = &ctx.runtime();
  const CausalRole* found = ctx.causal_role(op);
  const std::optional<CausalRole> role = found ? std::optional<CausalRole>(*found) : std::nullopt;
  const bool scan = ctx.skip_zero_triangles() && (m == kk || n == kk);
  return StepFn([=] {
    auto one = [&](size_t i, ThreadPool* pool) {
      const MatrixRef ma = a.at(batches[i].x, a_rs, a_cs), mb = b.at(batches[i].y, b_rs, b_cs);
      const Structure st = role   ? causal_structure(*role, i, batches[i], ma, mb, m, n, kk, tx, ty)
                           : scan ? zero_triangles(ma, mb, m, n, kk)
                                  : Structure{};
      if (st.any()) rt->triangle_products.fetch_add(1, std::memory_order_relaxed);
      sgemm(ma, mb, out + static_cast<int64_t>(i) * m * n, n, m, n, kk, 0.0f, pool, {st});
    };
    if (batches.size() == 1) {
      one(0, rt->pool.get());
    } else {  // e.g. attention heads: one whole product per thread
      rt->pool->parallel_for(batches.size(), 1, [&](size_t b0, size_t b1) {
        for (size_t i = b0; i < b1; ++i) one(i, nullptr);
      });
    }
    return Status();
  });
}

// out[r, o] = sum_i x[r, i] w[o, i] + bias[o]: b = w read transposed.
Expected<StepFn> lower_linear(const mil::Op& op, LowerCtx& ctx) {
  const mil::Value* x = ctx.arg(op, "x");
  const mil::Value* w = ctx.arg(op, "weight");
  const mil::Value* bias = ctx.arg(op, "bias");
  const int64_t din = w->type.shape[1], dout = w->type.shape[0];
  const int64_t rows = x->type.num_elements() / std::max<int64_t>(din, 1);
  const int64_t x_rows = ctx.row_stride(x, din);
  const Operand xo = operand(ctx, x), wo = operand(ctx, w);
  const float* bp = bias ? ctx.data(bias) : nullptr;
  float* out = ctx.mutable_data(op.outputs[0]);
  Runtime* rt = &ctx.runtime();
  return StepFn([=] {
    sgemm(xo.at(0, x_rows, 1), wo.at(0, 1, din), out, dout, rows, dout, din, 0.0f, rt->pool.get());
    if (bp) {
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t o = 0; o < dout; ++o) out[r * dout + o] += bp[o];
      }
    }
    return Status();
  });
}

constexpr FamilyEntry kGemmOps[] = {
    {"conv", lower_conv},
    {"matmul", lower_matmul},
    {"linear", lower_linear},
};

int64_t product(std::span<const int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims) p *= d;
  return p;
}

}  // namespace

std::span<const FamilyEntry> gemm_ops() { return kGemmOps; }

bool gemm_reads_strided(const mil::Op& op, std::string_view arg, int64_t cols) {
  const mil::Value* v = op.arg_value(arg);
  if (v == nullptr) return false;
  const std::vector<int64_t>& s = v->type.shape;
  if (op.type == "matmul" && (arg == "x" || arg == "y")) {  // one matrix: no batch offsets
    return s.size() >= 2 && s.back() == cols && product(std::span(s).first(s.size() - 2)) == 1;
  }
  if (op.type == "linear" && arg == "x") return !s.empty() && s.back() == cols;
  if (op.type == "conv" && arg == "x") {  // one batch item, [Cin, spatial]
    auto gemm = conv_is_gemm(op);
    return gemm.ok() && *gemm && s.size() >= 3 && s[0] == 1 && product(std::span(s).subspan(2)) == cols;
  }
  return false;
}

bool gemm_reads_halves(const mil::Op& op, std::string_view arg) {
  if (op.type == "matmul") return arg == "x" || arg == "y";
  if (op.type == "linear") return arg == "x" || arg == "weight";
  if (op.type == "conv" && (arg == "x" || arg == "weight")) {
    auto gemm = conv_is_gemm(op);
    return gemm.ok() && *gemm;
  }
  return false;
}

}  // namespace ane::cpu
