#include "compiler/op_cost.h"

#include <string_view>

namespace ane::compiler {
namespace {

double elements(const mil::Value* v) { return v ? static_cast<double>(v->type.num_elements()) : 0.0; }

// Multiply-adds of a conv: each output element sums Cin/groups * kernel-area products.
double conv_flops(const mil::Op& op) {
  const mil::Value* w = op.arg_value("weight");
  if (w == nullptr || op.outputs.empty() || w->type.rank() < 2) return 0;
  double per_output = 1;
  for (size_t d = 1; d < w->type.shape.size(); ++d) per_output *= static_cast<double>(w->type.shape[d]);
  return 2.0 * per_output * elements(op.outputs.front());
}

// out [.., M, N] = x [.., M, K] @ y [.., K, N]: 2 M N K per batch.
double matmul_flops(const mil::Op& op) {
  const mil::Value* x = op.arg_value("x");
  if (x == nullptr || op.outputs.empty() || x->type.rank() == 0) return 0;
  const auto& s = x->type.shape;
  int64_t k = s.back();
  if (const mil::Value* t = op.arg_value("transpose_x"); t && t->is_constant() && t->constant->element_as_double(0) != 0) {
    k = s.size() >= 2 ? s[s.size() - 2] : s.back();
  }
  return 2.0 * static_cast<double>(k) * elements(op.outputs.front());
}

double linear_flops(const mil::Op& op) {
  const mil::Value* w = op.arg_value("weight");
  if (w == nullptr || op.outputs.empty() || w->type.rank() != 2) return 0;
  return 2.0 * static_cast<double>(w->type.shape[1]) * elements(op.outputs.front());
}

// Transcendental-heavy and normalising ops count a handful of flops per element.
double per_element_flops(std::string_view type) {
  if (type == "softmax" || type == "layer_norm") return 5;
  if (type == "gelu" || type == "silu" || type == "sigmoid" || type == "tanh") return 4;
  return 1;
}

bool moves_data_only(std::string_view type) {
  for (std::string_view t : {"reshape", "transpose", "concat", "split", "slice_by_size", "slice_by_index", "tile",
                             "expand_dims", "squeeze", "gather", "identity", "const", "cast"}) {
    if (type == t) return true;
  }
  return false;
}

}  // namespace

OpCost op_cost(const mil::Op& op) {
  OpCost c;
  for (const auto& [name, arg] : op.args) {
    for (const mil::Value* v : arg.values) {
      if (v->kind != mil::ValueKind::kLiteral) c.bytes += static_cast<double>(v->type.num_bytes());
    }
  }
  double out_elements = 0;
  for (const mil::Value* v : op.outputs) {
    c.bytes += static_cast<double>(v->type.num_bytes());
    out_elements += elements(v);
  }
  if (op.type == "conv") {
    c.flops = conv_flops(op);
  } else if (op.type == "matmul") {
    c.flops = matmul_flops(op);
  } else if (op.type == "linear") {
    c.flops = linear_flops(op);
  } else if (op.type.rfind("reduce_", 0) == 0) {
    c.flops = elements(op.arg_value("x"));
  } else if (!moves_data_only(op.type)) {
    c.flops = per_element_flops(op.type) * out_elements;
  }
  if (op.type == "const") c.bytes = 0;
  return c;
}

}  // namespace ane::compiler
