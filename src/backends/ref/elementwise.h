// Elementwise kernels: binary ops with numpy broadcasting (one loop, a table of scalar
// functions), select, and unary maps with up to two scalar parameters.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "backends/ref/lowering.h"
#include "backends/ref/tensor.h"

namespace ane::ref {

using BinaryFn = double (*)(double x, double y);
using UnaryFn = double (*)(double x, double p0, double p1);

// The scalar function of binary op `op_type` ("add", "pow", ...), or nullptr.
BinaryFn find_binary_fn(std::string_view op_type);

// numpy broadcast of two shapes (aligned at the trailing axis), or nullopt if incompatible.
std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b);

// y = f(a, b) elementwise; y.shape() is the broadcast of a's and b's shapes.
void binary(const DTensor& a, const DTensor& b, BinaryFn f, DTensor& y);
// y = cond ? a : b elementwise with broadcasting over all three.
void select(const DTensor& cond, const DTensor& a, const DTensor& b, DTensor& y);
// y = f(x, p0, p1) elementwise; y has x's shape.
void unary(const DTensor& x, UnaryFn f, double p0, double p1, DTensor& y);

// Calls fn(out_index, offsets) for every element of `out` in row-major order, where
// offsets[k] = sum over axes d of index[d] * strides[k][d] (strides aligned with `out`).
template <size_t N, typename Fn>
void for_each_strided(const Shape& out, const std::array<Shape, N>& strides, Fn&& fn) {
  const size_t rank = out.size();
  int64_t total = 1;
  for (int64_t d : out) total *= d;
  Shape index(rank, 0);
  std::array<int64_t, N> offsets{};
  for (int64_t i = 0; i < total; ++i) {
    fn(i, offsets);
    for (size_t d = rank; d-- > 0;) {  // odometer step
      ++index[d];
      for (size_t k = 0; k < N; ++k) offsets[k] += strides[k][d];
      if (index[d] < out[d]) break;
      for (size_t k = 0; k < N; ++k) offsets[k] -= strides[k][d] * out[d];
      index[d] = 0;
    }
  }
}

// numpy broadcasting: calls fn(out_index, offsets) for every element of `out`, where
// offsets[k] is the element of input k (shape *ins[k]) broadcast to it.
template <size_t N, typename Fn>
void for_each_broadcast(const Shape& out, const std::array<const Shape*, N>& ins, Fn&& fn) {
  std::array<Shape, N> strides;
  for (size_t k = 0; k < N; ++k) {
    const Shape& in = *ins[k];
    const Shape in_strides = row_major_strides(in);
    strides[k].assign(out.size(), 0);
    const size_t lead = out.size() - in.size();
    for (size_t d = 0; d < in.size(); ++d) strides[k][lead + d] = in[d] == 1 ? 0 : in_strides[d];
  }
  for_each_strided<N>(out, strides, std::forward<Fn>(fn));
}

// A unary op: its scalar function and up to two named scalar parameters with defaults
// (no default: the parameter is required).
struct UnaryParam {
  std::string_view name;  // empty: unused
  std::optional<double> dflt;
};
struct UnaryDef {
  std::string_view type;
  UnaryFn fn;
  std::array<UnaryParam, 2> params;
};

// Lowers `op` as the unary op `def` (shared by the elementwise and activation families).
Expected<Step> lower_unary(const mil::Op& op, Lowering& ctx, const UnaryDef& def);
// The entry of `table` whose type is op_type, or nullptr.
const UnaryDef* find_unary_def(std::span<const UnaryDef> table, std::string_view op_type);

}  // namespace ane::ref
