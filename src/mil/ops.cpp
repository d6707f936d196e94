// The op registry: one constant table joined from the families in mil/ops/, and the
// schema checks every op goes through before its shape rule runs.
#include "mil/ops.h"

#include <algorithm>
#include <array>

#include "mil/ops/families.h"

namespace ane::mil {
namespace {

using namespace ops_internal;

constexpr size_t kOpCount = kElementwiseOpCount + kActivationOpCount + kLinearOpCount + kReduceOpCount +
                            kShapeOpCount + kNormalizationOpCount + kCastConstOpCount + kQuantizeOpCount;
static_assert(kOpCount == 43, "op count changed: update this check and the op list in ops.h's comment");

using Table = std::array<const OpSchema*, kOpCount>;

// Every family's schemas, sorted by name for lookup.
Table build_table() {
  Table table{};
  size_t n = 0;
  auto add = [&](auto family) {
    for (const OpSchema& s : family) table[n++] = &s;
  };
  add(elementwise_op_schemas());
  add(activation_op_schemas());
  add(linear_op_schemas());
  add(reduce_op_schemas());
  add(shape_op_schemas());
  add(normalization_op_schemas());
  add(cast_const_op_schemas());
  add(quantize_op_schemas());
  std::sort(table.begin(), table.end(), [](const OpSchema* a, const OpSchema* b) { return a->name < b->name; });
  return table;
}

const Table& table() {
  static const Table kTable = build_table();
  return kTable;
}

const ArgSpec* find_arg_spec(const OpSchema& schema, std::string_view name) {
  for (const ArgSpec& spec : schema.args) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string arg_names(const OpSchema& schema) {
  std::string s;
  for (const ArgSpec& spec : schema.args) s += (s.empty() ? "" : ", ") + std::string(spec.name);
  return s;
}

// One given argument against its spec: known, shaped as a tuple or not, constant if required.
Status check_given_arg(const Op& op, const OpSchema& schema, const std::string& name, const Argument& arg) {
  const ArgSpec* spec = find_arg_spec(schema, name);
  if (!spec) return op_error(op, name, "unknown argument (" + op.type + " takes: " + arg_names(schema) + ")");
  if (spec->is_tuple != arg.is_tuple) {
    return op_error(op, name, spec->is_tuple ? "expects a tuple of values, e.g. (a, b)" : "expects a single value, not a tuple");
  }
  if (arg.values.empty()) return op_error(op, name, spec->is_tuple ? "tuple is empty" : "has no value");
  for (const Value* v : arg.values) {
    if (!v) return op_error(op, name, "refers to an undefined value");
    if (spec->must_be_const && !v->is_constant()) {
      return op_error(op, name, "must be a compile-time constant, but '" + v->name + "' is computed at run time");
    }
  }
  return {};
}

Status check_args(const Op& op, const OpSchema& schema) {
  for (size_t i = 0; i < op.args.size(); ++i) {
    const auto& [name, arg] = op.args[i];
    for (size_t j = 0; j < i; ++j) {
      if (op.args[j].first == name) return op_error(op, name, "argument given twice");
    }
    ANE_RETURN_IF_ERROR(check_given_arg(op, schema, name, arg));
  }
  for (const ArgSpec& spec : schema.args) {
    if (spec.required && !op.arg(spec.name)) return op_error(op, spec.name, "missing required argument");
  }
  return {};
}

}  // namespace

const OpSchema* find_op_schema(std::string_view name) {
  const Table& t = table();
  auto it = std::lower_bound(t.begin(), t.end(), name, [](const OpSchema* s, std::string_view n) { return s->name < n; });
  return (it != t.end() && (*it)->name == name) ? *it : nullptr;
}

std::span<const OpSchema* const> all_op_schemas() { return table(); }

Error op_error(const Op& op, std::string_view arg, const std::string& rule) {
  std::string msg = op.type + " '" + op.display_name() + "': ";
  if (!arg.empty()) msg += "argument '" + std::string(arg) + "': ";
  return Error(ErrorCode::kVerify, msg + rule, op.loc);
}

Expected<std::vector<TensorType>> infer_op(const Op& op) {
  const OpSchema* schema = find_op_schema(op.type);
  if (!schema) return Error(ErrorCode::kVerify, "unknown op '" + op.type + "'", op.loc);
  ANE_RETURN_IF_ERROR(check_args(op, *schema));
  return schema->infer(op);
}

}  // namespace ane::mil
