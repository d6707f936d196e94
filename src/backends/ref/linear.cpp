// Linear family: conv, matmul, linear. Argument names and defaults follow coremltools:
// conv(x, weight, bias, strides, pad_type = "valid", pad, dilations, groups = 1),
// matmul(x, y, transpose_x = false, transpose_y = false), linear(x, weight, bias).
#include "backends/ref/linear.h"

#include <string>

#include "backends/ref/elementwise.h"
#include "backends/ref/lowering.h"

namespace ane::ref {
namespace {

// Resolves pad_type (valid / same / same_lower / custom) into explicit pads for one spatial
// axis. `same` pads so that out = ceil(in / stride), the odd pixel at the end (bottom/right);
// `same_lower` puts it at the start.
std::array<int64_t, 2> same_pads(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, bool lower) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + (kernel - 1) * dilation + 1 - in, 0);
  const int64_t small = total / 2, big = total - small;
  return lower ? std::array<int64_t, 2>{big, small} : std::array<int64_t, 2>{small, big};
}

// Spatial-pair reading: a 1-D conv's one value goes to the w axis, h stays neutral.
Expected<std::array<int64_t, 2>> spatial_pair(const mil::Op& op, std::string_view arg, int spatial) {
  ANE_ASSIGN_OR_RETURN(std::vector<int64_t> v, ints_arg(op, arg, std::vector<int64_t>(static_cast<size_t>(spatial), 1)));
  if (static_cast<int>(v.size()) != spatial) {
    return op_error(op, arg, "expected " + std::to_string(spatial) + " values, got " + std::to_string(v.size()));
  }
  if (spatial == 1) return std::array<int64_t, 2>{1, v[0]};
  return std::array<int64_t, 2>{v[0], v[1]};
}

Expected<ConvParams> conv_params(const mil::Op& op, const Shape& x, const Shape& w) {
  const int spatial = static_cast<int>(x.size()) - 2;
  ConvParams p;
  ANE_ASSIGN_OR_RETURN(p.strides, spatial_pair(op, "strides", spatial));
  ANE_ASSIGN_OR_RETURN(p.dilations, spatial_pair(op, "dilations", spatial));
  ANE_ASSIGN_OR_RETURN(p.groups, int_arg(op, "groups", 1));
  ANE_ASSIGN_OR_RETURN(std::string pad_type, string_arg(op, "pad_type", "valid"));
  const std::array<int64_t, 2> in{spatial == 2 ? x[2] : 1, x.back()};
  const std::array<int64_t, 2> kernel{spatial == 2 ? w[2] : 1, w.back()};
  if (pad_type == "custom") {
    ANE_ASSIGN_OR_RETURN(std::vector<int64_t> pad, ints_arg(op, "pad"));
    if (static_cast<int>(pad.size()) != 2 * spatial) {
      return op_error(op, "pad", "expected " + std::to_string(2 * spatial) + " values, got " + std::to_string(pad.size()));
    }
    p.pad = spatial == 2 ? std::array<int64_t, 4>{pad[0], pad[1], pad[2], pad[3]} : std::array<int64_t, 4>{0, 0, pad[0], pad[1]};
  } else if (pad_type == "same" || pad_type == "same_lower") {
    for (size_t a = 0; a < 2; ++a) {
      const auto pr = same_pads(in[a], kernel[a], p.strides[a], p.dilations[a], pad_type == "same_lower");
      p.pad[2 * a] = pr[0];
      p.pad[2 * a + 1] = pr[1];
    }
  } else if (pad_type != "valid") {
    return op_error(op, "pad_type", "unknown pad type '" + pad_type + "' (valid, same, same_lower or custom)");
  }
  return p;
}

Expected<Step> lower_conv(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  ANE_ASSIGN_OR_RETURN(size_t w, ctx.operand(op, "weight"));
  ANE_ASSIGN_OR_RETURN(std::optional<size_t> bias, ctx.optional_operand(op, "bias"));
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  const Shape& xs = ctx.tensor(x).shape();
  const Shape& ws = ctx.tensor(w).shape();
  if ((xs.size() != 3 && xs.size() != 4) || ws.size() != xs.size()) {
    return op_error(op, "x", "only 1-D and 2-D convolutions are supported (x " + ctx.tensor(x).type.to_string() +
                                 ", weight " + ctx.tensor(w).type.to_string() + ")", ErrorCode::kUnsupported);
  }
  ANE_ASSIGN_OR_RETURN(ConvParams p, conv_params(op, xs, ws));
  // Check the geometry the kernel relies on (the verifier has; this guards the loops).
  Shape expect{xs[0], ws[0]};
  for (size_t a = 2; a < xs.size(); ++a) {
    const size_t i = xs.size() == 4 ? a - 2 : 1;
    expect.push_back(conv_output_size(xs[a], ws[a], p.strides[i], p.dilations[i], p.pad[2 * i], p.pad[2 * i + 1]));
  }
  const bool groups_ok = p.groups > 0 && xs[1] == ws[1] * p.groups && ws[0] % p.groups == 0;
  const bool bias_ok = !bias || ctx.tensor(*bias).type.num_elements() == ws[0];
  if (!groups_ok || !bias_ok || expect != ctx.tensor(out).shape()) {
    return op_error(op, "weight", "x " + ctx.tensor(x).type.to_string() + ", weight " + ctx.tensor(w).type.to_string() +
                                      " and groups " + std::to_string(p.groups) + " do not give the output type " +
                                      ctx.tensor(out).type.to_string());
  }
  return Step([=](Slots& s) {
    conv(s[x], s[w], bias ? &s[*bias] : nullptr, p, s[out]);
    return Status();
  });
}

Expected<Step> lower_matmul(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  ANE_ASSIGN_OR_RETURN(size_t y, ctx.operand(op, "y"));
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  ANE_ASSIGN_OR_RETURN(bool tx, bool_arg(op, "transpose_x", false));
  ANE_ASSIGN_OR_RETURN(bool ty, bool_arg(op, "transpose_y", false));
  const MatmulDims d = matmul_dims(ctx.tensor(x).shape(), ctx.tensor(y).shape(), tx, ty);
  if (!d.valid || d.out_shape != ctx.tensor(out).shape()) {
    return op_error(op, "y", "x " + ctx.tensor(x).type.to_string() + " and y " + ctx.tensor(y).type.to_string() +
                                 " do not multiply to the output type " + ctx.tensor(out).type.to_string());
  }
  return Step([=](Slots& s) {
    matmul(s[x], s[y], tx, ty, s[out]);
    return Status();
  });
}

Expected<Step> lower_linear(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  ANE_ASSIGN_OR_RETURN(size_t w, ctx.operand(op, "weight"));
  ANE_ASSIGN_OR_RETURN(std::optional<size_t> bias, ctx.optional_operand(op, "bias"));
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  const Shape& xs = ctx.tensor(x).shape();
  const Shape& ws = ctx.tensor(w).shape();
  Shape expect = xs;
  const bool ok = !xs.empty() && ws.size() == 2 && ws[1] == xs.back() &&
                  (!bias || ctx.tensor(*bias).type.num_elements() == ws[0]);
  if (ok) expect.back() = ws[0];
  if (!ok || expect != ctx.tensor(out).shape()) {
    return op_error(op, "weight", "x " + ctx.tensor(x).type.to_string() + " and weight " + ctx.tensor(w).type.to_string() +
                                      " do not give the output type " + ctx.tensor(out).type.to_string());
  }
  return Step([=](Slots& s) {
    linear(s[x], s[w], bias ? &s[*bias] : nullptr, s[out]);
    return Status();
  });
}

constexpr OpEntry kLinearOps[] = {
    {"conv", lower_conv},
    {"matmul", lower_matmul},
    {"linear", lower_linear},
};

}  // namespace

int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_before,
                         int64_t pad_after) {
  const int64_t span = (kernel - 1) * dilation + 1;
  return (in + pad_before + pad_after - span) / stride + 1;
}

void conv(const DTensor& x, const DTensor& w, const DTensor* bias, const ConvParams& p, DTensor& y) {
  const bool two_d = x.rank() == 4;
  const int64_t n_batch = x.dim(0), cin = x.dim(1), h = two_d ? x.dim(2) : 1, wd = x.shape().back();
  const int64_t cout = w.dim(0), cin_g = w.dim(1), kh = two_d ? w.dim(2) : 1, kw = w.shape().back();
  const int64_t oh = two_d ? y.dim(2) : 1, ow = y.shape().back();
  const int64_t cout_g = cout / p.groups;
  const auto [sh, sw] = p.strides;
  const auto [dh, dw] = p.dilations;
  const int64_t top = p.pad[0], left = p.pad[2];
  for (int64_t n = 0; n < n_batch; ++n) {
    for (int64_t co = 0; co < cout; ++co) {
      double* yp = &y[(n * cout + co) * oh * ow];
      const double b = bias ? (*bias)[co] : 0.0;
      for (int64_t i = 0; i < oh * ow; ++i) yp[i] = b;
      const int64_t g = co / cout_g;
      for (int64_t ci = 0; ci < cin_g; ++ci) {
        const double* xp = &x[(n * cin + g * cin_g + ci) * h * wd];
        for (int64_t ky = 0; ky < kh; ++ky) {
          for (int64_t kx = 0; kx < kw; ++kx) {
            const double wv = w[((co * cin_g + ci) * kh + ky) * kw + kx];
            for (int64_t oy = 0; oy < oh; ++oy) {
              const int64_t iy = oy * sh - top + ky * dh;
              if (iy < 0 || iy >= h) continue;
              for (int64_t ox = 0; ox < ow; ++ox) {
                const int64_t ix = ox * sw - left + kx * dw;
                if (ix >= 0 && ix < wd) yp[oy * ow + ox] += wv * xp[iy * wd + ix];
              }
            }
          }
        }
      }
    }
  }
}

MatmulDims matmul_dims(const Shape& x, const Shape& y, bool transpose_x, bool transpose_y) {
  MatmulDims d;
  if (x.empty() || y.empty()) return d;
  // Rank-1 promotion: x -> [1, K], y -> [K, 1]; flags ignored for promoted operands.
  const Shape x2 = x.size() == 1 ? Shape{1, x[0]} : x;
  const Shape y2 = y.size() == 1 ? Shape{y[0], 1} : y;
  const bool tx = x.size() > 1 && transpose_x;
  const bool ty = y.size() > 1 && transpose_y;
  d.batch_x.assign(x2.begin(), x2.end() - 2);
  d.batch_y.assign(y2.begin(), y2.end() - 2);
  const int64_t xr = x2[x2.size() - 2], xc = x2.back(), yr = y2[y2.size() - 2], yc = y2.back();
  d.m = tx ? xc : xr;
  d.k = tx ? xr : xc;
  d.k_y = ty ? yc : yr;
  d.n = ty ? yr : yc;
  const auto batch = broadcast_shapes(d.batch_x, d.batch_y);
  if (!batch || d.k != d.k_y) return d;
  d.batch_out = *batch;
  d.out_shape = d.batch_out;
  if (x.size() > 1) d.out_shape.push_back(d.m);
  if (y.size() > 1) d.out_shape.push_back(d.n);
  d.valid = true;
  return d;
}

void matmul(const DTensor& x, const DTensor& y, bool transpose_x, bool transpose_y, DTensor& out) {
  const MatmulDims d = matmul_dims(x.shape(), y.shape(), transpose_x, transpose_y);
  const bool tx = x.rank() > 1 && transpose_x;
  const bool ty = y.rank() > 1 && transpose_y;
  const int64_t m = d.m, k = d.k, n = d.n;
  // Element strides of op(x)[i, kk] and op(y)[kk, j] inside one matrix.
  const int64_t sx_i = tx ? 1 : k, sx_k = tx ? m : 1;
  const int64_t sy_k = ty ? 1 : n, sy_j = ty ? k : 1;
  for_each_broadcast<2>(d.batch_out, {&d.batch_x, &d.batch_y}, [&](int64_t b, const std::array<int64_t, 2>& o) {
    const double* xp = &x[o[0] * m * k];
    const double* yp = &y[o[1] * k * n];
    double* op = &out[b * m * n];
    for (int64_t i = 0; i < m * n; ++i) op[i] = 0.0;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t kk = 0; kk < k; ++kk) {
        const double a = xp[i * sx_i + kk * sx_k];
        for (int64_t j = 0; j < n; ++j) op[i * n + j] += a * yp[kk * sy_k + j * sy_j];
      }
    }
  });
}

void linear(const DTensor& x, const DTensor& weight, const DTensor* bias, DTensor& out) {
  const int64_t din = weight.dim(1), dout = weight.dim(0);
  const int64_t rows = static_cast<int64_t>(x.size()) / din;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < dout; ++o) {
      double acc = bias ? (*bias)[o] : 0.0;
      for (int64_t i = 0; i < din; ++i) acc += x[r * din + i] * weight[o * din + i];
      out[r * dout + o] = acc;
    }
  }
}

std::span<const OpEntry> linear_ops() { return kLinearOps; }

}  // namespace ane::ref
