// Elementwise binary ops (NumPy broadcasting, operand dtypes equal) and select.
#include <array>

#include "mil/ops/families.h"
#include "mil/ops/infer_util.h"

namespace ane::mil::ops_internal {
namespace {

Status require_arith_dtype(const Op& op, std::string_view arg, const TensorType& t) {
  return require_dtype(op, arg, t, {DType::kFp16, DType::kFp32, DType::kBf16, DType::kInt32});
}

// x (op) y: the broadcast shape of x and y, in their common dtype.
InferResult infer_binary(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  const TensorType& y = arg_type(op, "y");
  ANE_RETURN_IF_ERROR(require_arith_dtype(op, "x", x));
  ANE_RETURN_IF_ERROR(require_same_dtype(op, "y", y, "x", x.dtype));
  ANE_ASSIGN_OR_RETURN(Shape shape, broadcast_shapes(op, "y", x.shape, y.shape, "x and y"));
  return one({x.dtype, std::move(shape)});
}

// select(cond, a, b): cond ? a : b, all three broadcast together.
InferResult infer_select(const Op& op) {
  const TensorType& cond = arg_type(op, "cond");
  const TensorType& a = arg_type(op, "a");
  const TensorType& b = arg_type(op, "b");
  ANE_RETURN_IF_ERROR(require_dtype(op, "cond", cond, {DType::kBool}));
  ANE_RETURN_IF_ERROR(require_same_dtype(op, "b", b, "a", a.dtype));
  ANE_ASSIGN_OR_RETURN(Shape ab, broadcast_shapes(op, "b", a.shape, b.shape, "a and b"));
  ANE_ASSIGN_OR_RETURN(Shape shape, broadcast_shapes(op, "cond", cond.shape, ab, "cond and a/b"));
  return one({a.dtype, std::move(shape)});
}

OpSchema binary(std::string_view name) {
  return {name, {arg_required("x"), arg_required("y")}, infer_binary};
}

}  // namespace

std::span<const OpSchema, kElementwiseOpCount> elementwise_op_schemas() {
  static const std::array<OpSchema, kElementwiseOpCount> kSchemas = std::to_array<OpSchema>({
      binary("add"),
      binary("sub"),
      binary("mul"),
      binary("real_div"),
      binary("pow"),
      binary("maximum"),
      binary("minimum"),
      {"select", {arg_required("cond"), arg_required("a"), arg_required("b")}, infer_select},
  });
  return kSchemas;
}

}  // namespace ane::mil::ops_internal
