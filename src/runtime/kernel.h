// Kernel: one compiled MIL function with its input and output Surfaces, the runtime model
// of the original's ANEKernel. Input i is the function's i-th parameter; output j is the
// j-th name of its `-> (...)` list.
//
// Threads: distinct kernels may run concurrently from different threads, also when they
// share surfaces (run() locks each surface: inputs shared, outputs exclusive, in address
// order), unless they were compiled with one shared arena (CompileOptions::shared_arena):
// then a run waits for the other kernels' runs. One kernel is not re-entrant: a run() that
// overlaps another run() of the same kernel returns an error rather than waiting. The other
// methods wait for a run to end.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "core/status.h"
#include "runtime/surface.h"

namespace ane {

class Kernel {
 public:
  // Made by Engine::compile: takes ownership of `exe` and of the `program` it was compiled
  // from (kept for as long as `exe`, which may read its constants in place; may be null);
  // surfaces are created zero-filled, one per type. `options` records what `exe` was
  // compiled with.
  Kernel(std::string name, std::unique_ptr<Executable> exe, const std::vector<mil::TensorType>& input_types,
         const std::vector<mil::TensorType>& output_types, CompileOptions options = {},
         std::unique_ptr<const mil::Program> program = nullptr);
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  const std::string& name() const { return name_; }
  // The precision and threads this kernel was compiled with.
  const CompileOptions& compile_options() const { return options_; }
  size_t num_inputs() const { return inputs_.size(); }
  size_t num_outputs() const { return outputs_.size(); }

  // The surface bound at input / output idx (shared ownership), or nullptr when idx is out
  // of range.
  std::shared_ptr<Surface> input(size_t idx) const;
  std::shared_ptr<Surface> output(size_t idx) const;

  // Binds `surface` as input idx (e.g. another kernel's output, for chaining without
  // copies). It must have the input's dtype and byte size (its shape may differ: the bytes
  // are read as the input's type) and must not be one of this kernel's outputs. The
  // previously bound surface is released (others may still hold it).
  Status bind_input(size_t idx, std::shared_ptr<Surface> surface);
  // Binds `surface` as output idx (e.g. a per-layer buffer the caller keeps, so results need
  // no copy aside). Same checks as bind_input, and it must not be one of this kernel's inputs
  // or another of its outputs.
  Status bind_output(size_t idx, std::shared_ptr<Surface> surface);

  // Copies bytes into input idx from its start: more bytes than the surface holds is an
  // error, fewer write a prefix (the rest keeps its contents).
  Status write_input(size_t idx, std::span<const uint8_t> bytes);
  // Copies the first bytes.size() bytes of output idx out (at most the surface's size).
  Status read_output(size_t idx, std::span<uint8_t> bytes) const;

  // Runs the function on the current input contents, overwriting the outputs. Surfaces
  // keep their contents between runs. Allocates nothing.
  Status run();
  // run() with every backend step timed (for `ane mil bench`).
  Status profile(std::vector<StepProfile>& steps);
  // What the compiled plan holds (arena bytes, fused/folded ops, ...).
  ExecutableStats stats() const;

  // A surface and how a run locks it.
  struct LockEntry {
    Surface* surface;
    bool exclusive;
  };

 private:
  // Recomputes the byte views and lock order of the bound surfaces (after any binding).
  void rebind();
  // bind_input (output false) and bind_output.
  Status bind(bool output, size_t idx, std::shared_ptr<Surface> surface);
  template <typename Body>
  Status execute(Body&& body);

  Status check_index(size_t idx, size_t count, const char* what) const;

  std::string name_;
  std::unique_ptr<const mil::Program> program_;  // before exe_: destroyed after it
  std::unique_ptr<Executable> exe_;
  CompileOptions options_;
  std::vector<std::shared_ptr<Surface>> inputs_;
  std::vector<std::shared_ptr<Surface>> outputs_;
  std::vector<std::span<const uint8_t>> input_views_;
  std::vector<std::span<uint8_t>> output_views_;
  std::vector<LockEntry> lock_order_;
  std::atomic<bool> running_{false};  // set for the length of a run(): re-entry is an error
  mutable std::mutex mu_;             // held by run() and by every access to inputs_/outputs_
};

}  // namespace ane
