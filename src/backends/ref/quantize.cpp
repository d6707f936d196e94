// Quantize family. coremltools arguments: quantize(input, zero_point, scale, axis,
// output_dtype), dequantize(input, zero_point, scale, axis) (iOS17), and
// constexpr_affine_dequantize(quantized_data, zero_point, scale, axis) (iOS16), which has
// only constant inputs and so is computed once, at compile time.
#include "backends/ref/quantize.h"

#include <cmath>

#include "backends/ref/convert.h"
#include "backends/ref/lowering.h"

namespace ane::ref {
namespace {

// Element i's position along `axis` when the parameter is per-axis, else 0.
struct AxisIndex {
  int64_t inner = 1, dim = 1;
  bool per_axis = false;
  AxisIndex(const DTensor& x, const DTensor* param, int axis) {
    if (param == nullptr || param->size() <= 1 || x.rank() == 0) return;
    inner = shape_product(x.shape(), axis + 1, x.rank());
    dim = x.dim(axis);
    per_axis = true;
  }
  int64_t operator()(int64_t i) const { return per_axis ? (i / inner) % dim : 0; }
};

struct QuantArgs {
  size_t x, scale, out;
  std::optional<size_t> zero_point;
  int axis = 0;
};

// Reads the shared arguments; `data_arg` names the quantized/unquantized input.
Expected<QuantArgs> quant_args(const mil::Op& op, Lowering& ctx, std::string_view data_arg, bool axis_required) {
  QuantArgs a{};
  ANE_ASSIGN_OR_RETURN(a.x, ctx.operand(op, data_arg));
  ANE_ASSIGN_OR_RETURN(a.scale, ctx.operand(op, "scale"));
  ANE_ASSIGN_OR_RETURN(a.zero_point, ctx.optional_operand(op, "zero_point"));
  ANE_ASSIGN_OR_RETURN(a.out, ctx.result(op, 0));
  const int rank = ctx.tensor(a.x).rank();
  ANE_ASSIGN_OR_RETURN(int64_t raw_axis, int_arg(op, "axis", axis_required ? std::nullopt : std::optional<int64_t>(0)));
  if (rank > 0) {
    ANE_ASSIGN_OR_RETURN(a.axis, axis_arg_value(op, "axis", raw_axis, rank));
  }
  for (auto [name, slot] : {std::pair{"scale", std::optional(a.scale)}, std::pair{"zero_point", a.zero_point}}) {
    if (!slot) continue;
    const size_t n = ctx.tensor(*slot).size();
    if (n != 1 && (rank == 0 || static_cast<int64_t>(n) != ctx.tensor(a.x).dim(a.axis))) {
      return op_error(op, name, "needs 1 element or one per position along axis " + std::to_string(a.axis));
    }
  }
  if (ctx.tensor(a.x).shape() != ctx.tensor(a.out).shape()) {
    return op_error(op, data_arg, "shape differs from the output type " + ctx.tensor(a.out).type.to_string());
  }
  return a;
}

Expected<Step> lower_quantize(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(QuantArgs a, quant_args(op, ctx, "input", false));
  const mil::DType to = ctx.tensor(a.out).type.dtype;
  return Step([=](Slots& s) {
    quantize(s[a.x], s[a.scale], a.zero_point ? &s[*a.zero_point] : nullptr, a.axis, to, s[a.out]);
    return Status();
  });
}

Expected<Step> lower_dequantize(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(QuantArgs a, quant_args(op, ctx, "input", false));
  return Step([=](Slots& s) {
    dequantize(s[a.x], s[a.scale], a.zero_point ? &s[*a.zero_point] : nullptr, a.axis, s[a.out]);
    return Status();
  });
}

Expected<Step> lower_constexpr_affine_dequantize(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(QuantArgs a, quant_args(op, ctx, "quantized_data", true));
  dequantize(ctx.tensor(a.x), ctx.tensor(a.scale), a.zero_point ? &ctx.tensor(*a.zero_point) : nullptr, a.axis,
             ctx.tensor(a.out));
  return Step();  // done now; the slot keeps the value
}

constexpr OpEntry kQuantizeOps[] = {
    {"quantize", lower_quantize},
    {"dequantize", lower_dequantize},
    {"constexpr_affine_dequantize", lower_constexpr_affine_dequantize},
};

}  // namespace

void quantize(const DTensor& x, const DTensor& scale, const DTensor* zero_point, int axis, mil::DType to, DTensor& y) {
  const AxisIndex at_scale(x, &scale, axis), at_zp(x, zero_point, axis);
  for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i) {
    const double zp = zero_point ? (*zero_point)[at_zp(i)] : 0.0;
    y[i] = round_to_dtype(std::nearbyint(x[i] / scale[at_scale(i)]) + zp, to);
  }
}

void dequantize(const DTensor& q, const DTensor& scale, const DTensor* zero_point, int axis, DTensor& y) {
  const AxisIndex at_scale(q, &scale, axis), at_zp(q, zero_point, axis);
  for (int64_t i = 0; i < static_cast<int64_t>(q.size()); ++i) {
    const double zp = zero_point ? (*zero_point)[at_zp(i)] : 0.0;
    y[i] = (q[i] - zp) * scale[at_scale(i)];
  }
}

std::span<const OpEntry> quantize_ops() { return kQuantizeOps; }

}  // namespace ane::ref
