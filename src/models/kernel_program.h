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

// One streamed weight: the kernel applies A = W (or W^T when `transposed`), A [out, in]. The
// input holds a block M in channels [0, rows) and spatial columns [seq + column, seq + column
// + cols): M = A, or A^T when `stored_transposed` (whichever fits the input's channels).
// Norm scales are one column: M = w as [n, 1].
struct StreamedWeight {
  WeightId id = WeightId::kWq;
  bool transposed = false;
  bool stored_transposed = false;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t column = 0;
};

// A kernel's surfaces as its callers see them after compiling: the first input and output,
// the activation columns and where streamed weights sit.
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
  std::vector<mil::TensorType> inputs;     // fp16 [1, C, 1, seq + streamed columns] (helpers may differ)
  std::vector<mil::TensorType> outputs;    // fp16 [1, C_out, 1, seq]
  int64_t seq = 0;                         // activation columns
  std::vector<StreamedWeight> streamed;    // empty for baked kernels

  WeightMap weight_map() const;            // views of weight_files
  std::string text() const;                // the printed MIL
  KernelLayout layout() const;             // what callers keep once the program is compiled
};

// Compiles `kernel` (its program is consumed) with surface sizes from its types.
Expected<std::unique_ptr<Kernel>> compile_kernel(Engine& engine, KernelProgram&& kernel);

// Writes the streamed weights of a kernel into its input surface `input` (fp16, of type
// layout.input). Errors name a missing or mis-sized weight.
// With a pool, the rows are packed in parallel.
Status pack_streamed_weights(const KernelLayout& layout, const WeightViews& weights, std::span<half_bits> input,
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

// Copies channels [src_channel, src_channel + channels) x columns [0, seq) of one fp16
// surface into another at dst_channel, without converting (the original's io_copy).
Status copy_channels(std::span<half_bits> dst, const mil::TensorType& dst_type, int64_t dst_channel,
                     std::span<const half_bits> src, const mil::TensorType& src_type, int64_t src_channel,
                     int64_t channels, int64_t seq);

}  // namespace ane::models
