// Graph passes over a verified MIL function, as analyses: they leave the IR untouched (the
// backend receives it const) and return what a lowering needs to skip or merge ops.
//   dead-code elimination: only ops some function output depends on are kept;
//   common-subexpression elimination: an op with the same type, the same (canonical)
//   arguments and the same attributes (its name aside) as an earlier one is dropped and its
//   outputs read the earlier op's; small equal constants are merged the same way.
#pragma once

#include <unordered_map>
#include <vector>

#include "mil/ir.h"

namespace ane::compiler {

struct GraphOptions {
  bool eliminate_dead_code = true;
  bool eliminate_common_subexpressions = true;
};

struct GraphAnalysis {
  std::vector<const mil::Op*> ops;  // the ops to lower, in topological order
  // value -> the equal value that replaces it (CSE); values not in the map stand for themselves.
  std::unordered_map<const mil::Value*, const mil::Value*> replaced;
  int dead_ops = 0;    // removed by DCE
  int merged_ops = 0;  // removed by CSE

  const mil::Value* canonical(const mil::Value* v) const {
    auto it = replaced.find(v);
    return it == replaced.end() ? v : it->second;
  }
};

GraphAnalysis analyze_graph(const mil::Function& fn, const GraphOptions& options = {});

}  // namespace ane::compiler
