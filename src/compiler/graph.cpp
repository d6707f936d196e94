#include "compiler/graph.h"

#include <string>
#include <unordered_set>

namespace ane::compiler {
namespace {

// Constants up to this many bytes are compared by content for CSE (weights are not).
constexpr size_t kMaxMergedConstantBytes = 256;

// A key identifying what an op computes: type, canonical arguments, attributes but `name`.
std::string op_key(const mil::Op& op, const GraphAnalysis& g) {
  std::string key = op.type + "(";
  for (const auto& [name, arg] : op.args) {
    key += name + (arg.is_tuple ? "=(" : "=");
    for (const mil::Value* v : arg.values) key += std::to_string(reinterpret_cast<uintptr_t>(g.canonical(v))) + ",";
    key += ";";
  }
  key += ")[";
  for (const auto& [name, c] : op.attributes) {
    if (name == "name") continue;
    key += name + "=" + c.type.to_string() + ":" + std::string(c.data.begin(), c.data.end()) + ";";
    for (const std::string& s : c.strings) key += s + ";";
  }
  return key + "]";
}

// Content key of a small literal constant, or "" when it is not worth merging.
std::string constant_key(const mil::Value& v) {
  if (!v.is_constant() || v.constant->blob || v.constant->data.size() > kMaxMergedConstantBytes) return "";
  std::string key = "const:" + v.type.to_string() + ":" + std::string(v.constant->data.begin(), v.constant->data.end());
  for (const std::string& s : v.constant->strings) key += s + ";";
  return key;
}

std::vector<bool> live_ops(const mil::Function& fn) {
  std::unordered_set<const mil::Value*> needed(fn.outputs.begin(), fn.outputs.end());
  std::vector<bool> live(fn.ops.size(), false);
  for (size_t i = fn.ops.size(); i-- > 0;) {
    const mil::Op& op = *fn.ops[i];
    for (const mil::Value* out : op.outputs) live[i] = live[i] || needed.count(out) > 0;
    if (!live[i]) continue;
    for (const auto& [name, arg] : op.args) needed.insert(arg.values.begin(), arg.values.end());
  }
  return live;
}

void merge_literal_arguments(const mil::Op& op, std::unordered_map<std::string, const mil::Value*>& seen,
                             GraphAnalysis& g) {
  for (const auto& [name, arg] : op.args) {
    for (const mil::Value* v : arg.values) {
      if (v->kind != mil::ValueKind::kLiteral) continue;
      const std::string key = constant_key(*v);
      if (key.empty()) continue;
      auto [it, fresh] = seen.emplace(key, v);
      if (!fresh && it->second != v) g.replaced[v] = it->second;
    }
  }
}

}  // namespace

GraphAnalysis analyze_graph(const mil::Function& fn, const GraphOptions& options) {
  GraphAnalysis g;
  const std::vector<bool> live = options.eliminate_dead_code ? live_ops(fn) : std::vector<bool>(fn.ops.size(), true);
  std::unordered_map<std::string, const mil::Value*> constants;
  std::unordered_map<std::string, const mil::Op*> computed;
  for (size_t i = 0; i < fn.ops.size(); ++i) {
    const mil::Op& op = *fn.ops[i];
    if (!live[i]) {
      ++g.dead_ops;
      continue;
    }
    if (options.eliminate_common_subexpressions) {
      merge_literal_arguments(op, constants, g);
      const std::string key = op.type == "const" ? constant_key(*op.outputs.front()) : op_key(op, g);
      if (!key.empty()) {
        auto [it, fresh] = computed.emplace(key, &op);
        if (!fresh && it->second->outputs.size() == op.outputs.size()) {
          for (size_t k = 0; k < op.outputs.size(); ++k) g.replaced[op.outputs[k]] = it->second->outputs[k];
          ++g.merged_ops;
          continue;
        }
      }
    }
    g.ops.push_back(&op);
  }
  return g;
}

}  // namespace ane::compiler
