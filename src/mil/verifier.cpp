#include "mil/verifier.h"

#include <set>
#include <string>
#include <unordered_set>

#include "mil/ops.h"

namespace ane::mil {
namespace {

Error verify_error(std::string msg, const Location& where) { return Error(ErrorCode::kVerify, std::move(msg), where); }

bool is_numeric(DType t) { return is_float(t) || is_integer(t); }

// What a function has defined so far, in statement order.
struct Scope {
  std::unordered_set<const Value*> defined;
  std::set<std::string, std::less<>> names;
};

// Adds `v`; a name used twice is an error located at the second definition.
Status define(Scope& scope, const Value* v, const Location& where) {
  if (!scope.names.insert(v->name).second) {
    return verify_error("value '" + v->name + "' is defined twice", v->loc.empty() ? where : v->loc);
  }
  scope.defined.insert(v);
  return {};
}

// A function input or output: a tensor (rank >= 1) of a numeric dtype.
Status check_surface(const Function& fn, const Value& v, const char* role) {
  if (is_numeric(v.type.dtype) && !v.type.is_scalar()) return {};
  return verify_error("function '" + fn.name + "' " + role + " '" + v.name + "' has type " + v.type.to_string() +
                          "; inputs and outputs must be tensors of a numeric dtype",
                      v.loc.empty() ? fn.loc : v.loc);
}

// Every argument refers to a literal or to a value defined above the op.
Status check_uses(const Op& op, const Scope& scope) {
  for (const auto& [name, arg] : op.args) {
    for (const Value* v : arg.values) {
      if (!v) return op_error(op, name, "refers to an undefined value");
      if (v->kind == ValueKind::kLiteral) continue;
      if (!scope.defined.count(v)) return op_error(op, name, "value '" + v->name + "' is used before it is defined");
    }
  }
  return {};
}

// The op's declared outputs against the types its rule infers.
Status check_outputs(const Op& op, const std::vector<TensorType>& inferred) {
  if (op.outputs.size() != inferred.size()) {
    return op_error(op, "", "declares " + std::to_string(op.outputs.size()) + " output(s) but produces " +
                                std::to_string(inferred.size()));
  }
  for (size_t i = 0; i < inferred.size(); ++i) {
    const Value* out = op.outputs[i];
    if (!out) return op_error(op, "", "output " + std::to_string(i) + " is missing");
    if (out->type != inferred[i]) {
      return op_error(op, "", "output '" + out->name + "' is declared as " + out->type.to_string() + " but inferred as " +
                                  inferred[i].to_string());
    }
  }
  return {};
}

Status verify_op(const Op& op, Scope& scope) {
  if (!find_op_schema(op.type)) return verify_error("unknown op '" + op.type + "'", op.loc);
  ANE_RETURN_IF_ERROR(check_uses(op, scope));
  ANE_ASSIGN_OR_RETURN(std::vector<TensorType> inferred, infer_op(op));
  ANE_RETURN_IF_ERROR(check_outputs(op, inferred));
  for (const Value* out : op.outputs) ANE_RETURN_IF_ERROR(define(scope, out, op.loc));
  return {};
}

Status verify_outputs(const Function& fn, const Scope& scope) {
  if (fn.outputs.empty()) return verify_error("function '" + fn.name + "' has no outputs", fn.loc);
  for (const Value* v : fn.outputs) {
    if (!v || !scope.defined.count(v)) {
      return verify_error("function '" + fn.name + "' output '" + (v ? v->name : "?") + "' is not defined", fn.loc);
    }
    ANE_RETURN_IF_ERROR(check_surface(fn, *v, "output"));
  }
  return {};
}

// Fills in the program's file name where an error's location lacks one.
Error with_file(const Error& e, const std::string& file) {
  if (file.empty() || !e.where().file.empty() || e.where().empty()) return e;
  Location where = e.where();
  where.file = file;
  return Error(e.code(), e.message(), where);
}

}  // namespace

Status verify_function(const Function& fn) {
  Scope scope;
  for (const Value* v : fn.inputs) {
    ANE_RETURN_IF_ERROR(check_surface(fn, *v, "input"));
    ANE_RETURN_IF_ERROR(define(scope, v, fn.loc));
  }
  for (const auto& op : fn.ops) ANE_RETURN_IF_ERROR(verify_op(*op, scope));
  return verify_outputs(fn, scope);
}

Status verify(const Program& program) {
  if (program.functions.empty()) return verify_error("program has no functions", {});
  std::set<std::string, std::less<>> names;
  for (const auto& fn : program.functions) {
    if (!names.insert(fn->name).second) {
      return with_file(verify_error("function '" + fn->name + "' is defined twice", fn->loc), program.source_name);
    }
    Status s = verify_function(*fn);
    if (!s.ok()) return with_file(s.error(), program.source_name);
  }
  return {};
}

}  // namespace ane::mil
