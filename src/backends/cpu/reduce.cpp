// Reduce family: reduce_sum/mean/max/min over a contiguous range of axes, softmax and
// layer_norm. All view x as [outer, n, inner] (n: the reduced axes, inner: the axes after
// them) and run one kernel call per outer index, spread over the pool. Reductions over
// non-adjacent axes fall back to the reference kernel.
#include <algorithm>
#include <string>

#include "backends/cpu/plan.h"
#include "backends/ref/lowering.h"

namespace ane::cpu {
namespace {

struct Blocks {
  int64_t outer = 1, n = 1, inner = 1;
};

// x viewed as [outer, n, inner] with n spanning axes [first, last]; false if not adjacent.
bool blocks_of(const Shape& s, const std::vector<int>& axes, Blocks& b) {
  for (size_t i = 1; i < axes.size(); ++i) {
    if (axes[i] != axes[i - 1] + 1) return false;
  }
  const int first = axes.empty() ? 0 : axes.front();
  const int last = axes.empty() ? -1 : axes.back();
  for (int d = 0; d < static_cast<int>(s.size()); ++d) {
    const int64_t dim = s[static_cast<size_t>(d)];
    (d < first ? b.outer : (d <= last ? b.n : b.inner)) *= dim;
  }
  return true;
}

// Calls fn(o) for o < outer on the pool when there is enough work.
template <typename F>
void for_outer(Runtime& rt, const Blocks& b, F* fn) {
  if (b.outer == 1 || b.outer * b.n * b.inner < 16384) {
    for (int64_t o = 0; o < b.outer; ++o) (*fn)(o);
    return;
  }
  rt.pool->parallel_for(static_cast<size_t>(b.outer), 1, [fn](size_t begin, size_t end) {
    for (size_t o = begin; o < end; ++o) (*fn)(static_cast<int64_t>(o));
  });
}

Error not_fast(const mil::Op& op) { return ref::op_error(op, "axes", "non-adjacent axes", ErrorCode::kUnsupported); }

Expected<StepFn> lower_reduce(const mil::Op& op, LowerCtx& ctx) {
  const mil::Value* x = ctx.arg(op, "x");
  ANE_ASSIGN_OR_RETURN(std::vector<int> axes, ref::axes_arg(op, "axes", x->type.rank()));
  Blocks b;
  if (!blocks_of(x->type.shape, axes, b) || b.n == 0) return not_fast(op);
  const ReduceKind kind = op.type == "reduce_max" ? ReduceKind::kMax
                          : op.type == "reduce_min" ? ReduceKind::kMin
                                                    : ReduceKind::kSum;
  const float scale = op.type == "reduce_mean" ? 1.0f / static_cast<float>(b.n) : 1.0f;
  const float* xp = ctx.data(x);
  float* yp = ctx.mutable_data(op.outputs[0]);
  const Kernels* k = &ctx.k();
  Runtime* rt = &ctx.runtime();
  return StepFn([=] {
    auto one = [&](int64_t o) {
      float* y = yp + o * b.inner;
      k->reduce(kind, xp + o * b.n * b.inner, y, b.n, b.inner);
      if (scale != 1.0f) {
        for (int64_t i = 0; i < b.inner; ++i) y[i] *= scale;
      }
    };
    for_outer(*rt, b, &one);
    return Status();
  });
}

// Softmax over rows of S under a causal mask (plan.h's CausalRole), its input made row by
// row from the scores with the kernels a fused group would use (so the same roundings).
// Where this run's scores product skipped the masked triangle, a row's softmax runs over its
// kept entries, widened to whole lane groups from the row's start (kRowLanes), and the rest
// is set to 0: the same lanes add the same values as over the whole row, whose other terms
// are exact 0s.
StepFn causal_softmax(const CausalRole& role, const float* scores, float* yp, const Blocks& b, const Kernels* k,
                      Runtime* rt, bool round_fp16) {
  return StepFn([=] {
    const int64_t S = role.seq;
    const float* mask = role.mask->data();
    auto one = [&](int64_t o) {
      float* y = yp + o * S;
      const int64_t row = o % S;
      int64_t lo = 0, hi = S;
      if (role.state->skipped[static_cast<size_t>(o / S)]) {
        if (role.keep_lower) {
          hi = std::min(S, (row + kRowLanes) / kRowLanes * kRowLanes);
        } else {
          lo = row / kRowLanes * kRowLanes;
        }
      }
      const int64_t n = hi - lo;
      std::fill(y, y + lo, 0.0f);
      const float* in = scores + o * S + lo;
      if (role.scale) {
        k->ew(EwKind::kMul, y + lo, in, 1, &*role.scale, 0, n, 0, 0);
        if (round_fp16) k->round_fp16(y + lo, n);
        in = y + lo;
      }
      k->ew(EwKind::kAdd, y + lo, in, 1, mask + row * S + lo, 1, n, 0, 0);
      if (round_fp16) k->round_fp16(y + lo, n);
      k->softmax(y + lo, y + lo, n, 1);
      std::fill(y + hi, y + S, 0.0f);
    };
    for_outer(*rt, b, &one);
    return Status();
  });
}

Expected<StepFn> lower_softmax(const mil::Op& op, LowerCtx& ctx) {
  const mil::Value* x = ctx.arg(op, "x");
  ANE_ASSIGN_OR_RETURN(int64_t raw, ref::int_arg(op, "axis", -1));
  ANE_ASSIGN_OR_RETURN(int axis, ref::axis_arg_value(op, "axis", raw, x->type.rank()));
  Blocks b;
  blocks_of(x->type.shape, {axis}, b);
  const float* xp = ctx.data(x);
  float* yp = ctx.mutable_data(op.outputs[0]);
  const Kernels* k = &ctx.k();
  Runtime* rt = &ctx.runtime();
  if (const CausalRole* role = ctx.causal_role(op)) {
    return causal_softmax(*role, ctx.data(role->scores), yp, b, k, rt, ctx.precision() == Precision::kFp16);
  }
  return StepFn([=] {
    if (b.outer == 1) {  // one block: share out its columns instead
      softmax_columns(xp, yp, b.n, b.inner, rt->threads() > 1 ? rt->pool.get() : nullptr);
      return Status();
    }
    auto one = [&](int64_t o) { k->softmax(xp + o * b.n * b.inner, yp + o * b.n * b.inner, b.n, b.inner); };
    for_outer(*rt, b, &one);
    return Status();
  });
}

Expected<StepFn> lower_layer_norm(const mil::Op& op, LowerCtx& ctx) {
  const mil::Value* x = ctx.arg(op, "x");
  const mil::Value* gamma = ctx.arg(op, "gamma");
  const mil::Value* beta = ctx.arg(op, "beta");
  ANE_ASSIGN_OR_RETURN(std::vector<int> axes, ref::axes_arg(op, "axes", x->type.rank()));
  ANE_ASSIGN_OR_RETURN(double eps, ref::float_arg(op, "epsilon", 1e-5));
  Blocks b;
  if (!blocks_of(x->type.shape, axes, b) || b.n == 0) return not_fast(op);
  for (const mil::Value* p : {gamma, beta}) {
    if (p && p->type.num_elements() != b.n) return ref::op_error(op, "gamma", "size differs from the normalised axes");
  }
  const float* xp = ctx.data(x);
  const float* gp = gamma ? ctx.data(gamma) : nullptr;
  const float* bp = beta ? ctx.data(beta) : nullptr;
  float* yp = ctx.mutable_data(op.outputs[0]);
  const auto e = static_cast<float>(eps);
  const Kernels* k = &ctx.k();
  Runtime* rt = &ctx.runtime();
  return StepFn([=] {
    auto one = [&](int64_t o) {
      k->layer_norm(xp + o * b.n * b.inner, yp + o * b.n * b.inner, b.n, b.inner, gp, bp, e);
    };
    for_outer(*rt, b, &one);
    return Status();
  });
}

constexpr FamilyEntry kReduceOps[] = {
    {"reduce_sum", lower_reduce}, {"reduce_mean", lower_reduce}, {"reduce_max", lower_reduce},
    {"reduce_min", lower_reduce}, {"softmax", lower_softmax},    {"layer_norm", lower_layer_norm},
};

}  // namespace

std::span<const FamilyEntry> reduce_ops() { return kReduceOps; }

}  // namespace ane::cpu
