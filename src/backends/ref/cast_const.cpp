// Cast/const family. coremltools arguments: const()[val = ...], cast(x, dtype = "fp16" ...).
#include "backends/ref/cast_const.h"

#include "backends/ref/convert.h"
#include "backends/ref/lowering.h"

namespace ane::ref {
namespace {

// The value lives in the output Value's constant (as the parser and builder leave it) or
// in the op's `val` attribute; either way it is placed in its slot now and never rewritten.
Expected<Step> lower_const(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  const mil::Value& v = *op.outputs.front();
  if (v.is_constant() && v.constant->has_data()) return Step();
  const mil::Constant* val = op.attribute("val");
  if (val == nullptr || !val->has_data()) {
    return op_error(op, "val", "const '" + v.name + "' has no data (unresolved BLOBFILE weight?)");
  }
  if (val->type.num_elements() != ctx.tensor(out).type.num_elements()) {
    return op_error(op, "val", "holds " + val->type.to_string() + " but the output is " + v.type.to_string());
  }
  ctx.tensor(out).data = tensor_of_constant(*val).data;
  return Step();
}

Expected<Step> lower_cast(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  ANE_ASSIGN_OR_RETURN(std::string name, string_arg(op, "dtype"));
  const auto to = mil::dtype_from_name(name);
  if (!to || *to == mil::DType::kString) return op_error(op, "dtype", "unknown dtype '" + name + "'");
  if (ctx.tensor(out).type.dtype != *to || ctx.tensor(out).shape() != ctx.tensor(x).shape()) {
    return op_error(op, "dtype", "the output type " + ctx.tensor(out).type.to_string() + " is not x's shape in " + name);
  }
  const mil::DType dtype = *to;
  return Step([=](Slots& s) {
    cast(s[x], dtype, s[out]);
    return Status();
  });
}

constexpr OpEntry kCastConstOps[] = {
    {"const", lower_const},
    {"cast", lower_cast},
};

}  // namespace

void cast(const DTensor& x, mil::DType to, DTensor& y) {
  for (size_t i = 0; i < x.size(); ++i) y.data[i] = round_to_dtype(x.data[i], to);
}

std::span<const OpEntry> cast_const_ops() { return kCastConstOps; }

}  // namespace ane::ref
