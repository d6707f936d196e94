// Reduce family: reduce_{sum, mean, prod, max, min, sum_square, l1_norm, l2_norm,
// log_sum, log_sum_exp} over a set of axes, and reduce_{argmax, argmin} over one axis.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "backends/ref/tensor.h"

namespace ane::ref {

// Reduces one group of elements (the elements sharing an output position) to a value.
using ReduceFn = double (*)(std::span<const double> group);

// The function of reduce op `op_type` ("reduce_sum", ...), or nullptr.
ReduceFn find_reduce_fn(std::string_view op_type);

// y[o] = f(x over `axes` at output position o). axes ascending in [0, rank); y holds
// x's shape without (or with size-1) reduced axes: the element order is the same.
void reduce(const DTensor& x, const std::vector<int>& axes, ReduceFn f, DTensor& y);

}  // namespace ane::ref
