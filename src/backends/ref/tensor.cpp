#include "backends/ref/tensor.h"

#include <algorithm>

namespace ane::ref {

Shape row_major_strides(const Shape& shape) {
  Shape strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

int64_t shape_product(const Shape& shape, int begin, int end) {
  int64_t n = 1;
  for (int i = begin; i < end; ++i) n *= shape[static_cast<size_t>(i)];
  return n;
}

Shape axis_offsets(const Shape& shape, const std::vector<int>& axes) {
  const Shape strides = row_major_strides(shape);
  Shape offsets{0};
  for (int axis : axes) {  // each axis multiplies the list; later axes vary fastest
    const auto a = static_cast<size_t>(axis);
    Shape next;
    next.reserve(offsets.size() * static_cast<size_t>(shape[a]));
    for (int64_t base : offsets) {
      for (int64_t i = 0; i < shape[a]; ++i) next.push_back(base + i * strides[a]);
    }
    offsets = std::move(next);
  }
  return offsets;
}

std::vector<int> other_axes(int rank, const std::vector<int>& axes) {
  std::vector<int> out;
  for (int d = 0; d < rank; ++d) {
    if (std::find(axes.begin(), axes.end(), d) == axes.end()) out.push_back(d);
  }
  return out;
}

}  // namespace ane::ref
