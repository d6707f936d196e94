// Shape family: transpose, slice_by_size, split and concat as strided copies planned at
// compile time (reshape, expand_dims, squeeze and identity are views and never get here;
// concat inputs written in place by their producers -- taps -- are not copied). The other
// shape ops (slice_by_index, tile, gather) run through the reference kernels.
#include <array>
#include <cstring>
#include <string>

#include "backends/cpu/plan.h"
#include "backends/ref/lowering.h"

namespace ane::cpu {
namespace {

struct CopyPlan {
  int rank = 0;
  std::array<int64_t, kMaxRank> dims{}, src_strides{}, dst_strides{};
  const float* src = nullptr;
  float* dst = nullptr;
};

Shape row_major(const Shape& s) {
  Shape st(s.size(), 1);
  for (size_t d = s.size(); d-- > 1;) st[d - 1] = st[d] * s[d];
  return st;
}

// Drops size-1 axes and merges axes both sides walk contiguously.
bool make_plan(const Shape& dims, const Shape& src, const Shape& dst, CopyPlan& p) {
  std::vector<int64_t> d, s, t;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 1) continue;
    if (!d.empty() && s.back() == src[i] * dims[i] && t.back() == dst[i] * dims[i]) {
      d.back() *= dims[i];
      s.back() = src[i];
      t.back() = dst[i];
      continue;
    }
    d.push_back(dims[i]);
    s.push_back(src[i]);
    t.push_back(dst[i]);
  }
  if (d.empty()) d = {1}, s = {1}, t = {1};
  if (d.size() > static_cast<size_t>(kMaxRank)) return false;
  p.rank = static_cast<int>(d.size());
  for (size_t i = 0; i < d.size(); ++i) p.dims[i] = d[i], p.src_strides[i] = s[i], p.dst_strides[i] = t[i];
  return true;
}

// Rows [r0, r1) of the plan (its innermost axis is a row).
void copy_rows(const CopyPlan& p, int64_t r0, int64_t r1) {
  const int last = p.rank - 1;
  const int64_t n = p.dims[static_cast<size_t>(last)];
  const int64_t ss = p.src_strides[static_cast<size_t>(last)], ds = p.dst_strides[static_cast<size_t>(last)];
  for (int64_t r = r0; r < r1; ++r) {
    int64_t so = 0, dof = 0, rest = r;
    for (int d = last; d-- > 0;) {
      const int64_t i = rest % p.dims[static_cast<size_t>(d)];
      rest /= p.dims[static_cast<size_t>(d)];
      so += i * p.src_strides[static_cast<size_t>(d)];
      dof += i * p.dst_strides[static_cast<size_t>(d)];
    }
    const float* s = p.src + so;
    float* t = p.dst + dof;
    if (ss == 1 && ds == 1) {
      std::memcpy(t, s, static_cast<size_t>(n) * sizeof(float));
    } else {
      for (int64_t i = 0; i < n; ++i) t[i * ds] = s[i * ss];
    }
  }
}

int64_t rows_of(const CopyPlan& p) {
  int64_t rows = 1;
  for (int d = 0; d + 1 < p.rank; ++d) rows *= p.dims[static_cast<size_t>(d)];
  return rows;
}

// The plans' copies; a large one is shared out over the pool by rows.
Expected<StepFn> copies_step(std::vector<CopyPlan> plans, Runtime& rt) {
  if (plans.empty()) return StepFn();
  constexpr int64_t kSplitElements = int64_t{1} << 16;
  return StepFn([plans = std::move(plans), rt = &rt] {
    for (const CopyPlan& p : plans) {
      const int64_t rows = rows_of(p);
      if (rows > 1 && rows * p.dims[static_cast<size_t>(p.rank - 1)] >= kSplitElements && rt->threads() > 1) {
        rt->pool->parallel_for(static_cast<size_t>(rows), 1, [&](size_t r0, size_t r1) {
          copy_rows(p, static_cast<int64_t>(r0), static_cast<int64_t>(r1));
        });
      } else {
        copy_rows(p, 0, rows);
      }
    }
    return Status();
  });
}

Error too_deep(const mil::Op& op) { return ref::op_error(op, "", "rank too large", ErrorCode::kUnsupported); }

Expected<StepFn> lower_transpose(const mil::Op& op, LowerCtx& ctx) {
  const mil::Value* x = ctx.arg(op, "x");
  ANE_ASSIGN_OR_RETURN(std::vector<int64_t> perm, ref::ints_arg(op, "perm"));
  const Shape xs = row_major(x->type.shape);
  const Shape& out = op.outputs[0]->type.shape;
  Shape src;
  for (int64_t p : perm) src.push_back(xs[static_cast<size_t>(ref::normalize_axis(p, x->type.rank()))]);
  CopyPlan plan;
  if (!make_plan(out, src, row_major(out), plan)) return too_deep(op);
  plan.src = ctx.data(x);
  plan.dst = ctx.mutable_data(op.outputs[0]);
  return copies_step({plan}, ctx.runtime());
}

Expected<StepFn> lower_slice_by_size(const mil::Op& op, LowerCtx& ctx) {
  const mil::Value* x = ctx.arg(op, "x");
  ANE_ASSIGN_OR_RETURN(SliceRegion region, slice_region(op, x->type.shape));
  if (op.outputs[0]->type.num_elements() == 0) return StepFn();
  Shape dims, src;
  for (auto it = region.axes.rbegin(); it != region.axes.rend(); ++it) {
    dims.push_back(it->first);
    src.push_back(it->second);
  }
  CopyPlan plan;
  if (!make_plan(dims, src, row_major(dims), plan)) return too_deep(op);
  plan.src = ctx.data(x) + region.base;
  plan.dst = ctx.mutable_data(op.outputs[0]);
  return copies_step({plan}, ctx.runtime());
}

Expected<StepFn> lower_concat(const mil::Op& op, LowerCtx& ctx) {
  ANE_ASSIGN_OR_RETURN(bool interleave, ref::bool_arg(op, "interleave", false));
  if (interleave) return ref::op_error(op, "interleave", "interleaved concat", ErrorCode::kUnsupported);
  const mil::Value* out = op.outputs[0];
  ANE_ASSIGN_OR_RETURN(int64_t raw, ref::int_arg(op, "axis"));
  ANE_ASSIGN_OR_RETURN(int axis, ref::axis_arg_value(op, "axis", raw, out->type.rank()));
  const Shape os = row_major(out->type.shape);
  float* dst = ctx.mutable_data(out);
  std::vector<CopyPlan> plans;
  int64_t at = 0;
  for (const mil::Value* raw_v : op.arg("values")->values) {
    const mil::Value* v = ctx.canonical(raw_v);
    const int64_t len = v->type.shape[static_cast<size_t>(axis)];
    if (const auto piece = ctx.split_piece(v)) {  // read in the split's input
      const Shape xs = row_major(piece->x->type.shape);
      CopyPlan plan;
      if (!make_plan(v->type.shape, xs, os, plan)) return too_deep(op);
      plan.src = ctx.data(piece->x) + piece->start * xs[static_cast<size_t>(piece->axis)];
      plan.dst = dst + at * os[static_cast<size_t>(axis)];
      plans.push_back(plan);
    } else if (!ctx.is_tap(v)) {
      CopyPlan plan;
      if (!make_plan(v->type.shape, row_major(v->type.shape), os, plan)) return too_deep(op);
      plan.src = ctx.data(v);
      plan.dst = dst + at * os[static_cast<size_t>(axis)];
      plans.push_back(plan);
    }
    at += len;
  }
  return copies_step(std::move(plans), ctx.runtime());
}

// Each output is the next block along the axis: one strided copy per output.
Expected<StepFn> lower_split(const mil::Op& op, LowerCtx& ctx) {
  const mil::Value* x = ctx.arg(op, "x");
  ANE_ASSIGN_OR_RETURN(int64_t raw, ref::int_arg(op, "axis"));
  ANE_ASSIGN_OR_RETURN(int axis, ref::axis_arg_value(op, "axis", raw, x->type.rank()));
  const Shape xs = row_major(x->type.shape);
  std::vector<CopyPlan> plans;
  int64_t at = 0;
  for (const mil::Value* out : op.outputs) {
    CopyPlan plan;
    if (!make_plan(out->type.shape, xs, row_major(out->type.shape), plan)) return too_deep(op);
    plan.src = ctx.data(x) + at * xs[static_cast<size_t>(axis)];
    plan.dst = ctx.mutable_data(out);
    plans.push_back(plan);
    at += out->type.shape[static_cast<size_t>(axis)];
  }
  return copies_step(std::move(plans), ctx.runtime());
}

constexpr FamilyEntry kShapeOps[] = {
    {"transpose", lower_transpose},
    {"slice_by_size", lower_slice_by_size},
    {"concat", lower_concat},
    {"split", lower_split},
};

}  // namespace

std::span<const FamilyEntry> shape_ops() { return kShapeOps; }

Expected<SliceRegion> slice_region(const mil::Op& op, const Shape& x_shape) {
  ANE_ASSIGN_OR_RETURN(std::vector<int64_t> begin, ref::ints_arg(op, "begin"));
  ANE_ASSIGN_OR_RETURN(std::vector<int64_t> size, ref::ints_arg(op, "size"));
  if (begin.size() != x_shape.size() || size.size() != x_shape.size()) {
    return ref::op_error(op, "begin", "needs one entry per axis");
  }
  SliceRegion r;
  int64_t stride = 1;
  for (size_t d = x_shape.size(); d-- > 0;) {
    const int64_t b = begin[d] < 0 ? begin[d] + x_shape[d] : begin[d];
    const int64_t n = size[d] == -1 ? x_shape[d] - b : size[d];
    if (b < 0 || n < 0 || b + n > x_shape[d]) return ref::op_error(op, "size", "slice outside x");
    r.base += b * stride;
    if (n > 1) {
      if (!r.axes.empty() && r.axes.back().first * r.axes.back().second == stride) {
        r.axes.back().first *= n;
      } else {
        r.axes.push_back({n, stride});
      }
    }
    stride *= x_shape[d];
  }
  return r;
}

}  // namespace ane::cpu
