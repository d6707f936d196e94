// Shared pieces of the op shape/type rules (private to mil/ops). Every helper reports a
// broken rule through op_error(), so messages name the op, its name and the argument.
// The infer functions run after infer_op() has checked the arguments against the schema:
// required arguments are present, must_be_const ones are constants, tuples are tuples.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "mil/ir.h"
#include "mil/ops.h"

namespace ane::mil::ops_internal {

using Shape = std::vector<int64_t>;

// Schema argument shorthands: required / optional, runtime value / compile-time constant.
constexpr ArgSpec arg_required(std::string_view name) { return {name, true, false, false}; }
constexpr ArgSpec arg_optional(std::string_view name) { return {name, false, false, false}; }
constexpr ArgSpec arg_required_const(std::string_view name) { return {name, true, true, false}; }
constexpr ArgSpec arg_optional_const(std::string_view name) { return {name, false, true, false}; }
constexpr ArgSpec arg_tuple(std::string_view name) { return {name, true, false, true}; }
using InferResult = Expected<std::vector<TensorType>>;

// A single inferred output.
InferResult one(TensorType t);

// "[1, 768, 1, 256]".
std::string shape_str(const Shape& s);

// The type of argument `name` (a required, single-valued argument).
const TensorType& arg_type(const Op& op, std::string_view name);
// The value of an optional argument, or nullptr when it is absent.
const Value* optional_value(const Op& op, std::string_view name);

// Constant readers: the argument must be a constant whose data is known. Absent optional
// arguments give the default (when one is passed; otherwise an error).
Expected<int64_t> const_int(const Op& op, std::string_view name, std::optional<int64_t> dflt = std::nullopt);
Expected<Shape> const_ints(const Op& op, std::string_view name);  // rank-1 integer tensor (rank 0 ok)
Expected<bool> const_bool(const Op& op, std::string_view name, bool dflt);
Expected<std::vector<bool>> const_bools(const Op& op, std::string_view name, size_t n_if_absent);
Expected<std::string> const_string(const Op& op, std::string_view name, std::string dflt);

// An axis in [-rank, rank) mapped to [0, rank): "axis 4 out of range for rank 4".
Expected<int> normalize_axis(const Op& op, std::string_view arg, int64_t axis, int rank);
// Each axis normalised; duplicates rejected.
Expected<std::vector<int>> normalize_axes(const Op& op, std::string_view arg, const Shape& axes, int rank);

// dtype rules.
Status require_float(const Op& op, std::string_view arg, const TensorType& t);
Status require_dtype(const Op& op, std::string_view arg, const TensorType& t, std::initializer_list<DType> allowed);
// `t`'s dtype must equal `expected` (the dtype of argument `other`).
Status require_same_dtype(const Op& op, std::string_view arg, const TensorType& t, std::string_view other,
                          DType expected);
Status require_scalar(const Op& op, std::string_view arg, const TensorType& t);
Status require_rank(const Op& op, std::string_view arg, const TensorType& t, int rank);

// NumPy broadcasting of two shapes; `what` names the operands in the message.
Expected<Shape> broadcast_shapes(const Op& op, std::string_view arg, const Shape& a, const Shape& b,
                                 std::string_view what);

}  // namespace ane::mil::ops_internal
