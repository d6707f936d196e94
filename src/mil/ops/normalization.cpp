// layer_norm: normalises x over `axes` (all axes when absent), then scales by gamma and
// shifts by beta, both shaped like the normalised dimensions.
#include <algorithm>
#include <array>

#include "mil/ops/families.h"
#include "mil/ops/infer_util.h"

namespace ane::mil::ops_internal {
namespace {

// gamma / beta, when given: x's dtype, shaped as x's dimensions at `axes` (in axis order).
Status check_affine(const Op& op, std::string_view name, const TensorType& x, const Shape& normalized) {
  const Value* v = optional_value(op, name);
  if (!v) return {};
  ANE_RETURN_IF_ERROR(require_same_dtype(op, name, v->type, "x", x.dtype));
  if (v->type.shape != normalized) {
    return op_error(op, name, "shape " + shape_str(v->type.shape) + " must equal the normalised dimensions " +
                                  shape_str(normalized) + " of x " + shape_str(x.shape));
  }
  return {};
}

InferResult infer_layer_norm(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  ANE_RETURN_IF_ERROR(require_float(op, "x", x));
  std::vector<int> axes;
  if (op.arg("axes")) {
    ANE_ASSIGN_OR_RETURN(Shape axes_arg, const_ints(op, "axes"));
    ANE_ASSIGN_OR_RETURN(axes, normalize_axes(op, "axes", axes_arg, x.rank()));
  } else {
    for (int i = 0; i < x.rank(); ++i) axes.push_back(i);
  }
  Shape normalized;
  for (int i = 0; i < x.rank(); ++i) {
    if (std::find(axes.begin(), axes.end(), i) != axes.end()) normalized.push_back(x.shape[static_cast<size_t>(i)]);
  }
  ANE_RETURN_IF_ERROR(check_affine(op, "gamma", x, normalized));
  ANE_RETURN_IF_ERROR(check_affine(op, "beta", x, normalized));
  if (const Value* eps = optional_value(op, "epsilon")) {
    ANE_RETURN_IF_ERROR(require_scalar(op, "epsilon", eps->type));
    ANE_RETURN_IF_ERROR(require_same_dtype(op, "epsilon", eps->type, "x", x.dtype));
  }
  return one(x);
}

}  // namespace

std::span<const OpSchema, kNormalizationOpCount> normalization_op_schemas() {
  static const std::array<OpSchema, kNormalizationOpCount> kSchemas = std::to_array<OpSchema>({
      {"layer_norm",
       {arg_required("x"), arg_optional_const("axes"), arg_optional("gamma"), arg_optional("beta"),
        arg_optional_const("epsilon")},
       infer_layer_norm},
  });
  return kSchemas;
}

}  // namespace ane::mil::ops_internal
