// Unary float ops: activations (sigmoid, tanh, relu, gelu, silu, softmax) and math
// (exp, log, sqrt, rsqrt, inverse, clip). All keep x's type; they share one rule for x and
// for their scalar parameters (epsilon, alpha, beta: constants of x's dtype).
#include <array>

#include "mil/ops/families.h"
#include "mil/ops/infer_util.h"

namespace ane::mil::ops_internal {
namespace {

constexpr std::array<std::string_view, 3> kScalarParams = {"epsilon", "alpha", "beta"};

InferResult infer_unary(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  ANE_RETURN_IF_ERROR(require_float(op, "x", x));
  for (std::string_view param : kScalarParams) {
    const Value* v = optional_value(op, param);
    if (!v) continue;
    ANE_RETURN_IF_ERROR(require_scalar(op, param, v->type));
    ANE_RETURN_IF_ERROR(require_same_dtype(op, param, v->type, "x", x.dtype));
  }
  return one(x);
}

InferResult infer_gelu(const Op& op) {
  ANE_ASSIGN_OR_RETURN(std::string mode, const_string(op, "mode", "EXACT"));
  if (mode != "EXACT" && mode != "TANH_APPROXIMATION" && mode != "SIGMOID_APPROXIMATION") {
    return op_error(op, "mode", "'" + mode + "' is not one of EXACT, TANH_APPROXIMATION, SIGMOID_APPROXIMATION");
  }
  return infer_unary(op);
}

InferResult infer_softmax(const Op& op) {
  ANE_ASSIGN_OR_RETURN(int64_t axis, const_int(op, "axis", -1));
  ANE_RETURN_IF_ERROR(normalize_axis(op, "axis", axis, arg_type(op, "x").rank()).status());
  return infer_unary(op);
}

InferResult infer_clip(const Op& op) {
  ANE_ASSIGN_OR_RETURN(std::vector<TensorType> out, infer_unary(op));
  const Constant& alpha = *op.arg_value("alpha")->constant;
  const Constant& beta = *op.arg_value("beta")->constant;
  if (alpha.has_data() && beta.has_data() && alpha.element_as_double(0) > beta.element_as_double(0)) {
    return op_error(op, "beta", "beta " + std::to_string(beta.element_as_double(0)) + " is below alpha " +
                                    std::to_string(alpha.element_as_double(0)));
  }
  return out;
}

OpSchema unary(std::string_view name) { return {name, {arg_required("x")}, infer_unary}; }
OpSchema unary_with_epsilon(std::string_view name) {
  return {name, {arg_required("x"), arg_optional_const("epsilon")}, infer_unary};
}

}  // namespace

std::span<const OpSchema, kActivationOpCount> activation_op_schemas() {
  static const std::array<OpSchema, kActivationOpCount> kSchemas = std::to_array<OpSchema>({
      unary("sigmoid"),
      unary("tanh"),
      unary("relu"),
      unary("silu"),
      unary("exp"),
      unary("sqrt"),
      unary_with_epsilon("log"),      // log(x + epsilon), epsilon 1e-45 by default
      unary_with_epsilon("rsqrt"),    // 1 / sqrt(x + epsilon), epsilon 1e-12 by default
      unary_with_epsilon("inverse"),  // 1 / (x + epsilon), epsilon 1e-4 by default
      {"gelu", {arg_required("x"), arg_optional_const("mode")}, infer_gelu},
      {"softmax", {arg_required("x"), arg_optional_const("axis")}, infer_softmax},
      {"clip", {arg_required("x"), arg_required_const("alpha"), arg_required_const("beta")}, infer_clip},
  });
  return kSchemas;
}

}  // namespace ane::mil::ops_internal
