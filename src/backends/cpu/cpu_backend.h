// The fast CPU backend: MIL functions compiled into a plan of fp32 steps over one arena,
// every pointer bound at compile time. GEMMs (1x1 conv, matmul, linear) run on cpu::sgemm and
// read slices of their operands in place; elementwise ops are fused into groups (small DAGs
// run tile by tile); constants are converted to fp32 once and ops on constants are folded;
// dead and duplicate ops are dropped; reshapes and contiguous slices are views and concat
// inputs are written in place; causal attention (a softmax under a constant triangular mask)
// skips the masked half of its products and exponentials, and products skip the zero half of
// triangular operands. Ops without a fast kernel run through the reference kernels.
//
// Numerics (docs/numerics.md): Precision::kFp32 computes in fp32 whatever the declared
// dtypes; Precision::kFp16 rounds every op's float result to fp16 (overflow to inf,
// underflow through fp16 subnormals to zero), as the ANE datapath would.
#pragma once

#include <memory>
#include <string>

#include "backends/backend.h"

namespace ane {

struct CpuBackendOptions {
  bool fuse_elementwise = true;    // off: every elementwise op is its own pass (for benchmarks)
  bool fold_constants = true;      // ops on constants computed at compile time
  bool eliminate_dead_code = true;
  bool eliminate_common_subexpressions = true;
  bool views_and_taps = true;      // reshape-like ops alias, concat inputs written in place
  // Causal attention skips its masked half, and a product whose square operand is zero on one
  // side of its diagonal skips that half (both bitwise the same results).
  bool skip_zero_triangles = true;
};

// The GEMM library the backend calls and its version, for `ane info`.
std::string cpu_gemm_library();

// A new CPU backend, owned by the caller. Its Executables do not refer back to it.
std::unique_ptr<Backend> make_cpu_backend(CpuBackendOptions options = {});

}  // namespace ane
