#include "mil/ops/infer_util.h"

#include <algorithm>

namespace ane::mil::ops_internal {
namespace {

// The known constant behind argument `name`, or an error saying why there is none.
Expected<const Constant*> known_constant(const Op& op, std::string_view name) {
  const Value* v = op.arg_value(name);
  if (!v) return op_error(op, name, "missing required argument");
  if (!v->is_constant()) return op_error(op, name, "must be a compile-time constant");
  if (!v->constant->has_data()) {
    return op_error(op, name, "constant '" + v->name + "' has no data (unresolved BLOBFILE)");
  }
  return &*v->constant;
}

std::string dtype_list(std::initializer_list<DType> allowed) {
  std::string s;
  size_t i = 0;
  for (DType d : allowed) {
    if (i) s += (i + 1 == allowed.size()) ? " or " : ", ";
    s += dtype_name(d);
    ++i;
  }
  return s;
}

}  // namespace

InferResult one(TensorType t) { return std::vector<TensorType>{std::move(t)}; }

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

const TensorType& arg_type(const Op& op, std::string_view name) { return op.arg_value(name)->type; }

const Value* optional_value(const Op& op, std::string_view name) { return op.arg_value(name); }

Expected<int64_t> const_int(const Op& op, std::string_view name, std::optional<int64_t> dflt) {
  if (!op.arg(name) && dflt) return *dflt;
  ANE_ASSIGN_OR_RETURN(const Constant* c, known_constant(op, name));
  if (!is_integer(c->type.dtype)) {
    return op_error(op, name, "expected an integer, got " + c->type.to_string());
  }
  if (!c->type.is_scalar()) return op_error(op, name, "expected a scalar, got " + c->type.to_string());
  return c->element_as_int(0);
}

Expected<Shape> const_ints(const Op& op, std::string_view name) {
  ANE_ASSIGN_OR_RETURN(const Constant* c, known_constant(op, name));
  if (!is_integer(c->type.dtype) || c->type.rank() > 1) {
    return op_error(op, name, "expected a rank-1 integer tensor, got " + c->type.to_string());
  }
  return c->to_ints();
}

Expected<bool> const_bool(const Op& op, std::string_view name, bool dflt) {
  if (!op.arg(name)) return dflt;
  ANE_ASSIGN_OR_RETURN(const Constant* c, known_constant(op, name));
  if (c->type.dtype != DType::kBool || !c->type.is_scalar()) {
    return op_error(op, name, "expected a bool scalar, got " + c->type.to_string());
  }
  return c->element_as_int(0) != 0;
}

Expected<std::vector<bool>> const_bools(const Op& op, std::string_view name, size_t n_if_absent) {
  if (!op.arg(name)) return std::vector<bool>(n_if_absent, false);
  ANE_ASSIGN_OR_RETURN(const Constant* c, known_constant(op, name));
  if (c->type.dtype != DType::kBool || c->type.rank() != 1) {
    return op_error(op, name, "expected a rank-1 bool tensor, got " + c->type.to_string());
  }
  std::vector<bool> out;
  for (int64_t v : c->to_ints()) out.push_back(v != 0);
  return out;
}

Expected<std::string> const_string(const Op& op, std::string_view name, std::string dflt) {
  if (!op.arg(name)) return dflt;
  ANE_ASSIGN_OR_RETURN(const Constant* c, known_constant(op, name));
  if (c->type.dtype != DType::kString || c->strings.size() != 1) {
    return op_error(op, name, "expected a string, got " + c->type.to_string());
  }
  return c->strings.front();
}

Expected<int> normalize_axis(const Op& op, std::string_view arg, int64_t axis, int rank) {
  if (axis < -rank || axis >= rank) {
    return op_error(op, arg, "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

Expected<std::vector<int>> normalize_axes(const Op& op, std::string_view arg, const Shape& axes, int rank) {
  std::vector<int> out;
  for (int64_t a : axes) {
    ANE_ASSIGN_OR_RETURN(int n, normalize_axis(op, arg, a, rank));
    if (std::find(out.begin(), out.end(), n) != out.end()) {
      return op_error(op, arg, "axis " + std::to_string(a) + " repeated in " + shape_str(axes));
    }
    out.push_back(n);
  }
  return out;
}

Status require_dtype(const Op& op, std::string_view arg, const TensorType& t, std::initializer_list<DType> allowed) {
  if (std::find(allowed.begin(), allowed.end(), t.dtype) != allowed.end()) return {};
  return op_error(op, arg, "has dtype " + std::string(dtype_name(t.dtype)) + "; expected " + dtype_list(allowed));
}

Status require_float(const Op& op, std::string_view arg, const TensorType& t) {
  return require_dtype(op, arg, t, {DType::kFp16, DType::kFp32, DType::kBf16});
}

Status require_same_dtype(const Op& op, std::string_view arg, const TensorType& t, std::string_view other,
                          DType expected) {
  if (t.dtype == expected) return {};
  return op_error(op, arg,
                  "dtype " + std::string(dtype_name(t.dtype)) + " does not match " + std::string(other) + "'s " +
                      std::string(dtype_name(expected)));
}

Status require_scalar(const Op& op, std::string_view arg, const TensorType& t) {
  if (t.is_scalar()) return {};
  return op_error(op, arg, "expected a scalar, got " + t.to_string());
}

Status require_rank(const Op& op, std::string_view arg, const TensorType& t, int rank) {
  if (t.rank() == rank) return {};
  return op_error(op, arg, "expected rank " + std::to_string(rank) + ", got " + t.to_string());
}

Expected<Shape> broadcast_shapes(const Op& op, std::string_view arg, const Shape& a, const Shape& b,
                                 std::string_view what) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      return op_error(op, arg,
                      "shapes " + shape_str(a) + " and " + shape_str(b) + " of " + std::string(what) +
                          " do not broadcast (dimension " + std::to_string(i) + ": " + std::to_string(da) +
                          " vs " + std::to_string(db) + ")");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace ane::mil::ops_internal
