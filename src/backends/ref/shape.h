// Shape family: data movement only. reshape, expand_dims and squeeze keep the row-major
// element order (copy_elements); the rest move elements by index arithmetic.
#pragma once

#include <vector>

#include "backends/ref/tensor.h"
#include "core/status.h"

namespace ane::ref {

// y's elements = x's elements in row-major order (same count, any shapes).
void copy_elements(const DTensor& x, DTensor& y);

// y[j0, .., jn] = x[i] with i[perm[d]] = j[d]; y.shape[d] = x.shape[perm[d]].
void transpose(const DTensor& x, const std::vector<int>& perm, DTensor& y);

// Concatenation along `axis`. interleave = false: inputs one after another. interleave =
// true (inputs of equal shape): y's axis alternates the inputs, y[.., p*n + i, ..] = xs[i][.., p, ..].
void concat(const std::vector<const DTensor*>& xs, int axis, bool interleave, DTensor& y);

// The inverse of concat (interleave = false): each output takes its size along `axis`.
void split(const DTensor& x, int axis, const std::vector<DTensor*>& outs);

// Strided slice: y (count[d] elements along each axis d, row-major; y's own shape may drop
// axes of count 1) = x[begin[d] + k * stride[d]] for k < count[d]. Indices are in range.
void strided_slice(const DTensor& x, const Shape& begin, const Shape& stride, const Shape& count, DTensor& y);

// y = x repeated reps[d] times along each axis d (y.shape[d] = x.shape[d] * reps[d]).
void tile(const DTensor& x, DTensor& y);

// y[b, p, i, q] = x[b, p, indices[b, i], q] where b spans x.shape[:batch_dims], p
// x.shape[batch_dims:axis], i indices.shape[batch_dims:], q x.shape[axis+1:]. Negative
// indices count from the end; an index out of [-n, n) is an error.
Status gather(const DTensor& x, const DTensor& indices, int axis, int batch_dims, DTensor& y);

}  // namespace ane::ref
