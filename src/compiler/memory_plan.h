// The liveness-based memory planner: buffers that are never alive at the same time share
// bytes of one arena. Each buffer is alive over the closed step interval [first, last]
// (written at `first`, last read at `last`); buffers whose intervals overlap get disjoint
// byte ranges. Greedy best fit, largest buffers first (what TFLite's arena planner does).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace ane::compiler {

struct BufferLife {
  size_t bytes = 0;
  int first = 0;  // step that writes it
  int last = 0;   // last step that reads it (>= first)
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // byte offset of buffer i, a multiple of `alignment`
  size_t peak_bytes = 0;        // the arena size
  size_t total_bytes = 0;       // what the buffers would take without sharing
};

MemoryPlan plan_memory(std::span<const BufferLife> buffers, size_t alignment = 64);

}  // namespace ane::compiler
