// Shape family. coremltools arguments: reshape(x, shape), expand_dims(x, axes),
// squeeze(x, axes), transpose(x, perm), concat(values, axis, interleave = false),
// split(x, num_splits | split_sizes, axis), slice_by_size(x, begin, size),
// slice_by_index(x, begin, end, stride, begin_mask, end_mask, squeeze_mask), tile(x, reps),
// gather(x, indices, axis = 0, batch_dims = 0).
#include "backends/ref/shape.h"

#include <algorithm>
#include <string>

#include "backends/ref/elementwise.h"
#include "backends/ref/lowering.h"

namespace ane::ref {
namespace {

std::string shape_string(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

Error output_mismatch(const mil::Op& op, std::string_view arg, const Shape& computed, const DTensor& out) {
  return op_error(op, arg, "computes shape " + shape_string(computed) + " but the output type is " + out.type.to_string());
}

// Equal rank and equal sizes on every axis but `axis`.
bool same_off_axis(const Shape& a, const Shape& b, int axis) {
  if (a.size() != b.size()) return false;
  for (size_t d = 0; d < a.size(); ++d) {
    if (static_cast<int>(d) != axis && a[d] != b[d]) return false;
  }
  return true;
}

// reshape, expand_dims, squeeze, identity: same elements, new shape.
Expected<Step> lower_copy(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  if (ctx.tensor(x).size() != ctx.tensor(out).size()) {
    return op_error(op, "x", ctx.tensor(x).type.to_string() + " has a different element count from the output " +
                                 ctx.tensor(out).type.to_string());
  }
  return Step([=](Slots& s) {
    copy_elements(s[x], s[out]);
    return Status();
  });
}

Expected<Step> lower_transpose(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  ANE_ASSIGN_OR_RETURN(std::vector<int64_t> raw, ints_arg(op, "perm"));
  const DTensor& xt = ctx.tensor(x);
  if (static_cast<int>(raw.size()) != xt.rank()) return op_error(op, "perm", "length differs from the rank of x");
  std::vector<int> perm;
  Shape shape;
  for (int64_t p : raw) {
    ANE_ASSIGN_OR_RETURN(int a, axis_arg_value(op, "perm", p, xt.rank()));
    if (std::find(perm.begin(), perm.end(), a) != perm.end()) return op_error(op, "perm", "is not a permutation");
    perm.push_back(a);
    shape.push_back(xt.dim(a));
  }
  if (shape != ctx.tensor(out).shape()) return output_mismatch(op, "perm", shape, ctx.tensor(out));
  return Step([=](Slots& s) {
    transpose(s[x], perm, s[out]);
    return Status();
  });
}

Expected<Step> lower_concat(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(std::vector<size_t> xs, ctx.tuple_operands(op, "values"));
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  ANE_ASSIGN_OR_RETURN(int64_t raw_axis, int_arg(op, "axis"));
  ANE_ASSIGN_OR_RETURN(bool interleave, bool_arg(op, "interleave", false));
  const Shape& first = ctx.tensor(xs[0]).shape();
  ANE_ASSIGN_OR_RETURN(int axis, axis_arg_value(op, "axis", raw_axis, static_cast<int>(first.size())));
  Shape shape = first;
  shape[static_cast<size_t>(axis)] = 0;
  for (size_t slot : xs) {
    const Shape& s = ctx.tensor(slot).shape();
    if (!same_off_axis(s, first, axis) || (interleave && s != first)) {
      return op_error(op, "values", "input shapes differ " + std::string(interleave ? "(interleave needs equal shapes)" : "off the axis"));
    }
    shape[static_cast<size_t>(axis)] += ctx.tensor(slot).dim(axis);
  }
  if (shape != ctx.tensor(out).shape()) return output_mismatch(op, "values", shape, ctx.tensor(out));
  return Step([=](Slots& s) {
    std::vector<const DTensor*> ins;
    for (size_t slot : xs) ins.push_back(&s[slot]);
    concat(ins, axis, interleave, s[out]);
    return Status();
  });
}

Expected<Step> lower_split(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  ANE_ASSIGN_OR_RETURN(int64_t raw_axis, int_arg(op, "axis"));
  ANE_ASSIGN_OR_RETURN(int axis, axis_arg_value(op, "axis", raw_axis, ctx.tensor(x).rank()));
  std::vector<size_t> outs;
  int64_t total = 0;
  for (size_t i = 0; i < op.outputs.size(); ++i) {
    ANE_ASSIGN_OR_RETURN(size_t o, ctx.result(op, i));
    if (!same_off_axis(ctx.tensor(o).shape(), ctx.tensor(x).shape(), axis)) {
      return output_mismatch(op, "x", ctx.tensor(x).shape(), ctx.tensor(o));
    }
    total += ctx.tensor(o).dim(axis);
    outs.push_back(o);
  }
  if (total != ctx.tensor(x).dim(axis)) return op_error(op, "x", "the outputs do not add up to the split axis");
  return Step([=](Slots& s) {
    std::vector<DTensor*> parts;
    for (size_t o : outs) parts.push_back(&s[o]);
    split(s[x], axis, parts);
    return Status();
  });
}

struct SliceGeometry {
  Shape begin, stride, count;
};

Expected<Step> make_slice_step(const mil::Op& op, Lowering& ctx, size_t x, const SliceGeometry& g) {
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  int64_t n = 1;
  for (int64_t c : g.count) n *= c;
  if (n != ctx.tensor(out).type.num_elements()) return output_mismatch(op, "begin", g.count, ctx.tensor(out));
  return Step([=](Slots& s) {
    strided_slice(s[x], g.begin, g.stride, g.count, s[out]);
    return Status();
  });
}

Expected<Step> lower_slice_by_size(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  ANE_ASSIGN_OR_RETURN(std::vector<int64_t> begin, ints_arg(op, "begin"));
  ANE_ASSIGN_OR_RETURN(std::vector<int64_t> size, ints_arg(op, "size"));
  const Shape& xs = ctx.tensor(x).shape();
  if (begin.size() != xs.size() || size.size() != xs.size()) {
    return op_error(op, "begin", "begin and size need one entry per axis of x " + ctx.tensor(x).type.to_string());
  }
  SliceGeometry g{Shape(xs.size()), Shape(xs.size(), 1), Shape(xs.size())};
  for (size_t d = 0; d < xs.size(); ++d) {
    g.begin[d] = begin[d] < 0 ? begin[d] + xs[d] : begin[d];
    g.count[d] = size[d] == -1 ? xs[d] - g.begin[d] : size[d];
    if (g.begin[d] < 0 || g.count[d] < 0 || g.begin[d] + g.count[d] > xs[d]) {
      return op_error(op, "size", "axis " + std::to_string(d) + ": [" + std::to_string(begin[d]) + ", +" +
                                      std::to_string(size[d]) + ") is outside " + std::to_string(xs[d]));
    }
  }
  return make_slice_step(op, ctx, x, g);
}

// numpy's slice normalisation along one axis of size n.
void normalize_slice(int64_t n, int64_t b, int64_t e, int64_t s, bool b_mask, bool e_mask, int64_t* begin,
                     int64_t* count) {
  auto wrap = [n](int64_t v) { return v < 0 ? v + n : v; };
  if (s > 0) {
    b = b_mask ? 0 : std::clamp<int64_t>(wrap(b), 0, n);
    e = e_mask ? n : std::clamp<int64_t>(wrap(e), 0, n);
    *count = e > b ? (e - b + s - 1) / s : 0;
  } else {
    b = b_mask ? n - 1 : std::clamp<int64_t>(wrap(b), -1, n - 1);
    e = e_mask ? -1 : std::clamp<int64_t>(wrap(e), -1, n - 1);
    *count = b > e ? (b - e - s - 1) / -s : 0;
  }
  *begin = b;
}

Expected<Step> lower_slice_by_index(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  const Shape& xs = ctx.tensor(x).shape();
  const size_t rank = xs.size();
  ANE_ASSIGN_OR_RETURN(std::vector<int64_t> begin, ints_arg(op, "begin"));
  ANE_ASSIGN_OR_RETURN(std::vector<int64_t> end, ints_arg(op, "end"));
  ANE_ASSIGN_OR_RETURN(std::vector<int64_t> stride, ints_arg(op, "stride", std::vector<int64_t>(rank, 1)));
  ANE_ASSIGN_OR_RETURN(std::vector<bool> begin_mask, bools_arg(op, "begin_mask", rank));
  ANE_ASSIGN_OR_RETURN(std::vector<bool> end_mask, bools_arg(op, "end_mask", rank));
  ANE_ASSIGN_OR_RETURN(std::vector<bool> squeeze_mask, bools_arg(op, "squeeze_mask", rank));
  for (size_t len : {begin.size(), end.size(), stride.size(), begin_mask.size(), end_mask.size(), squeeze_mask.size()}) {
    if (len != rank) return op_error(op, "begin", "every slice argument needs one entry per axis of x");
  }
  SliceGeometry g{Shape(rank), Shape(rank), Shape(rank)};
  for (size_t d = 0; d < rank; ++d) {
    if (stride[d] == 0) return op_error(op, "stride", "a stride is 0");
    g.stride[d] = squeeze_mask[d] ? 1 : stride[d];
    normalize_slice(xs[d], begin[d], end[d], g.stride[d], begin_mask[d], end_mask[d], &g.begin[d], &g.count[d]);
    if (squeeze_mask[d]) {
      g.count[d] = 1;
      if (g.begin[d] < 0 || g.begin[d] >= xs[d]) return op_error(op, "begin", "squeezed axis index out of range");
    }
  }
  return make_slice_step(op, ctx, x, g);
}

Expected<Step> lower_tile(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  ANE_ASSIGN_OR_RETURN(std::vector<int64_t> reps, ints_arg(op, "reps"));
  Shape shape = ctx.tensor(x).shape();
  if (reps.size() != shape.size()) return op_error(op, "reps", "needs one entry per axis of x");
  for (size_t d = 0; d < shape.size(); ++d) shape[d] *= reps[d];
  if (shape != ctx.tensor(out).shape()) return output_mismatch(op, "reps", shape, ctx.tensor(out));
  return Step([=](Slots& s) {
    tile(s[x], s[out]);
    return Status();
  });
}

Expected<Step> lower_gather(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  ANE_ASSIGN_OR_RETURN(size_t indices, ctx.operand(op, "indices"));
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  const Shape& xs = ctx.tensor(x).shape();
  const Shape& is = ctx.tensor(indices).shape();
  ANE_ASSIGN_OR_RETURN(int64_t raw_axis, int_arg(op, "axis", 0));
  ANE_ASSIGN_OR_RETURN(int axis, axis_arg_value(op, "axis", raw_axis, static_cast<int>(xs.size())));
  ANE_ASSIGN_OR_RETURN(int64_t batch_dims, int_arg(op, "batch_dims", 0));
  if (batch_dims < 0 || batch_dims > axis || batch_dims > static_cast<int64_t>(is.size()) ||
      !std::equal(xs.begin(), xs.begin() + batch_dims, is.begin())) {
    return op_error(op, "batch_dims", "must be at most axis and name leading axes shared by x and indices");
  }
  Shape shape(xs.begin(), xs.begin() + axis);
  shape.insert(shape.end(), is.begin() + batch_dims, is.end());
  shape.insert(shape.end(), xs.begin() + axis + 1, xs.end());
  if (shape != ctx.tensor(out).shape()) return output_mismatch(op, "indices", shape, ctx.tensor(out));
  const int bd = static_cast<int>(batch_dims);
  return Step([=](Slots& s) { return gather(s[x], s[indices], axis, bd, s[out]); });
}

constexpr OpEntry kShapeOps[] = {
    {"reshape", lower_copy},
    {"expand_dims", lower_copy},
    {"squeeze", lower_copy},
    {"identity", lower_copy},
    {"transpose", lower_transpose},
    {"concat", lower_concat},
    {"split", lower_split},
    {"slice_by_size", lower_slice_by_size},
    {"slice_by_index", lower_slice_by_index},
    {"tile", lower_tile},
    {"gather", lower_gather},
};

}  // namespace

void copy_elements(const DTensor& x, DTensor& y) { y.data = x.data; }

void transpose(const DTensor& x, const std::vector<int>& perm, DTensor& y) {
  const Shape xs = row_major_strides(x.shape());
  Shape strides;
  for (int p : perm) strides.push_back(xs[static_cast<size_t>(p)]);
  for_each_strided<1>(y.shape(), {strides}, [&](int64_t i, const std::array<int64_t, 1>& o) { y[i] = x[o[0]]; });
}

void concat(const std::vector<const DTensor*>& xs, int axis, bool interleave, DTensor& y) {
  const int64_t outer = shape_product(y.shape(), 0, axis);
  const int64_t inner = shape_product(y.shape(), axis + 1, y.rank());
  int64_t at = 0;
  if (interleave) {
    const int64_t len = xs.front()->dim(axis);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t p = 0; p < len; ++p) {
        for (const DTensor* x : xs) {
          for (int64_t q = 0; q < inner; ++q) y[at++] = (*x)[(o * len + p) * inner + q];
        }
      }
    }
    return;
  }
  for (int64_t o = 0; o < outer; ++o) {
    for (const DTensor* x : xs) {
      const int64_t block = x->dim(axis) * inner;
      for (int64_t q = 0; q < block; ++q) y[at++] = (*x)[o * block + q];
    }
  }
}

void split(const DTensor& x, int axis, const std::vector<DTensor*>& outs) {
  const int64_t outer = shape_product(x.shape(), 0, axis);
  const int64_t inner = shape_product(x.shape(), axis + 1, x.rank());
  int64_t at = 0;
  for (int64_t o = 0; o < outer; ++o) {
    for (DTensor* y : outs) {
      const int64_t block = y->dim(axis) * inner;
      for (int64_t q = 0; q < block; ++q) (*y)[o * block + q] = x[at++];
    }
  }
}

void strided_slice(const DTensor& x, const Shape& begin, const Shape& stride, const Shape& count, DTensor& y) {
  const Shape xs = row_major_strides(x.shape());
  Shape strides(xs.size());
  int64_t base = 0;
  for (size_t d = 0; d < xs.size(); ++d) {
    base += begin[d] * xs[d];
    strides[d] = stride[d] * xs[d];
  }
  for_each_strided<1>(count, {strides}, [&](int64_t i, const std::array<int64_t, 1>& o) { y[i] = x[base + o[0]]; });
}

void tile(const DTensor& x, DTensor& y) {
  const Shape ys = row_major_strides(y.shape());
  const Shape xs = row_major_strides(x.shape());
  for (int64_t i = 0; i < static_cast<int64_t>(y.size()); ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < ys.size(); ++d) src += ((i / ys[d]) % y.shape()[d] % x.shape()[d]) * xs[d];
    y[i] = x[src];
  }
}

Status gather(const DTensor& x, const DTensor& indices, int axis, int batch_dims, DTensor& y) {
  const int64_t batch = shape_product(x.shape(), 0, batch_dims);
  const int64_t pre = shape_product(x.shape(), batch_dims, axis);
  const int64_t n = x.dim(axis);
  const int64_t count = shape_product(indices.shape(), batch_dims, indices.rank());
  const int64_t post = shape_product(x.shape(), axis + 1, x.rank());
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t p = 0; p < pre; ++p) {
      for (int64_t i = 0; i < count; ++i) {
        const double raw = indices[b * count + i];
        const auto size = static_cast<double>(n);
        if (!(raw >= -size && raw < size)) {  // also rejects NaN
          return Error(ErrorCode::kOutOfRange,
                       "gather index " + std::to_string(raw) + " out of range for axis size " + std::to_string(n));
        }
        const auto idx = static_cast<int64_t>(raw < 0 ? raw + size : raw);
        for (int64_t q = 0; q < post; ++q) {
          y[((b * pre + p) * count + i) * post + q] = x[((b * pre + p) * n + idx) * post + q];
        }
      }
    }
  }
  return {};
}

std::span<const OpEntry> shape_ops() { return kShapeOps; }

}  // namespace ane::ref
