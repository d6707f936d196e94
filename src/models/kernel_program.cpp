#include "models/kernel_program.h"

#include <algorithm>
#include <string>

#include "mil/printer.h"

namespace ane::models {
namespace {

// [1, C, 1, width] -> {C, width}; an error for other shapes.
Expected<std::pair<int64_t, int64_t>> planes(const mil::TensorType& type) {
  if (type.rank() != 4 || type.shape[0] != 1 || type.shape[2] != 1 || type.dtype != mil::DType::kFp16) {
    return invalid_argument("surface " + type.to_string() + " is not fp16 [1, C, 1, S]");
  }
  return std::pair{type.shape[1], type.shape[3]};
}

Status check_block(const mil::TensorType& type, size_t surface_elems, int64_t channel, int64_t channels,
                   int64_t seq, int64_t column) {
  ANE_ASSIGN_OR_RETURN(auto cw, planes(type));
  if (surface_elems != static_cast<size_t>(type.num_elements())) {
    return invalid_argument("surface holds " + std::to_string(surface_elems) + " halves, " + type.to_string() +
                            " needs " + std::to_string(type.num_elements()));
  }
  if (channel < 0 || channels < 0 || channel + channels > cw.first || column < 0 || seq < 0 ||
      column + seq > cw.second) {
    return invalid_argument("block of channels [" + std::to_string(channel) + ", " +
                            std::to_string(channel + channels) + ") x columns [" + std::to_string(column) + ", " +
                            std::to_string(column + seq) + ") is outside " + type.to_string());
  }
  return {};
}

// The channel count of `floats` values as [channels, seq], checked to fit the surface at
// `channel` (what names the caller's side in errors: "data", "buffer").
Expected<int64_t> channel_block(const mil::TensorType& type, size_t surface_elems, int64_t channel, size_t floats,
                                int64_t seq, const char* what) {
  if (seq <= 0 || floats % static_cast<size_t>(seq) != 0) {
    return invalid_argument(std::string(what) + " of " + std::to_string(floats) + " floats is not [channels, " +
                            std::to_string(seq) + "]");
  }
  const auto channels = static_cast<int64_t>(floats) / seq;
  ANE_RETURN_IF_ERROR(check_block(type, surface_elems, channel, channels, seq, 0));
  return channels;
}

// fn(c) for every channel c < channels (of `seq` values each), in parallel over `pool` when
// the block is large enough to pay for it.
template <typename Fn>
void for_channels(int64_t channels, int64_t seq, ThreadPool* pool, Fn&& fn) {
  constexpr int64_t kParallelValues = int64_t{1} << 16;
  parallel_for(channels * seq < kParallelValues ? nullptr : pool, static_cast<size_t>(channels), 1,
               [&](size_t b, size_t e) {
                 for (size_t c = b; c < e; ++c) fn(static_cast<int64_t>(c));
               });
}

}  // namespace

WeightMap KernelProgram::weight_map() const {
  WeightMap map;
  for (const auto& [path, bytes] : weight_files) map[path] = std::span<const uint8_t>(*bytes);
  return map;
}

KernelLayout KernelProgram::layout() const {
  return {name, inputs.empty() ? mil::TensorType{} : inputs[0], outputs.empty() ? mil::TensorType{} : outputs[0], seq,
          streamed};
}

std::string KernelProgram::text() const { return program ? mil::print_program(*program) : std::string(); }

Expected<std::unique_ptr<Kernel>> compile_kernel(Engine& engine, KernelProgram&& kernel,
                                                 std::shared_ptr<SharedArena> shared_arena) {
  if (!kernel.program) return invalid_argument("kernel '" + kernel.name + "' has no program");
  std::vector<size_t> in, out;
  for (const auto& t : kernel.inputs) in.push_back(t.num_bytes());
  for (const auto& t : kernel.outputs) out.push_back(t.num_bytes());
  const WeightMap weights = kernel.weight_map();
  CompileOptions options = engine.default_compile_options();
  options.shared_arena = std::move(shared_arena);
  auto k = engine.compile_program(std::move(kernel.program), weights, in, out, "main", options);
  if (!k.ok()) return k.error().with_context("compiling kernel '" + kernel.name + "'");
  return k;
}

Status write_channels(std::span<half_bits> surface, const mil::TensorType& type, int64_t channel,
                      std::span<const float> data, int64_t seq, ThreadPool* pool) {
  ANE_ASSIGN_OR_RETURN(const int64_t channels, channel_block(type, surface.size(), channel, data.size(), seq, "data"));
  const int64_t width = type.shape[3];
  for_channels(channels, seq, pool, [&](int64_t c) {
    floats_to_halves(&surface[static_cast<size_t>((channel + c) * width)], &data[static_cast<size_t>(c * seq)],
                     static_cast<size_t>(seq));
  });
  return {};
}

Status read_channels(std::span<const half_bits> surface, const mil::TensorType& type, int64_t channel,
                     std::span<float> out, int64_t seq, ThreadPool* pool) {
  ANE_ASSIGN_OR_RETURN(const int64_t channels, channel_block(type, surface.size(), channel, out.size(), seq, "buffer"));
  const int64_t width = type.shape[3];
  for_channels(channels, seq, pool, [&](int64_t c) {
    halves_to_floats(&out[static_cast<size_t>(c * seq)], &surface[static_cast<size_t>((channel + c) * width)],
                     static_cast<size_t>(seq));
  });
  return {};
}

Expected<ChannelRows> channel_rows(std::span<const half_bits> surface, const mil::TensorType& type, int64_t channel,
                                   int64_t channels, int64_t seq) {
  ANE_RETURN_IF_ERROR(check_block(type, surface.size(), channel, channels, seq, 0));
  const int64_t width = type.shape[3];
  return ChannelRows{surface.data() + channel * width, width};
}

mil::TensorType streamed_weight_type(const ModelConfig& config, WeightId id) {
  const WeightShape w = weight_shape(config, id);
  return mil::TensorType{mil::DType::kFp16, {1, w.rows, 1, w.cols}};
}

std::span<half_bits> halves_of(Surface& s) {
  return {reinterpret_cast<half_bits*>(s.data()), s.size() / sizeof(half_bits)};
}

std::span<const half_bits> halves_of(const Surface& s) {
  return {reinterpret_cast<const half_bits*>(s.data()), s.size() / sizeof(half_bits)};
}

Status write_weight(std::span<half_bits> surface, std::span<const float> w, ThreadPool* pool) {
  if (surface.size() != w.size()) {
    return invalid_argument("weight of " + std::to_string(w.size()) + " floats for a surface of " +
                            std::to_string(surface.size()) + " halves");
  }
  constexpr int64_t kRow = 4096;  // converted in runs of this many values
  const auto n = static_cast<int64_t>(w.size());
  for_channels((n + kRow - 1) / kRow, kRow, pool, [&](int64_t r) {
    const int64_t begin = r * kRow;
    floats_to_halves(&surface[static_cast<size_t>(begin)], &w[static_cast<size_t>(begin)],
                     static_cast<size_t>(std::min(kRow, n - begin)));
  });
  return {};
}

Status write_streamed_weights(const KernelLayout& layout, const WeightViews& weights, Kernel& kernel,
                              ThreadPool* pool) {
  for (const StreamedWeight& s : layout.streamed) {
    std::shared_ptr<Surface> surface = kernel.input(s.input);
    if (surface == nullptr) return invalid_argument("kernel '" + layout.name + "' has no input " + std::to_string(s.input));
    if (Status st = write_weight(halves_of(*surface), weights.get(s.id), pool); !st.ok()) {
      return st.error().with_context("kernel '" + layout.name + "': weight " + std::string(weight_name(s.id)));
    }
  }
  return {};
}

}  // namespace ane::models
