// Linear family: conv (1-D and 2-D, NCHW), matmul, linear.
#pragma once

#include <array>
#include <cstdint>

#include "backends/ref/tensor.h"

namespace ane::ref {

// Explicit convolution geometry (pad_type already resolved to pads).
struct ConvParams {
  std::array<int64_t, 2> strides{1, 1};    // [h, w]
  std::array<int64_t, 2> dilations{1, 1};  // [h, w]
  std::array<int64_t, 4> pad{0, 0, 0, 0};  // [top, bottom, left, right]
  int64_t groups = 1;
};

// y[n, co, oh, ow] = bias[co] + sum over ci in co's group, kh, kw of
//   x[n, g*Cin/groups + ci, oh*sh - top + kh*dh, ow*sw - left + kw*dw] * w[co, ci, kh, kw]
// with x zero outside its bounds. x: [N, Cin, H, W] (or [N, Cin, W] for 1-D, H = 1);
// w: [Cout, Cin/groups, kh, kw] (or [Cout, Cin/groups, kw]); bias: [Cout] or null;
// y: [N, Cout, Ho, Wo] (or [N, Cout, Wo]), shaped by the caller.
void conv(const DTensor& x, const DTensor& w, const DTensor* bias, const ConvParams& p, DTensor& y);

// The spatial output size of a convolution along one axis.
int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_before,
                         int64_t pad_after);

// out = op(x) @ op(y) with op a transpose of the last two axes when the flag is set, the
// leading (batch) axes broadcast numpy-style. A rank-1 x is a row [1, K] and a rank-1 y a
// column [K, 1] (their flags ignored), the added axis dropped from out. out is shaped by
// the caller.
void matmul(const DTensor& x, const DTensor& y, bool transpose_x, bool transpose_y, DTensor& out);

// out[..., o] = sum_i x[..., i] * weight[o, i] + bias[o]. weight: [Dout, Din]; bias: [Dout] or null.
void linear(const DTensor& x, const DTensor& weight, const DTensor* bias, DTensor& out);

// matmul operand geometry: batch shape and matrix sizes after rank-1 promotion and transposes.
struct MatmulDims {
  Shape batch_x, batch_y, batch_out;
  int64_t m = 0, k = 0, n = 0, k_y = 0;
  Shape out_shape;  // batch_out + [m, n], minus the axes rank-1 operands added
  bool valid = false;
};
MatmulDims matmul_dims(const Shape& x, const Shape& y, bool transpose_x, bool transpose_y);

}  // namespace ane::ref
