// Engine: compiles MIL into Kernels, the runtime model of the original's ane_compile. It
// owns the compile counter and its budget (the original's g_compile_count/MAX_COMPILES,
// which were globals): once `compile_budget` kernels have been compiled, compile() returns
// ErrorCode::kBudgetExceeded, on which the trainer checkpoints and restarts (or calls
// reset_compile_count()). Failed compiles do not count.
//
// Compile pipeline: parse -> verify -> resolve weights -> check declared surface sizes
// against the function's types -> backend compile -> Kernel with fresh surfaces.
// compile() copies everything it needs: the caller may free the text and weights after.
// An Engine may be used from several threads at once; it must outlive nothing (Kernels do
// not refer back to it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/backend.h"
#include "core/status.h"
#include "mil/ir.h"
#include "mil/weights.h"
#include "runtime/kernel.h"

namespace ane {

// Weight files by the path MIL refers to them with ("@model_path/weights/wq.bin") -> views
// of the files' bytes (the caller's; compile copies what it needs).
using WeightMap = mil::WeightMap;

struct EngineOptions {
  std::string backend = "cpu";             // "cpu": fast fp32 (backends/cpu); "ref": float64 reference
  Precision precision = Precision::kFp32;  // passed to the backend (ref always computes ideal math)
  int threads = 0;                         // 0: physical cores
  int compile_budget = 100;                // compiles allowed (the original's MAX_COMPILES); 0 = unlimited
};

class Engine {
 public:
  // Fails for an unknown or unavailable backend, or a negative budget.
  static Expected<std::unique_ptr<Engine>> create(EngineOptions options = {});

  // Compiles function `function` of the MIL text. input_sizes[i] / output_sizes[j] are the
  // byte sizes the caller expects for parameter i / output j (the original's surface
  // sizes); each must equal the declared tensor's size. `options` overrides the engine's
  // precision and threads for this kernel only (nullopt: the EngineOptions'); negative
  // threads are an error.
  Expected<std::unique_ptr<Kernel>> compile(std::string_view mil_text, const WeightMap& weights,
                                            std::span<const size_t> input_sizes,
                                            std::span<const size_t> output_sizes,
                                            std::string_view function = "main",
                                            std::optional<CompileOptions> options = std::nullopt);

  // The same from an already-built program (e.g. from the Builder), which it consumes.
  Expected<std::unique_ptr<Kernel>> compile_program(std::unique_ptr<mil::Program> program, const WeightMap& weights,
                                                    std::span<const size_t> input_sizes,
                                                    std::span<const size_t> output_sizes,
                                                    std::string_view function = "main",
                                                    std::optional<CompileOptions> options = std::nullopt);

  int compile_count() const;
  void reset_compile_count();
  // What a compile without its own options uses: the EngineOptions' precision and threads,
  // on the engine's pool.
  CompileOptions default_compile_options() const { return {options_.precision, options_.threads, pool_}; }
  const EngineOptions& options() const { return options_; }
  // The engine's threads (EngineOptions::threads of them), which every kernel compiled with
  // that many threads runs on: CPU work between kernels run on the same pool finds its
  // threads warm.
  const std::shared_ptr<ThreadPool>& thread_pool() const { return pool_; }

 private:
  Engine(EngineOptions options, std::unique_ptr<Backend> backend);

  // Takes one compile from the budget (kBudgetExceeded when spent) / gives it back.
  Status reserve_compile();
  void release_compile();

  Expected<std::unique_ptr<Kernel>> build_kernel(std::unique_ptr<mil::Program> program, const WeightMap& weights,
                                                 std::span<const size_t> input_sizes,
                                                 std::span<const size_t> output_sizes, std::string_view function,
                                                 const std::optional<CompileOptions>& options);

  EngineOptions options_;
  std::unique_ptr<Backend> backend_;
  std::shared_ptr<ThreadPool> pool_;
  mutable std::mutex mu_;  // guards count_
  int count_ = 0;
};

// Checks the declared byte sizes of a function's inputs and outputs against its types,
// reporting every mismatch in one error.
Status check_io_sizes(const mil::Function& fn, std::span<const size_t> input_sizes,
                      std::span<const size_t> output_sizes);

}  // namespace ane
