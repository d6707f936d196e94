// The fused per-layer transformer kernels of the original (stories_mil.h), its composable
// helpers (ane_mil_gen.h, ane_rmsnorm_bwd.h, ane_classifier.h), grouped-query attention,
// RoPE and Qwen3's per-head q/k RMSNorm, all built with the typed Builder.
//
// Every kernel takes fp16 activation inputs [1, C_in, 1, S] and returns one fp16 output
// [1, C_out, 1, S] (channel-first; S = config.seq_len). Input 0 is written by the caller; the
// backward kernels' input 1 (and sdpa_backward2's input 0) is another kernel's output taken
// whole, so the trainer binds that surface instead of copying parts of it. With WeightSource::kStreamed each
// weight it reads is a further fp16 input (KernelProgram::streamed lists them; bind a surface
// per layer, or write them with write_streamed_weights), so one compiled kernel serves every
// layer; with kBaked the weights are MILBlob constants taken from `baked` at generation time.
//
// Shapes: D = dim, H = hidden_dim, Q = q_dim (n_heads * head_dim), KV = kv_dim, SC = n_heads * S
// (the seed's SCORE_CH), V = vocab_size. Channel offsets of every input and output are listed
// in docs/kernels.md.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/status.h"
#include "formats/model_config.h"
#include "models/kernel_program.h"
#include "models/weights.h"

namespace ane::models {

class KernelBuilder;

// Channel offsets in the forward kernels' outputs (their taps) and in sdpa_backward1's, which
// the backward kernels read whole and the trainer reads in place.
struct AttentionTaps {
  int64_t o, q, k, v, attn, xnorm, q_raw, k_raw;  // q_raw, k_raw only with qk_norm
  int64_t channels;
};
AttentionTaps attention_taps(const ModelConfig& config);
struct FfnTaps {
  int64_t out, h1, h3, gated, xnorm, channels;
};
FfnTaps ffn_taps(const ModelConfig& config);
struct Sdpa1Outputs {
  int64_t dv, probs, dp, channels;
};
Sdpa1Outputs sdpa_backward1_outputs(const ModelConfig& config);

// One generator per model shape. It caches the causal-mask blob (built on first use), so it
// is not thread-safe; the programs it returns own (shares of) everything they refer to.
class KernelGenerator {
 public:
  explicit KernelGenerator(ModelConfig config) : config_(std::move(config)) {}
  const ModelConfig& config() const { return config_; }

  // --- the six fused layer kernels (stories_mil.h) --------------------------------------
  // in x [D] -> concat(o_out [D], Q [Q], K [KV], V [KV], attn_out [Q], xnorm [D]), plus
  // q_raw [Q], k_raw [KV] (the projections before the per-head norm) when config.qk_norm.
  // Q and K are after qk-norm and RoPE. Weights: rms_att, wq, wk, wv, wo (, q_norm, k_norm).
  Expected<KernelProgram> attention_forward(WeightSource source, const WeightViews* baked = nullptr);
  // in x2 [D] -> concat(ffn_out [D], h1 [H], h3 [H], silu_out [H], x2norm [D]).
  // Weights: rms_ffn, w1, w3, w2.
  Expected<KernelProgram> ffn_forward(WeightSource source, const WeightViews* baked = nullptr);
  // in dffn [D], ffn_forward's output (h1, h3) -> concat(dx [D], dh1 [H], dh3 [H]); dx is the
  // gradient at x2norm. Weights: w2^T, w1^T, w3^T.
  Expected<KernelProgram> ffn_backward(WeightSource source, const WeightViews* baked = nullptr);
  // in concat(dq [Q], dk [KV]), sdpa_backward1's output (dV) -> dx [D] (at xnorm).
  // Weights: wq^T, wk^T, wv^T.
  Expected<KernelProgram> qkv_backward(WeightSource source, const WeightViews* baked = nullptr);
  // in dx2 [D], attention_forward's output (Q, K, V) -> concat(dV [KV], probs [SC], dP [SC]);
  // probs and dP are [n_heads, S(t), S(s)] flattened to [SC, S]. Weights: wo^T.
  Expected<KernelProgram> sdpa_backward1(WeightSource source, const WeightViews* baked = nullptr);
  // in sdpa_backward1's output (probs, dP), attention_forward's output (Q, K) ->
  // concat(dq [Q], dk [KV]): gradients at q and k before RoPE (after the per-head norm when
  // qk_norm). No weights.
  Expected<KernelProgram> sdpa_backward2();

  // --- helpers (ane_rmsnorm_bwd.h, ane_classifier.h) ------------------------------------
  // in concat(dy [D], x [D]) -> dx [D] of y = rmsnorm(x) * w, w = `norm` (dw stays on the CPU).
  Expected<KernelProgram> rmsnorm_backward(WeightId norm, WeightSource source, const WeightViews* baked = nullptr);
  // in x [D] -> rmsnorm(x) * rms_final [D].
  Expected<KernelProgram> final_rmsnorm(WeightSource source, const WeightViews* baked = nullptr);
  // in x [D] -> logits [V] = embedding x (a V-output 1x1 conv when baked).
  Expected<KernelProgram> classifier_forward(WeightSource source, const WeightViews* baked = nullptr);
  // in dlogits [V] -> dx [D] = embedding^T dlogits (a matmul when V is large).
  Expected<KernelProgram> classifier_backward(WeightSource source, const WeightViews* baked = nullptr);
  // in logits [V] -> softmax over the V channels [V].
  Expected<KernelProgram> softmax_vocab();
  // Fused QKV (one multi-chunk blob when baked): in x [D] -> three outputs q [Q], k [KV], v [KV].
  Expected<KernelProgram> qkv_projection(WeightSource source, const WeightViews* baked = nullptr);
  // Fused FFN up-projection: in x [D] -> two outputs h1 [H], h3 [H].
  Expected<KernelProgram> ffn_up(WeightSource source, const WeightViews* baked = nullptr);

  // The causal mask blob [S, S] fp16 (0 on and below the diagonal, -65504 above), built once.
  std::shared_ptr<const std::vector<uint8_t>> mask_blob();

 private:
  mil::Value* mask(KernelBuilder& kb);

  ModelConfig config_;
  std::shared_ptr<const std::vector<uint8_t>> mask_;
};

// y = W x with both as runtime inputs, fp32 I/O cast to fp16 inside (mil_gen_matmul):
// inputs W [1, 1, out, in] fp32 and x [1, in, 1, S] fp32 -> y [1, out, 1, S] fp32.
Expected<KernelProgram> matmul_kernel(int64_t in_channels, int64_t out_channels, int64_t seq);
// y = W x with W [out, in] fp32 baked as an fp16 blob (mil_gen_conv): x [1, in, 1, S] fp16 ->
// y [1, out, 1, S] fp16.
Expected<KernelProgram> conv_kernel(std::span<const float> w, int64_t in_channels, int64_t out_channels,
                                    int64_t seq);

}  // namespace ane::models
