// Shape ops: reshape, transpose, concat, split, slice_by_size, slice_by_index, tile,
// expand_dims, squeeze, gather. They move or select elements; dtypes pass through.
#include <algorithm>
#include <array>

#include "mil/ops/families.h"
#include "mil/ops/infer_util.h"

namespace ane::mil::ops_internal {
namespace {

int64_t product(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

int64_t sum(const Shape& s) {
  int64_t n = 0;
  for (int64_t d : s) n += d;
  return n;
}

// --- reshape ----------------------------------------------------------------------------

// Replaces each 0 in `shape` by x's dimension at the same position counted from the right
// (1 past x's rank), as MIL does from iOS17 on; where ranks match this is "copy dim i".
Shape replace_zeros(const Shape& x, Shape shape) {
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] != 0) continue;
    const size_t from_right = shape.size() - 1 - i;
    shape[i] = from_right < x.size() ? x[x.size() - 1 - from_right] : 1;
  }
  return shape;
}

InferResult infer_reshape(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  ANE_ASSIGN_OR_RETURN(Shape requested, const_ints(op, "shape"));
  Shape shape = replace_zeros(x.shape, requested);
  const auto unknowns = std::count(shape.begin(), shape.end(), -1);
  if (unknowns > 1) return op_error(op, "shape", "shape " + shape_str(requested) + " has more than one -1");
  for (int64_t d : shape) {
    if (d < -1) return op_error(op, "shape", "dimension " + std::to_string(d) + " in " + shape_str(requested) + " is negative");
  }
  const int64_t known = unknowns ? -product(shape) : product(shape);
  if (unknowns) {
    if (known == 0 || x.num_elements() % known != 0) {
      return op_error(op, "shape", "cannot infer -1 in " + shape_str(requested) + ": " + std::to_string(x.num_elements()) +
                                       " elements of x " + shape_str(x.shape) + " are not a multiple of " + std::to_string(known));
    }
    *std::find(shape.begin(), shape.end(), -1) = x.num_elements() / known;
  } else if (known != x.num_elements()) {
    return op_error(op, "shape", "cannot reshape x " + shape_str(x.shape) + " (" + std::to_string(x.num_elements()) +
                                     " elements) to " + shape_str(shape) + " (" + std::to_string(known) + " elements)");
  }
  return one({x.dtype, std::move(shape)});
}

// --- transpose --------------------------------------------------------------------------

InferResult infer_transpose(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  ANE_ASSIGN_OR_RETURN(Shape perm, const_ints(op, "perm"));
  Shape sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  bool is_perm = static_cast<int>(perm.size()) == x.rank();
  for (size_t i = 0; is_perm && i < sorted.size(); ++i) is_perm = sorted[i] == static_cast<int64_t>(i);
  if (!is_perm) {
    return op_error(op, "perm", "perm " + shape_str(perm) + " is not a permutation of 0.." + std::to_string(x.rank() - 1) +
                                    " (x has rank " + std::to_string(x.rank()) + ")");
  }
  Shape out;
  for (int64_t p : perm) out.push_back(x.shape[static_cast<size_t>(p)]);
  return one({x.dtype, std::move(out)});
}

// --- concat -----------------------------------------------------------------------------

// values[i] against values[0]: same dtype and rank; every dimension but `axis` equal
// (with interleave, every dimension).
Status check_concat_part(const Op& op, size_t i, const TensorType& first, const TensorType& t, int axis, bool interleave) {
  const std::string name = "values[" + std::to_string(i) + "]";
  ANE_RETURN_IF_ERROR(require_same_dtype(op, "values", t, "values[0]", first.dtype));
  bool same = t.rank() == first.rank();
  for (int d = 0; same && d < t.rank(); ++d) {
    const auto du = static_cast<size_t>(d);
    same = t.shape[du] == first.shape[du] || (d == axis && !interleave);
  }
  if (same) return {};
  const std::string rule = interleave ? "all shapes must be equal with interleave = true"
                                      : "all dimensions except axis " + std::to_string(axis) + " must match";
  return op_error(op, "values", name + " has shape " + shape_str(t.shape) + " but values[0] has " +
                                    shape_str(first.shape) + "; " + rule);
}

InferResult infer_concat(const Op& op) {
  const Argument& values = *op.arg("values");
  const TensorType& first = values.values.front()->type;
  ANE_ASSIGN_OR_RETURN(int64_t axis_arg, const_int(op, "axis"));
  ANE_ASSIGN_OR_RETURN(bool interleave, const_bool(op, "interleave", false));
  if (first.is_scalar()) return op_error(op, "values", "cannot concatenate scalars");
  ANE_ASSIGN_OR_RETURN(int axis, normalize_axis(op, "axis", axis_arg, first.rank()));
  Shape out = first.shape;
  out[static_cast<size_t>(axis)] = 0;
  for (size_t i = 0; i < values.values.size(); ++i) {
    const TensorType& t = values.values[i]->type;
    ANE_RETURN_IF_ERROR(check_concat_part(op, i, first, t, axis, interleave));
    out[static_cast<size_t>(axis)] += t.shape[static_cast<size_t>(axis)];
  }
  return one({first.dtype, std::move(out)});
}

// --- split ------------------------------------------------------------------------------

Expected<Shape> split_sizes(const Op& op, int64_t dim) {
  if (op.arg("split_sizes")) {
    ANE_ASSIGN_OR_RETURN(Shape sizes, const_ints(op, "split_sizes"));
    ANE_ASSIGN_OR_RETURN(int64_t n, const_int(op, "num_splits", static_cast<int64_t>(sizes.size())));
    if (n != static_cast<int64_t>(sizes.size())) {
      return op_error(op, "num_splits", "num_splits " + std::to_string(n) + " differs from the " +
                                            std::to_string(sizes.size()) + " split_sizes");
    }
    for (int64_t s : sizes) {
      if (s < 1) return op_error(op, "split_sizes", "size " + std::to_string(s) + " in " + shape_str(sizes) + " is not positive");
    }
    if (sum(sizes) != dim) {
      return op_error(op, "split_sizes", "split_sizes " + shape_str(sizes) + " do not add up to the split dimension " + std::to_string(dim));
    }
    return sizes;
  }
  if (!op.arg("num_splits")) return op_error(op, "num_splits", "one of num_splits or split_sizes is required");
  ANE_ASSIGN_OR_RETURN(int64_t n, const_int(op, "num_splits"));
  if (n < 1 || dim % n != 0) {
    return op_error(op, "num_splits", "num_splits " + std::to_string(n) + " does not divide the split dimension " + std::to_string(dim));
  }
  return Shape(static_cast<size_t>(n), dim / n);
}

InferResult infer_split(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  ANE_ASSIGN_OR_RETURN(int64_t axis_arg, const_int(op, "axis"));
  ANE_ASSIGN_OR_RETURN(int axis, normalize_axis(op, "axis", axis_arg, x.rank()));
  ANE_ASSIGN_OR_RETURN(Shape sizes, split_sizes(op, x.shape[static_cast<size_t>(axis)]));
  std::vector<TensorType> out;
  for (int64_t s : sizes) {
    out.push_back(x);
    out.back().shape[static_cast<size_t>(axis)] = s;
  }
  return out;
}

// --- slice_by_size ----------------------------------------------------------------------

InferResult infer_slice_by_size(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  const TensorType& begin_t = arg_type(op, "begin");
  ANE_ASSIGN_OR_RETURN(Shape size, const_ints(op, "size"));
  if (begin_t.shape != Shape{x.rank()}) {
    return op_error(op, "begin", "expected " + std::to_string(x.rank()) + " values (rank of x), got " + begin_t.to_string());
  }
  if (static_cast<int>(size.size()) != x.rank()) {
    return op_error(op, "size", "has " + std::to_string(size.size()) + " values; x has rank " + std::to_string(x.rank()));
  }
  const bool begin_known = op.arg_value("begin")->is_constant() && op.arg_value("begin")->constant->has_data();
  const Shape begin = begin_known ? op.arg_value("begin")->constant->to_ints() : Shape(size.size(), 0);
  Shape out(size.size());
  for (size_t i = 0; i < size.size(); ++i) {
    const int64_t dim = x.shape[i];
    if (size[i] == -1 && !begin_known) return op_error(op, "size", "size -1 needs a constant begin");
    if (begin[i] < 0 || begin[i] >= dim) {
      return op_error(op, "begin", "begin " + shape_str(begin) + " is outside x " + shape_str(x.shape) + " at axis " + std::to_string(i));
    }
    out[i] = size[i] == -1 ? dim - begin[i] : size[i];
    if (out[i] < 1 || begin[i] + out[i] > dim) {
      return op_error(op, "size", "slice of size " + shape_str(size) + " at " + shape_str(begin) + " does not fit in x " +
                                      shape_str(x.shape) + " at axis " + std::to_string(i));
    }
  }
  return one({x.dtype, std::move(out)});
}

// --- slice_by_index ---------------------------------------------------------------------

struct SliceAxis {
  int64_t begin, end, stride;
  bool begin_mask, end_mask;
};

// Python's slice(begin, end, stride).indices(n) length.
int64_t slice_length(const SliceAxis& a, int64_t n) {
  const int64_t lower = a.stride > 0 ? 0 : -1, upper = a.stride > 0 ? n : n - 1;
  auto clamp = [&](int64_t v) { return v < 0 ? std::max(v + n, lower) : std::min(v, upper); };
  const int64_t start = a.begin_mask ? (a.stride > 0 ? lower : upper) : clamp(a.begin);
  const int64_t stop = a.end_mask ? (a.stride > 0 ? upper : lower) : clamp(a.end);
  if (a.stride > 0) return stop > start ? (stop - start + a.stride - 1) / a.stride : 0;
  return start > stop ? (start - stop - a.stride - 1) / -a.stride : 0;
}

Status check_slice_lengths(const Op& op, int rank, std::initializer_list<std::pair<std::string_view, size_t>> lists) {
  for (const auto& [name, n] : lists) {
    if (static_cast<int>(n) != rank) {
      return op_error(op, name, "has " + std::to_string(n) + " values; x has rank " + std::to_string(rank));
    }
  }
  return {};
}

InferResult infer_slice_by_index(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  const auto rank = static_cast<size_t>(x.rank());
  ANE_ASSIGN_OR_RETURN(Shape begin, const_ints(op, "begin"));
  ANE_ASSIGN_OR_RETURN(Shape end, const_ints(op, "end"));
  Shape stride(rank, 1);
  if (op.arg("stride")) {
    ANE_ASSIGN_OR_RETURN(stride, const_ints(op, "stride"));
  }
  ANE_ASSIGN_OR_RETURN(std::vector<bool> begin_mask, const_bools(op, "begin_mask", rank));
  ANE_ASSIGN_OR_RETURN(std::vector<bool> end_mask, const_bools(op, "end_mask", rank));
  ANE_ASSIGN_OR_RETURN(std::vector<bool> squeeze_mask, const_bools(op, "squeeze_mask", rank));
  ANE_RETURN_IF_ERROR(check_slice_lengths(op, x.rank(), {{"begin", begin.size()}, {"end", end.size()}, {"stride", stride.size()},
                                                         {"begin_mask", begin_mask.size()}, {"end_mask", end_mask.size()},
                                                         {"squeeze_mask", squeeze_mask.size()}}));
  Shape out;
  for (size_t i = 0; i < rank; ++i) {
    const int64_t n = x.shape[i];
    const std::string at = " at axis " + std::to_string(i) + " of x " + shape_str(x.shape);
    if (stride[i] == 0) return op_error(op, "stride", "stride 0" + at);
    if (squeeze_mask[i]) {
      const int64_t index = begin_mask[i] ? 0 : begin[i];
      if (index < -n || index >= n) return op_error(op, "begin", "index " + std::to_string(index) + " out of range" + at);
      continue;
    }
    const int64_t len = slice_length({begin[i], end[i], stride[i], begin_mask[i], end_mask[i]}, n);
    if (len < 1) {
      return op_error(op, "end", "empty slice " + std::to_string(begin[i]) + ":" + std::to_string(end[i]) + ":" +
                                     std::to_string(stride[i]) + at);
    }
    out.push_back(len);
  }
  return one({x.dtype, std::move(out)});
}

// --- tile, expand_dims, squeeze ---------------------------------------------------------

InferResult infer_tile(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  ANE_ASSIGN_OR_RETURN(Shape reps, const_ints(op, "reps"));
  if (static_cast<int>(reps.size()) != x.rank()) {
    return op_error(op, "reps", "has " + std::to_string(reps.size()) + " values; x has rank " + std::to_string(x.rank()));
  }
  Shape out = x.shape;
  for (size_t i = 0; i < reps.size(); ++i) {
    if (reps[i] < 1) return op_error(op, "reps", "repetition " + std::to_string(reps[i]) + " in " + shape_str(reps) + " is not positive");
    out[i] *= reps[i];
  }
  return one({x.dtype, std::move(out)});
}

InferResult infer_expand_dims(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  ANE_ASSIGN_OR_RETURN(Shape axes_arg, const_ints(op, "axes"));
  const int out_rank = x.rank() + static_cast<int>(axes_arg.size());
  ANE_ASSIGN_OR_RETURN(std::vector<int> axes, normalize_axes(op, "axes", axes_arg, out_rank));
  std::sort(axes.begin(), axes.end());
  Shape out = x.shape;
  for (int a : axes) out.insert(out.begin() + a, 1);
  return one({x.dtype, std::move(out)});
}

InferResult infer_squeeze(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  std::vector<int> axes;
  if (op.arg("axes")) {
    ANE_ASSIGN_OR_RETURN(Shape axes_arg, const_ints(op, "axes"));
    ANE_ASSIGN_OR_RETURN(axes, normalize_axes(op, "axes", axes_arg, x.rank()));
  } else {
    for (int i = 0; i < x.rank(); ++i) {
      if (x.shape[static_cast<size_t>(i)] == 1) axes.push_back(i);
    }
  }
  Shape out;
  for (int i = 0; i < x.rank(); ++i) {
    const int64_t d = x.shape[static_cast<size_t>(i)];
    const bool squeezed = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (squeezed && d != 1) {
      return op_error(op, "axes", "axis " + std::to_string(i) + " of x " + shape_str(x.shape) + " has size " + std::to_string(d) + ", not 1");
    }
    if (!squeezed) out.push_back(d);
  }
  return one({x.dtype, std::move(out)});
}

// --- gather -----------------------------------------------------------------------------

// x.shape[:axis] + indices.shape[batch_dims:] + x.shape[axis+1:].
InferResult infer_gather(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  const TensorType& indices = arg_type(op, "indices");
  ANE_RETURN_IF_ERROR(require_dtype(op, "indices", indices, {DType::kInt32, DType::kInt16, DType::kUint16, DType::kInt8, DType::kUint8}));
  if (x.is_scalar()) return op_error(op, "x", "cannot gather from a scalar");
  ANE_ASSIGN_OR_RETURN(int64_t axis_arg, const_int(op, "axis", 0));
  ANE_ASSIGN_OR_RETURN(int axis, normalize_axis(op, "axis", axis_arg, x.rank()));
  ANE_ASSIGN_OR_RETURN(int64_t batch_dims, const_int(op, "batch_dims", 0));
  if (batch_dims < 0 || batch_dims > axis || batch_dims > indices.rank()) {
    return op_error(op, "batch_dims", "batch_dims " + std::to_string(batch_dims) + " must be in [0, min(axis " +
                                          std::to_string(axis) + ", rank of indices " + std::to_string(indices.rank()) + ")]");
  }
  const auto b = static_cast<size_t>(batch_dims);
  if (!std::equal(x.shape.begin(), x.shape.begin() + static_cast<ptrdiff_t>(b), indices.shape.begin())) {
    return op_error(op, "indices", "the first " + std::to_string(b) + " (batch) dimensions of indices " +
                                       shape_str(indices.shape) + " and x " + shape_str(x.shape) + " differ");
  }
  Shape out(x.shape.begin(), x.shape.begin() + axis);
  out.insert(out.end(), indices.shape.begin() + static_cast<ptrdiff_t>(b), indices.shape.end());
  out.insert(out.end(), x.shape.begin() + axis + 1, x.shape.end());
  return one({x.dtype, std::move(out)});
}

}  // namespace

std::span<const OpSchema, kShapeOpCount> shape_op_schemas() {
  static const std::array<OpSchema, kShapeOpCount> kSchemas = std::to_array<OpSchema>({
      {"reshape", {arg_required("x"), arg_required_const("shape")}, infer_reshape},
      {"transpose", {arg_required("x"), arg_required_const("perm")}, infer_transpose},
      {"concat", {arg_tuple("values"), arg_required_const("axis"), arg_optional_const("interleave")}, infer_concat},
      {"split",
       {arg_required("x"), arg_optional_const("num_splits"), arg_optional_const("split_sizes"), arg_required_const("axis")},
       infer_split},
      {"slice_by_size", {arg_required("x"), arg_required("begin"), arg_required_const("size")}, infer_slice_by_size},
      {"slice_by_index",
       {arg_required("x"), arg_required_const("begin"), arg_required_const("end"), arg_optional_const("stride"),
        arg_optional_const("begin_mask"), arg_optional_const("end_mask"), arg_optional_const("squeeze_mask")},
       infer_slice_by_index},
      {"tile", {arg_required("x"), arg_required_const("reps")}, infer_tile},
      {"expand_dims", {arg_required("x"), arg_required_const("axes")}, infer_expand_dims},
      {"squeeze", {arg_required("x"), arg_optional_const("axes")}, infer_squeeze},
      {"gather",
       {arg_required("x"), arg_required("indices"), arg_optional_const("axis"), arg_optional_const("batch_dims"),
        arg_optional_const("validate_indices")},
       infer_gather},
  });
  return kSchemas;
}

}  // namespace ane::mil::ops_internal
