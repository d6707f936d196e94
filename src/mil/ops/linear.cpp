// conv, matmul and linear: the ops that contract over channels.
#include <array>

#include "mil/ops/families.h"
#include "mil/ops/infer_util.h"

namespace ane::mil::ops_internal {
namespace {

// --- conv -------------------------------------------------------------------------------

// The conv parameters after defaults: one entry per spatial dimension (pad: two).
struct ConvParams {
  int64_t groups = 1;
  Shape strides, dilations, pad;  // pad: [begin0, end0, begin1, end1, ...]
  std::string pad_type;
};

// A per-spatial-dimension list: given (right length, every value >= min) or the default.
Expected<Shape> spatial_list(const Op& op, std::string_view name, size_t n, int64_t dflt, int64_t min) {
  if (!op.arg(name)) return Shape(n, dflt);
  ANE_ASSIGN_OR_RETURN(Shape v, const_ints(op, name));
  if (v.size() != n) {
    return op_error(op, name, "has " + std::to_string(v.size()) + " values; expected " + std::to_string(n) +
                                  " for " + std::to_string(n / (name == "pad" ? 2 : 1)) + " spatial dimension(s)");
  }
  for (int64_t e : v) {
    if (e < min) return op_error(op, name, "value " + std::to_string(e) + " in " + shape_str(v) + " is below " + std::to_string(min));
  }
  return v;
}

Expected<ConvParams> conv_params(const Op& op, size_t spatial) {
  ConvParams p;
  ANE_ASSIGN_OR_RETURN(p.groups, const_int(op, "groups", 1));
  if (p.groups < 1) return op_error(op, "groups", "groups " + std::to_string(p.groups) + " must be at least 1");
  ANE_ASSIGN_OR_RETURN(p.strides, spatial_list(op, "strides", spatial, 1, 1));
  ANE_ASSIGN_OR_RETURN(p.dilations, spatial_list(op, "dilations", spatial, 1, 1));
  ANE_ASSIGN_OR_RETURN(p.pad, spatial_list(op, "pad", 2 * spatial, 0, 0));
  ANE_ASSIGN_OR_RETURN(p.pad_type, const_string(op, "pad_type", "valid"));
  if (p.pad_type != "valid" && p.pad_type != "same" && p.pad_type != "same_lower" && p.pad_type != "custom") {
    return op_error(op, "pad_type", "'" + p.pad_type + "' is not one of valid, same, same_lower, custom");
  }
  return p;
}

// Channel rule: weight [Cout, Cin/groups, k...] against x [N, Cin, d...].
Status check_conv_channels(const Op& op, const TensorType& x, const TensorType& w, int64_t groups) {
  const int64_t cin = x.shape[1];
  if (cin % groups != 0) {
    return op_error(op, "groups", "x has " + std::to_string(cin) + " channels, not divisible by groups = " + std::to_string(groups));
  }
  if (w.shape[1] != cin / groups) {
    return op_error(op, "weight", "weight has " + std::to_string(w.shape[1]) + " input channels per group but x has " +
                                      std::to_string(cin) + " channels (groups = " + std::to_string(groups) + ")");
  }
  if (w.shape[0] % groups != 0) {
    return op_error(op, "weight", "weight has " + std::to_string(w.shape[0]) +
                                      " output channels, not divisible by groups = " + std::to_string(groups));
  }
  return {};
}

Status check_bias(const Op& op, const TensorType& x, int64_t out_channels) {
  const Value* bias = optional_value(op, "bias");
  if (!bias) return {};
  ANE_RETURN_IF_ERROR(require_same_dtype(op, "bias", bias->type, "x", x.dtype));
  if (bias->type.shape != Shape{out_channels}) {
    return op_error(op, "bias", "shape " + shape_str(bias->type.shape) + " must be [" + std::to_string(out_channels) +
                                    "] (one value per output channel)");
  }
  return {};
}

// Output length of spatial dimension i.
Expected<int64_t> conv_out_dim(const Op& op, const ConvParams& p, size_t i, int64_t in, int64_t kernel) {
  if (p.pad_type == "same" || p.pad_type == "same_lower") return (in + p.strides[i] - 1) / p.strides[i];
  const int64_t padded = in + (p.pad_type == "custom" ? p.pad[2 * i] + p.pad[2 * i + 1] : 0);
  const int64_t dilated_kernel = (kernel - 1) * p.dilations[i] + 1;
  if (dilated_kernel > padded) {
    return op_error(op, "weight", "dilated kernel size " + std::to_string(dilated_kernel) + " exceeds padded input size " +
                                      std::to_string(padded) + " in spatial dimension " + std::to_string(i));
  }
  return (padded - dilated_kernel) / p.strides[i] + 1;
}

InferResult infer_conv(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  const TensorType& w = arg_type(op, "weight");
  ANE_RETURN_IF_ERROR(require_float(op, "x", x));
  ANE_RETURN_IF_ERROR(require_same_dtype(op, "weight", w, "x", x.dtype));
  if (x.rank() < 3 || x.rank() > 5) {
    return op_error(op, "x", "expected [N, C, spatial...] with 1 to 3 spatial dimensions, got " + x.to_string());
  }
  if (w.rank() != x.rank()) {
    return op_error(op, "weight", "rank " + std::to_string(w.rank()) + " differs from x's rank " + std::to_string(x.rank()) +
                                      " (expected [Cout, Cin/groups, kernel...])");
  }
  const size_t spatial = static_cast<size_t>(x.rank() - 2);
  ANE_ASSIGN_OR_RETURN(ConvParams p, conv_params(op, spatial));
  ANE_RETURN_IF_ERROR(check_conv_channels(op, x, w, p.groups));
  ANE_RETURN_IF_ERROR(check_bias(op, x, w.shape[0]));
  Shape out = {x.shape[0], w.shape[0]};
  for (size_t i = 0; i < spatial; ++i) {
    ANE_ASSIGN_OR_RETURN(int64_t d, conv_out_dim(op, p, i, x.shape[i + 2], w.shape[i + 2]));
    out.push_back(d);
  }
  return one({x.dtype, std::move(out)});
}

// --- matmul -----------------------------------------------------------------------------

// One matmul operand as a matrix: transposed if asked, rank 1 promoted (x: [1, K], y: [K, 1]).
Expected<Shape> matmul_operand(const Op& op, std::string_view name, std::string_view transpose_name, bool is_x) {
  Shape s = arg_type(op, name).shape;
  ANE_ASSIGN_OR_RETURN(bool transpose, const_bool(op, transpose_name, false));
  if (s.empty()) return op_error(op, name, "must have rank 1 or more, got a scalar");
  if (s.size() == 1) {
    if (transpose) return op_error(op, transpose_name, std::string(name) + " is rank 1, so it cannot be transposed");
    if (is_x) s.insert(s.begin(), 1);
    else s.push_back(1);
  } else if (transpose) {
    std::swap(s[s.size() - 1], s[s.size() - 2]);
  }
  return s;
}

InferResult infer_matmul(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  const TensorType& y = arg_type(op, "y");
  ANE_RETURN_IF_ERROR(require_dtype(op, "x", x, {DType::kFp16, DType::kFp32, DType::kBf16, DType::kInt32}));
  ANE_RETURN_IF_ERROR(require_same_dtype(op, "y", y, "x", x.dtype));
  ANE_ASSIGN_OR_RETURN(Shape xs, matmul_operand(op, "x", "transpose_x", true));
  ANE_ASSIGN_OR_RETURN(Shape ys, matmul_operand(op, "y", "transpose_y", false));
  const int64_t k_x = xs.back(), k_y = ys[ys.size() - 2];
  if (k_x != k_y) {
    return op_error(op, "y", "x " + shape_str(x.shape) + " and y " + shape_str(y.shape) +
                                 " do not contract: x's inner dimension " + std::to_string(k_x) + " vs y's " +
                                 std::to_string(k_y) + " (after transpose_x / transpose_y)");
  }
  const Shape x_batch(xs.begin(), xs.end() - 2), y_batch(ys.begin(), ys.end() - 2);
  ANE_ASSIGN_OR_RETURN(Shape out, broadcast_shapes(op, "y", x_batch, y_batch, "the batch dimensions of x and y"));
  if (x.rank() > 1) out.push_back(xs[xs.size() - 2]);  // a promoted rank-1 operand's 1 is dropped
  if (y.rank() > 1) out.push_back(ys.back());
  return one({x.dtype, std::move(out)});
}

// --- linear -----------------------------------------------------------------------------

// linear(x [..., Din], weight [Dout, Din], bias [Dout]) -> [..., Dout].
InferResult infer_linear(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  const TensorType& w = arg_type(op, "weight");
  ANE_RETURN_IF_ERROR(require_float(op, "x", x));
  ANE_RETURN_IF_ERROR(require_same_dtype(op, "weight", w, "x", x.dtype));
  if (x.rank() < 1) return op_error(op, "x", "must have rank 1 or more, got a scalar");
  ANE_RETURN_IF_ERROR(require_rank(op, "weight", w, 2));
  if (w.shape[1] != x.shape.back()) {
    return op_error(op, "weight", "weight " + shape_str(w.shape) + " takes " + std::to_string(w.shape[1]) +
                                      " input features but x's last dimension is " + std::to_string(x.shape.back()));
  }
  ANE_RETURN_IF_ERROR(check_bias(op, x, w.shape[0]));
  Shape out = x.shape;
  out.back() = w.shape[0];
  return one({x.dtype, std::move(out)});
}

}  // namespace

std::span<const OpSchema, kLinearOpCount> linear_op_schemas() {
  static const std::array<OpSchema, kLinearOpCount> kSchemas = std::to_array<OpSchema>({
      {"conv",
       {arg_required("x"), arg_required("weight"), arg_optional("bias"), arg_optional_const("strides"),
        arg_optional_const("pad_type"), arg_optional_const("pad"), arg_optional_const("dilations"),
        arg_optional_const("groups")},
       infer_conv},
      {"matmul",
       {arg_required("x"), arg_required("y"), arg_optional_const("transpose_x"), arg_optional_const("transpose_y")},
       infer_matmul},
      {"linear", {arg_required("x"), arg_required("weight"), arg_optional("bias")}, infer_linear},
  });
  return kSchemas;
}

}  // namespace ane::mil::ops_internal
