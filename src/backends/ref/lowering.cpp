#include "backends/ref/lowering.h"

#include <algorithm>

namespace ane::ref {
namespace {

Expected<const mil::Constant*> required_constant(const mil::Op& op, std::string_view arg) {
  ANE_ASSIGN_OR_RETURN(const mil::Constant* c, constant_arg(op, arg));
  if (c == nullptr) return op_error(op, arg, "missing required argument");
  return c;
}

}  // namespace

DTensor tensor_of_constant(const mil::Constant& c) {
  DTensor t(c.type);
  for (int64_t i = 0; i < c.type.num_elements(); ++i) t[i] = c.element_as_double(i);
  return t;
}

Error op_error(const mil::Op& op, std::string_view arg, const std::string& rule, ErrorCode code) {
  std::string msg = op.type + " '" + op.display_name() + "'";
  if (!arg.empty()) msg += ": argument '" + std::string(arg) + "'";
  return Error(code, msg + ": " + rule, op.loc);
}

size_t Lowering::add_slot(const mil::Value& v, DTensor t) {
  slots_.push_back(std::move(t));
  const size_t slot = slots_.size() - 1;
  index_[&v] = slot;
  return slot;
}

size_t Lowering::define(const mil::Value& v) { return add_slot(v, DTensor(v.type)); }

std::optional<size_t> Lowering::find(const mil::Value& v) const {
  auto it = index_.find(&v);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

Expected<size_t> Lowering::slot_of(const mil::Op& op, std::string_view arg, const mil::Value& v) {
  if (auto s = find(v)) return *s;
  if (!v.is_constant()) return op_error(op, arg, "value '" + v.name + "' is used before it is defined", ErrorCode::kInternal);
  if (!v.constant->has_data()) return op_error(op, arg, "constant '" + v.name + "' has no data (unresolved BLOBFILE weight)");
  if (v.constant->type.dtype == mil::DType::kString) return op_error(op, arg, "string constants are not tensors");
  return add_slot(v, tensor_of_constant(*v.constant));
}

Expected<size_t> Lowering::operand(const mil::Op& op, std::string_view arg) {
  const mil::Value* v = op.arg_value(arg);
  if (v == nullptr) return op_error(op, arg, "missing required argument");
  return slot_of(op, arg, *v);
}

Expected<std::optional<size_t>> Lowering::optional_operand(const mil::Op& op, std::string_view arg) {
  const mil::Value* v = op.arg_value(arg);
  if (v == nullptr) return std::optional<size_t>();
  ANE_ASSIGN_OR_RETURN(size_t s, slot_of(op, arg, *v));
  return std::optional<size_t>(s);
}

Expected<std::vector<size_t>> Lowering::tuple_operands(const mil::Op& op, std::string_view arg) {
  const mil::Argument* a = op.arg(arg);
  if (a == nullptr || a->values.empty()) return op_error(op, arg, "missing required argument");
  std::vector<size_t> out;
  for (const mil::Value* v : a->values) {
    ANE_ASSIGN_OR_RETURN(size_t s, slot_of(op, arg, *v));
    out.push_back(s);
  }
  return out;
}

Expected<size_t> Lowering::result(const mil::Op& op, size_t i) {
  if (i >= op.outputs.size()) {
    return op_error(op, "", "expected at least " + std::to_string(i + 1) + " outputs", ErrorCode::kInternal);
  }
  const mil::Value& v = *op.outputs[i];
  if (v.is_constant() && v.constant->has_data()) return add_slot(v, tensor_of_constant(*v.constant));
  return add_slot(v, DTensor(v.type));
}

Expected<const mil::Constant*> constant_arg(const mil::Op& op, std::string_view arg) {
  const mil::Value* v = op.arg_value(arg);
  if (v == nullptr) return static_cast<const mil::Constant*>(nullptr);
  if (!v->is_constant()) return op_error(op, arg, "must be a compile-time constant", ErrorCode::kUnsupported);
  if (!v->constant->has_data()) return op_error(op, arg, "constant '" + v->name + "' has no data");
  return &*v->constant;
}

Expected<int64_t> int_arg(const mil::Op& op, std::string_view arg, std::optional<int64_t> dflt) {
  if (op.arg(arg) == nullptr && dflt) return *dflt;
  ANE_ASSIGN_OR_RETURN(const mil::Constant* c, required_constant(op, arg));
  if (c->type.num_elements() != 1) return op_error(op, arg, "expected a scalar, got " + c->type.to_string());
  return c->element_as_int(0);
}

Expected<std::vector<int64_t>> ints_arg(const mil::Op& op, std::string_view arg,
                                        std::optional<std::vector<int64_t>> dflt) {
  if (op.arg(arg) == nullptr && dflt) return *dflt;
  ANE_ASSIGN_OR_RETURN(const mil::Constant* c, required_constant(op, arg));
  return c->to_ints();
}

Expected<double> float_arg(const mil::Op& op, std::string_view arg, std::optional<double> dflt) {
  if (op.arg(arg) == nullptr && dflt) return *dflt;
  ANE_ASSIGN_OR_RETURN(const mil::Constant* c, required_constant(op, arg));
  if (c->type.num_elements() != 1) return op_error(op, arg, "expected a scalar, got " + c->type.to_string());
  return c->element_as_double(0);
}

Expected<bool> bool_arg(const mil::Op& op, std::string_view arg, std::optional<bool> dflt) {
  if (op.arg(arg) == nullptr && dflt) return *dflt;
  ANE_ASSIGN_OR_RETURN(const mil::Constant* c, required_constant(op, arg));
  if (c->type.num_elements() != 1) return op_error(op, arg, "expected a scalar, got " + c->type.to_string());
  return c->element_as_double(0) != 0.0;
}

Expected<std::vector<bool>> bools_arg(const mil::Op& op, std::string_view arg, size_t n_if_absent) {
  if (op.arg(arg) == nullptr) return std::vector<bool>(n_if_absent, false);
  ANE_ASSIGN_OR_RETURN(const mil::Constant* c, required_constant(op, arg));
  std::vector<bool> out;
  for (int64_t i = 0; i < c->type.num_elements(); ++i) out.push_back(c->element_as_double(i) != 0.0);
  return out;
}

Expected<std::string> string_arg(const mil::Op& op, std::string_view arg, std::optional<std::string> dflt) {
  if (op.arg(arg) == nullptr && dflt) return *dflt;
  ANE_ASSIGN_OR_RETURN(const mil::Constant* c, required_constant(op, arg));
  if (c->type.dtype != mil::DType::kString || c->strings.size() != 1) {
    return op_error(op, arg, "expected a string, got " + c->type.to_string());
  }
  return c->strings.front();
}

Expected<int> axis_arg_value(const mil::Op& op, std::string_view arg, int64_t axis, int rank) {
  if (axis < -rank || axis >= rank) {
    return op_error(op, arg, "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  }
  return normalize_axis(axis, rank);
}

Expected<std::vector<int>> axes_arg(const mil::Op& op, std::string_view arg, int rank) {
  std::vector<int> axes;
  if (op.arg(arg) == nullptr) {
    for (int d = 0; d < rank; ++d) axes.push_back(d);
    return axes;
  }
  ANE_ASSIGN_OR_RETURN(std::vector<int64_t> raw, ints_arg(op, arg));
  for (int64_t a : raw) {
    ANE_ASSIGN_OR_RETURN(int axis, axis_arg_value(op, arg, a, rank));
    if (std::find(axes.begin(), axes.end(), axis) != axes.end()) {
      return op_error(op, arg, "axis " + std::to_string(a) + " appears twice");
    }
    axes.push_back(axis);
  }
  std::sort(axes.begin(), axes.end());
  return axes;
}

}  // namespace ane::ref
