// Activation family: pointwise activations (a table over the unary machinery of
// elementwise.h), gelu's three modes, softmax, select and layer_norm.
#pragma once

#include <vector>

#include "backends/ref/tensor.h"

namespace ane::ref {

enum class GeluMode { kExact, kTanhApproximation, kSigmoidApproximation };

// gelu(x): EXACT 0.5 x (1 + erf(x / sqrt 2)); TANH_APPROXIMATION
// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); SIGMOID_APPROXIMATION x sigmoid(1.702 x).
double gelu(double x, GeluMode mode);

// y = exp(x - max) / sum(exp(x - max)) along `axis` (in [0, rank)); y has x's shape.
void softmax(const DTensor& x, int axis, DTensor& y);

// y = (x - mean) / sqrt(var + eps) * gamma + beta, mean and (biased) variance over `axes`
// (ascending, in [0, rank)). gamma and beta (either may be null) have the shape of x
// restricted to `axes`.
void layer_norm(const DTensor& x, const std::vector<int>& axes, const DTensor* gamma, const DTensor* beta,
                double eps, DTensor& y);

}  // namespace ane::ref
