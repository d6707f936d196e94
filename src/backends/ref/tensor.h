// DTensor: the reference backend's value, a dense row-major array of doubles with the MIL
// type it stands for. Every value of every dtype is held as double: the reference computes
// the ideal math (no intermediate rounding); the dtype only decides how values enter and
// leave (convert.h) and, for integer dtypes, that values stay integral.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "mil/types.h"

namespace ane::ref {

using Shape = std::vector<int64_t>;

struct DTensor {
  mil::TensorType type;      // dtype and shape
  std::vector<double> data;  // row-major, type.num_elements() values

  DTensor() = default;
  explicit DTensor(mil::TensorType t)
      : type(std::move(t)), data(static_cast<size_t>(type.num_elements()), 0.0) {}
  DTensor(mil::TensorType t, std::vector<double> values) : type(std::move(t)), data(std::move(values)) {}

  const Shape& shape() const { return type.shape; }
  int rank() const { return type.rank(); }
  int64_t dim(int axis) const { return type.shape[static_cast<size_t>(axis)]; }
  size_t size() const { return data.size(); }
  double& operator[](int64_t i) { return data[static_cast<size_t>(i)]; }
  const double& operator[](int64_t i) const { return data[static_cast<size_t>(i)]; }
};

// Row-major strides of `shape` (in elements): the last axis has stride 1.
Shape row_major_strides(const Shape& shape);

// Product of shape[begin, end).
int64_t shape_product(const Shape& shape, int begin, int end);

// Element offsets (row-major strides of `shape`) of every combination of indices over
// `axes` (ascending), the other axes at 0, enumerated in row-major order. Splitting a
// tensor's axes into kept and reduced sets gives x[outer[o] + inner[k]] for output o and
// reduced element k: the layout that reductions, softmax and layer_norm share.
Shape axis_offsets(const Shape& shape, const std::vector<int>& axes);

// The axes of a rank-`rank` tensor not in `axes` (ascending).
std::vector<int> other_axes(int rank, const std::vector<int>& axes);

// An axis in [-rank, rank) mapped to [0, rank). The caller has checked the range.
inline int normalize_axis(int64_t axis, int rank) {
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

}  // namespace ane::ref
