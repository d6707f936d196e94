// const (a literal or BLOBFILE tensor held by its result Value) and cast (dtype conversion).
#include <array>

#include "mil/ops/families.h"
#include "mil/ops/infer_util.h"

namespace ane::mil::ops_internal {
namespace {

// The type of the value (written `val = ...` in text); literal data must fill it exactly.
InferResult infer_const(const Op& op) {
  const Constant* val = op.outputs.size() == 1 && op.outputs[0]->constant ? &*op.outputs[0]->constant : nullptr;
  if (!val) return op_error(op, "val", "const has no value");
  const TensorType& t = val->type;
  if (t.dtype == DType::kString) {
    if (!val->blob && val->strings.size() != static_cast<size_t>(t.num_elements())) {
      return op_error(op, "val", "has " + std::to_string(val->strings.size()) + " strings for type " + t.to_string());
    }
    return one(t);
  }
  if (!val->blob && val->data.size() != t.num_bytes()) {
    return op_error(op, "val", "has " + std::to_string(val->data.size()) + " bytes of data for type " + t.to_string() +
                                   " (" + std::to_string(t.num_bytes()) + " bytes)");
  }
  return one(t);
}

InferResult infer_cast(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  ANE_ASSIGN_OR_RETURN(std::string name, const_string(op, "dtype", ""));
  const std::optional<DType> dtype = dtype_from_name(name);
  if (!dtype || *dtype == DType::kString) return op_error(op, "dtype", "'" + name + "' is not a numeric or bool dtype");
  if (x.dtype == DType::kString) return op_error(op, "x", "cannot cast a string");
  return one({*dtype, x.shape});
}

}  // namespace

std::span<const OpSchema, kCastConstOpCount> cast_const_op_schemas() {
  static const std::array<OpSchema, kCastConstOpCount> kSchemas = std::to_array<OpSchema>({
      {"const", {}, infer_const},
      {"cast", {arg_required("x"), arg_required_const("dtype")}, infer_cast},
  });
  return kSchemas;
}

}  // namespace ane::mil::ops_internal
