// The backend interface: a backend says which ops it supports, compiles a verified MIL
// function (weights resolved, every value typed) into an Executable, and runs it on raw
// surface memory. The reference backend (ref/) is plain float64 loops; the fast CPU
// backend (cpu/) comes later behind the same interface.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "core/status.h"
#include "mil/ir.h"

namespace ane {

enum class Precision : uint8_t {
  kFp32,  // surfaces as declared, fp32 (or better) inside
  kFp16,  // every op's result rounded to fp16, as the ANE's datapath would
};

struct CompileOptions {
  Precision precision = Precision::kFp32;
  int threads = 0;  // 0: default (physical cores)
};

// Byte views of a kernel's surfaces, in function parameter / return order. Each view is
// exactly the declared tensor's size in its declared dtype, channel-first.
struct IoBuffers {
  std::span<const std::span<const uint8_t>> inputs;
  std::span<const std::span<uint8_t>> outputs;
};

// A compiled function. run() is not re-entrant: one call at a time per Executable.
class Executable {
 public:
  virtual ~Executable() = default;
  virtual Status run(const IoBuffers& io) = 0;
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
