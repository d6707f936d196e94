// Affine int8/uint8 quantization: quantize (float -> int), dequantize (int -> float) and
// constexpr_affine_dequantize (a constant stored as int8/uint8). real = scale * (q - zero_point);
// scale and zero_point are scalars, or vectors along `axis` of the quantized tensor.
#include <array>

#include "mil/ops/families.h"
#include "mil/ops/infer_util.h"

namespace ane::mil::ops_internal {
namespace {

// scale / zero_point against the data: both scalars (axis optional), or vectors of length
// data.shape[axis] (axis required).
Status check_quant_params(const Op& op, const TensorType& data, bool axis_required) {
  const TensorType& scale = arg_type(op, "scale");
  const Value* zp = optional_value(op, "zero_point");
  if (scale.rank() > 1) return op_error(op, "scale", "must be a scalar or a vector, got " + scale.to_string());
  if (zp && zp->type.rank() != scale.rank()) {
    return op_error(op, "zero_point", "must be a " + std::string(scale.is_scalar() ? "scalar" : "vector") +
                                          " like scale, got " + zp->type.to_string());
  }
  if (!op.arg("axis")) {
    if (axis_required || !scale.is_scalar()) return op_error(op, "axis", "axis is required with per-axis scale");
    return {};
  }
  ANE_ASSIGN_OR_RETURN(int64_t axis_arg, const_int(op, "axis"));
  ANE_ASSIGN_OR_RETURN(int axis, normalize_axis(op, "axis", axis_arg, data.rank()));
  const int64_t dim = data.shape[static_cast<size_t>(axis)];
  for (const char* name : {"scale", "zero_point"}) {
    const Value* v = optional_value(op, name);
    if (v && v->type.rank() == 1 && v->type.shape[0] != dim) {
      return op_error(op, name, "has " + std::to_string(v->type.shape[0]) + " values but the data has " + std::to_string(dim) +
                                    " along axis " + std::to_string(axis));
    }
  }
  return {};
}

constexpr std::initializer_list<DType> kQuantized = {DType::kInt8, DType::kUint8};
constexpr std::initializer_list<DType> kReal = {DType::kFp16, DType::kFp32};

InferResult infer_quantize(const Op& op) {
  const TensorType& input = arg_type(op, "input");
  ANE_RETURN_IF_ERROR(require_dtype(op, "input", input, kReal));
  ANE_RETURN_IF_ERROR(require_same_dtype(op, "scale", arg_type(op, "scale"), "input", input.dtype));
  ANE_ASSIGN_OR_RETURN(std::string name, const_string(op, "output_dtype", ""));
  const std::optional<DType> out = dtype_from_name(name);
  if (!out || (*out != DType::kInt8 && *out != DType::kUint8)) {
    return op_error(op, "output_dtype", "'" + name + "' is not int8 or uint8");
  }
  if (const Value* zp = optional_value(op, "zero_point")) {
    ANE_RETURN_IF_ERROR(require_same_dtype(op, "zero_point", zp->type, "output_dtype", *out));
  }
  ANE_RETURN_IF_ERROR(check_quant_params(op, input, false));
  return one({*out, input.shape});
}

InferResult infer_dequantize(const Op& op) {
  const TensorType& input = arg_type(op, "input");
  const TensorType& scale = arg_type(op, "scale");
  ANE_RETURN_IF_ERROR(require_dtype(op, "input", input, kQuantized));
  ANE_RETURN_IF_ERROR(require_dtype(op, "scale", scale, kReal));
  if (const Value* zp = optional_value(op, "zero_point")) {
    ANE_RETURN_IF_ERROR(require_same_dtype(op, "zero_point", zp->type, "input", input.dtype));
  }
  ANE_RETURN_IF_ERROR(check_quant_params(op, input, false));
  return one({scale.dtype, input.shape});
}

InferResult infer_constexpr_affine_dequantize(const Op& op) {
  const TensorType& data = arg_type(op, "quantized_data");
  const TensorType& scale = arg_type(op, "scale");
  ANE_RETURN_IF_ERROR(require_dtype(op, "quantized_data", data, kQuantized));
  ANE_RETURN_IF_ERROR(require_dtype(op, "scale", scale, kReal));
  ANE_RETURN_IF_ERROR(require_dtype(op, "zero_point", arg_type(op, "zero_point"), {DType::kInt8, DType::kUint8, DType::kFp32}));
  ANE_RETURN_IF_ERROR(check_quant_params(op, data, true));
  return one({scale.dtype, data.shape});
}

}  // namespace

std::span<const OpSchema, kQuantizeOpCount> quantize_op_schemas() {
  static const std::array<OpSchema, kQuantizeOpCount> kSchemas = std::to_array<OpSchema>({
      {"quantize",
       {arg_required("input"), arg_optional_const("zero_point"), arg_required_const("scale"), arg_optional_const("axis"),
        arg_required_const("output_dtype")},
       infer_quantize},
      {"dequantize",
       {arg_required("input"), arg_optional_const("zero_point"), arg_required_const("scale"), arg_optional_const("axis")},
       infer_dequantize},
      {"constexpr_affine_dequantize",
       {arg_required_const("quantized_data"), arg_required_const("zero_point"), arg_required_const("scale"),
        arg_required_const("axis")},
       infer_constexpr_affine_dequantize},
  });
  return kSchemas;
}

}  // namespace ane::mil::ops_internal
