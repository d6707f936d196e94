// Shared sub-graphs of the transformer kernels, each a function of a Builder (or of the
// KernelBuilder, which adds weights from either source). Tensors are fp16; activations are
// [1, C, 1, S] channel-first, per-head views [1, heads, head_dim, S].
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "formats/weight_blob.h"
#include "mil/builder.h"
#include "models/kernel_program.h"
#include "models/weights.h"

namespace ane::models {

using mil::Value;

// A weight the kernel applies: A = W, or W^T when `transposed`.
struct WeightUse {
  WeightId id;
  bool transposed = false;
};

// An activation input of a kernel: [1, channels, 1, seq] fp16.
struct ActivationInput {
  std::string name;
  int64_t channels;
};

// Builds one kernel: declares its activation inputs, places its weights (blob chunks, or one
// input per streamed weight, after the activation inputs) and collects the output taps.
class KernelBuilder {
 public:
  // `baked` must hold every used weight when source is kBaked (checked; errors surface in finish()).
  KernelBuilder(std::string name, const ModelConfig& config, WeightSource source, const WeightViews* baked,
                const std::vector<WeightUse>& uses, const std::vector<ActivationInput>& inputs);

  mil::Builder& b() { return b_; }
  const ModelConfig& config() const { return config_; }
  int64_t seq() const { return seq_; }

  // Channels [channel, channel + channels) of activation input `input`: [1, channels, 1, S].
  Value* activation(int64_t channel, int64_t channels, size_t input = 0);
  // y = A x for a declared use: x [1, in, 1, S] -> [1, out, 1, S].
  Value* linear(WeightUse use, Value* x);
  // A norm scale as [1, n, 1, 1].
  Value* scale(WeightId id);
  // A baked fp16 constant of `type` from a whole (shared) one-blob file.
  Value* const_file(const std::string& name, mil::TensorType type, std::shared_ptr<const std::vector<uint8_t>> bytes);

  // Concatenates the taps on channels into the one output (one tap is output as is), or with
  // `separate` makes each tap its own output; returns the kernel.
  Expected<KernelProgram> finish(const std::vector<Value*>& taps, bool separate = false);

 private:
  struct Placed {
    WeightUse use;              // kStreamed: one entry per weight, W and W^T alike
    StreamedWeight streamed;    // kStreamed
    uint64_t blob_offset = 0;   // kBaked
    Value* input = nullptr;     // kStreamed: the weight's input
  };
  const Placed* find(WeightUse use);
  void place_streamed(const std::vector<WeightUse>& uses);
  void place_baked(const std::vector<WeightUse>& uses, const WeightViews& w);

  mil::Builder b_;
  std::string name_;
  const ModelConfig& config_;
  WeightSource source_;
  int64_t seq_ = 0;
  Status status_;
  std::vector<Placed> placed_;
  BlobWriter blob_;
  std::string blob_path_;
  std::map<std::string, std::shared_ptr<const std::vector<uint8_t>>> files_;
  std::vector<Value*> inputs_;  // the activation inputs
};

// x * rsqrt(mean(x^2 over `axis`) + eps) * w; w broadcasts against x.
Value* rmsnorm(mil::Builder& b, Value* x, Value* w, int64_t axis, double eps);
// RoPE constants (fp16): cos, sin [1, 1, head_dim, S] at positions 0..S-1 (pair i uses angle
// pos * theta^(-2i/head_dim) on channels 2i and 2i+1), sin negated on the even channels: the
// rotation R of each pair, (R x)[2i] = -x[2i+1], (R x)[2i+1] = x[2i], is swap_pairs(x) * sin
// without a matmul. Make them once per kernel.
struct RopeTables {
  Value* cos = nullptr;
  Value* sin = nullptr;
};
RopeTables rope_tables(mil::Builder& b, const ModelConfig& config);
// x4 [1, heads, head_dim, S] with channels 2i and 2i+1 of each head exchanged (split + concat).
Value* swap_pairs(mil::Builder& b, Value* x4);
// q4 [1, heads, head_dim, S] rotated as llama2.c does: q * cos + (R q) * sin. `inverse` applies
// the transpose (the backward of the rotation): g * cos - R (g * sin).
Value* rope(mil::Builder& b, Value* q4, const RopeTables& tables, bool inverse);
// [1, heads * head_dim, 1, S] <-> [1, heads, head_dim, S].
Value* split_heads(mil::Builder& b, Value* x, int64_t heads, int64_t head_dim);
Value* merge_heads(mil::Builder& b, Value* x4);
// GQA: kv [1, kv_heads, hd, S] -> [1, kv_heads * group, hd, S] (query head h uses kv head h / group).
Value* expand_kv(mil::Builder& b, Value* kv4, int64_t group);
// The adjoint of expand_kv: sums each group of query heads -> [1, kv_heads, hd, S].
Value* reduce_kv(mil::Builder& b, Value* g4, int64_t group);
// softmax(q^T k / sqrt(hd) + mask) per head: q4, k4 [1, heads, hd, S] -> probs [1, heads, S(t), S(s)].
Value* attention_probs(mil::Builder& b, Value* q4, Value* k4, Value* mask);
// SiLU(h1) * h3.
Value* swiglu(mil::Builder& b, Value* h1, Value* h3);

// The causal mask [S, S] as a one-blob fp16 file: 0 where s <= t, -65504 above the diagonal.
std::vector<uint8_t> build_causal_mask_blob(int64_t seq);

}  // namespace ane::models
