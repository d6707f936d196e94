// The weights a kernel applies, and where they come from: baked into the program as MILBlob
// constants (compiled once per weight value) or streamed in the input surface's spatial
// dimension next to the activations (one compiled kernel serves every layer, and weight
// updates need no recompile).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/status.h"
#include "formats/model_config.h"

namespace ane::models {

enum class WeightSource : uint8_t {
  kBaked,     // BLOBFILE consts in "@model_path/weights/<kernel>.bin"
  kStreamed,  // columns [seq, seq + streamed_columns) of the packed input
};

// Every weight tensor a kernel may use. Matrices are [out, in] row-major fp32.
enum class WeightId : uint8_t {
  kRmsAtt,     // [D]
  kWq,         // [q_dim, D]
  kWk,         // [kv_dim, D]
  kWv,         // [kv_dim, D]
  kWo,         // [D, q_dim]
  kRmsFfn,     // [D]
  kW1,         // [H, D]
  kW2,         // [D, H]
  kW3,         // [H, D]
  kQNorm,      // [head_dim] (qk_norm)
  kKNorm,      // [head_dim] (qk_norm)
  kRmsFinal,   // [D]
  kEmbedding,  // [V, D] (also the shared classifier)
};

std::string_view weight_name(WeightId id);  // "wq", "rms_att", ...

// The natural shape of a weight: [rows, cols] = [out, in] for matrices, [n, 1] for norm scales.
struct WeightShape {
  int64_t rows = 0;
  int64_t cols = 0;
  bool is_vector() const { return cols == 1; }
  int64_t elements() const { return rows * cols; }
};
WeightShape weight_shape(const ModelConfig& config, WeightId id);

// Views of fp32 weights owned by the caller; a kernel reads only those it uses (the others
// may stay empty). Shapes as in WeightId.
struct WeightViews {
  std::span<const float> rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, q_norm, k_norm;
  std::span<const float> rms_final, embedding;

  std::span<const float> get(WeightId id) const;
};

// Checks that weight `id` is present with the size `config` implies.
Status check_weight(const ModelConfig& config, const WeightViews& weights, WeightId id);

}  // namespace ane::models
