// What an op costs, estimated from its types alone: floating-point operations (a
// multiply-add counts 2) and bytes moved (every tensor input read once and every output
// written once, in their declared dtypes; constants included). For `ane mil bench` and
// the profiler's GFLOP/s and GB/s columns.
#pragma once

#include <cstdint>

#include "mil/ir.h"

namespace ane::compiler {

struct OpCost {
  double flops = 0;
  double bytes = 0;
};

OpCost op_cost(const mil::Op& op);

}  // namespace ane::compiler
