// A generated kernel: its MIL program, the weight files it refers to, its surface types and
// where streamed weights sit in its input. compile_kernel() turns it into a runtime Kernel;
// the pack/read helpers move fp32 data in and out of the fp16 channel-first surfaces.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "mil/ir.h"
#include "models/weights.h"
#include "runtime/engine.h"

namespace ane::models {

// One streamed weight: kernel input `input` (after the activation inputs), fp16 W as stored
// ([1, rows, 1, cols] for W [rows, cols] row-major; [1, n, 1, 1] for a norm scale). The
// kernel applies W or W^T itself, so one fp16 copy of a weight serves the forward and the
// backward kernels (the trainer binds the same surface to both).
struct StreamedWeight {
  WeightId id = WeightId::kWq;
  mil::TensorType type;
  size_t input = 0;
};
// The surface type of streamed weight `id` of a model.
mil::TensorType streamed_weight_type(const ModelConfig& config, WeightId id);

// A kernel's surfaces as its callers see them after compiling: input 0 (activations; a
// backward kernel's further activation inputs are other kernels' outputs, layer_kernels.h)
// and output 0, their columns, and the streamed weight inputs.
struct KernelLayout {
  std::string name;
  mil::TensorType input, output;
  int64_t seq = 0;
  std::vector<StreamedWeight> streamed;
};

struct KernelProgram {
  std::string name;                        // "attention_forward", ...
  std::unique_ptr<mil::Program> program;   // verified
  // MIL path ("@model_path/weights/x.bin") -> file bytes (the mask blob is shared).
  std::map<std::string, std::shared_ptr<const std::vector<uint8_t>>> weight_files;
  std::vector<mil::TensorType> inputs;     // activations fp16 [1, C, 1, seq], then the streamed weights
                                           // (matmul_kernel's differ: fp32 W, then x)
  std::vector<mil::TensorType> outputs;    // fp16 [1, C_out, 1, seq]
  int64_t seq = 0;                         // activation columns
  std::vector<StreamedWeight> streamed;    // empty for baked kernels

  WeightMap weight_map() const;            // views of weight_files
  std::string text() const;                // the printed MIL
  KernelLayout layout() const;             // what callers keep once the program is compiled
};

// Compiles `kernel` (its program is consumed) with surface sizes from its types and the
// engine's precision and threads; with `shared_arena`, its intermediates live there and its
// runs take turns with the other kernels' that share it (CompileOptions::shared_arena).
Expected<std::unique_ptr<Kernel>> compile_kernel(Engine& engine, KernelProgram&& kernel,
                                                 std::shared_ptr<SharedArena> shared_arena = nullptr);

// An fp16 surface's values.
std::span<half_bits> halves_of(Surface& s);
std::span<const half_bits> halves_of(const Surface& s);

// Converts fp32 weight `w` into `surface` (fp16, of streamed_weight_type's size). With a pool
// the conversion runs in parallel.
Status write_weight(std::span<half_bits> surface, std::span<const float> w, ThreadPool* pool = nullptr);
// Writes every streamed weight of `kernel` (compiled from a program with `layout`) into its own
// weight input surfaces. Errors name a missing or mis-sized weight. (The trainer instead binds
// one surface per weight and layer, shared by the kernels that read it.)
Status write_streamed_weights(const KernelLayout& layout, const WeightViews& weights, Kernel& kernel,
                              ThreadPool* pool = nullptr);

// Writes data [channels, seq] (fp32, channel-first) into surface [1, C, 1, width] at channel
// offset `channel`, columns [0, seq). With a pool, large blocks convert in parallel (also below).
Status write_channels(std::span<half_bits> surface, const mil::TensorType& type, int64_t channel,
                      std::span<const float> data, int64_t seq, ThreadPool* pool = nullptr);
// Reads channels [channel, channel + out.size() / seq) of surface [1, C, 1, width], columns
// [0, seq), into out [channels, seq].
Status read_channels(std::span<const half_bits> surface, const mil::TensorType& type, int64_t channel,
                     std::span<float> out, int64_t seq, ThreadPool* pool = nullptr);

// Channels [channel, channel + channels) x columns [0, seq) of surface [1, C, 1, width],
// where they are: the first row's values and the distance between rows (width), for readers
// that take fp16 rows in place (the trainer's weight-gradient GEMMs).
struct ChannelRows {
  const half_bits* data;
  int64_t row_stride;
};
Expected<ChannelRows> channel_rows(std::span<const half_bits> surface, const mil::TensorType& type, int64_t channel,
                                   int64_t channels, int64_t seq);

}  // namespace ane::models
