// Op definitions: each op's signature and its shape/type rule, one registry for all.
// Every op family lives in its own file under mil/ops/ (elementwise, conv/matmul, reduce,
// shape, softmax/normalisation, cast/const, quantize); each adds its OpSchemas to the table.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "mil/ir.h"

namespace ane::mil {

struct ArgSpec {
  std::string_view name;
  bool required = true;
  bool must_be_const = false;  // must be a compile-time constant (axes, perm, pad_type...)
  bool is_tuple = false;       // a tuple of values (concat's `values`)
};

struct OpSchema {
  std::string_view name;
  std::vector<ArgSpec> args;
  // Output types from the op's arguments (their types, and constants where must_be_const).
  // Errors come from op_error(), naming the op, its name, the argument and the rule.
  Expected<std::vector<TensorType>> (*infer)(const Op& op);
};

// The schema of op `name`, or nullptr if the engine does not know it.
const OpSchema* find_op_schema(std::string_view name);
std::span<const OpSchema* const> all_op_schemas();

// "conv 'q_proj': argument 'weight': <rule>" located at the op's statement.
Error op_error(const Op& op, std::string_view arg, const std::string& rule);

// Checks the op's arguments against its schema (unknown, missing, constness, tuple-ness)
// and returns the inferred output types.
Expected<std::vector<TensorType>> infer_op(const Op& op);

}  // namespace ane::mil
