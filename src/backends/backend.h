// The backend interface: a backend says which ops it supports, compiles a verified MIL
// function (weights resolved, every value typed) into an Executable, and runs it on raw
// surface memory. The reference backend (ref/) is plain float64 loops; the fast CPU
// backend (cpu/) comes later behind the same interface.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/shared_arena.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "mil/ir.h"

namespace ane {

enum class Precision : uint8_t {
  kFp32,  // surfaces as declared, fp32 (or better) inside
  kFp16,  // every op's result rounded to fp16, as the ANE's datapath would
};

struct CompileOptions {
  Precision precision = Precision::kFp32;
  int threads = 0;  // 0: default (physical cores)
  // When set, the function runs on these threads (`threads` is then the pool's size) instead
  // of a pool of its own: an Engine's kernels share its pool.
  std::shared_ptr<ThreadPool> pool = nullptr;
  // When set, the function keeps its intermediates in this arena (if they fit) instead of
  // its own, and each run holds the arena's lock: functions sharing one run in turn.
  std::shared_ptr<SharedArena> shared_arena = nullptr;
  // The function (its IR and its constants' bytes) stays alive and unchanged for as long as
  // the executable: a backend may then read constants where they lie instead of copying
  // them. The Engine sets it, and its kernels keep their program.
  bool function_outlives_executable = false;
};

// Byte views of a kernel's surfaces, in function parameter / return order. Each view is
// exactly the declared tensor's size in its declared dtype, channel-first.
struct IoBuffers {
  std::span<const std::span<const uint8_t>> inputs;
  std::span<const std::span<uint8_t>> outputs;
};

// One step of a profiled run: what ran, how long, and its estimated work.
struct StepProfile {
  std::string name;     // "conv 'q_proj'", "fused add+mul+silu"
  std::string op_type;  // "conv", "fused_elementwise", "input", "output"
  double ms = 0;
  double flops = 0;     // compiler::op_cost estimates (0 when unknown)
  double bytes = 0;
};

// What a compiled function holds (0 where a backend does not say).
struct ExecutableStats {
  size_t arena_bytes = 0;        // peak bytes of intermediates after the memory planner
  bool in_shared_arena = false;  // they live in CompileOptions::shared_arena
  size_t unshared_bytes = 0;     // what they would take without the planner reusing memory
  size_t constant_bytes = 0;     // constants and folded values, as held: fp32, or fp16 where only fp16 readers read them
  size_t steps = 0;              // run-time steps
  int folded_ops = 0, dead_ops = 0, merged_ops = 0, fused_ops = 0, view_ops = 0, taps = 0, fallback_ops = 0;
  int causal_softmaxes = 0;  // softmaxes whose masked triangle is skipped (cpu backend)
  // Run time, over every run so far: products that skipped a zero triangle of an operand or
  // of their result (causal attention, operands found triangular; cpu backend).
  int64_t triangle_products = 0;
  // Elements of fp16 inputs never converted to fp32: padding nothing reads, and operands
  // GEMMs and elementwise groups read straight from the fp16 bytes.
  int64_t unconverted_input_elements = 0;
};

// A compiled function. run() is not re-entrant: one call at a time per Executable.
class Executable {
 public:
  virtual ~Executable() = default;
  virtual Status run(const IoBuffers& io) = 0;
  // run() with every step timed into `steps` (cleared first). Backends without steps
  // report the whole run as one.
  virtual Status profile(const IoBuffers& io, std::vector<StepProfile>& steps) {
    steps.clear();
    Timer t;
    Status st = run(io);
    steps.push_back({"run", "run", t.ms(), 0, 0});
    return st;
  }
  virtual ExecutableStats stats() const { return {}; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  virtual bool supports_op(const mil::Op& op) const = 0;
  // `fn` must be verified. The Executable copies what it needs: `fn` may die afterwards.
  virtual Expected<std::unique_ptr<Executable>> compile(const mil::Function& fn, const CompileOptions& options) = 0;
};

}  // namespace ane
