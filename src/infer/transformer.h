// Single-token transformer inference with a KV cache, the algorithm of llama2.c's run.c in
// fp32, extended to every ModelConfig: GQA, head_dim != dim / n_heads, Qwen3's q/k RMSNorm
// and any RoPE base.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "formats/model_weights.h"

namespace ane {

class InferenceModel {
 public:
  // Validates `weights`, which must outlive the model (it keeps a reference). threads <= 0:
  // default_thread_count(); 1 runs everything on the calling thread.
  static Expected<InferenceModel> create(const ModelWeights& weights, int threads = 1);

  const ModelConfig& config() const { return w_->config; }

  // Runs `token` at position `pos` (0 <= pos < seq_len), caching its keys and values, and
  // returns the logits [V], valid until the next call. Positions must be fed in order: the
  // attention reads the cache at 0..pos.
  Expected<std::span<const float>> forward(int token, int pos);

 private:
  explicit InferenceModel(const ModelWeights& weights, int threads);
  void attention(const LayerWeights& l, size_t layer, int pos);
  void rotate_heads(std::span<float> x, int heads, std::span<const float> norm);
  void ffn(const LayerWeights& l);
  // out[o] = sum_i w[o, i] * in[i]; w [rows, in.size()] row-major.
  void matmul(std::span<float> out, std::span<const float> w, std::span<const float> in);

  const ModelWeights* w_;
  std::unique_ptr<ThreadPool> pool_;  // null when single-threaded
  std::vector<float> x_;        // [D] residual stream
  std::vector<float> xb_;       // [D] normed input of a sub-block
  std::vector<float> q_;        // [q_dim]
  std::vector<float> attn_;     // [q_dim] attention output, heads side by side
  std::vector<float> scores_;   // [seq_len] one head's attention weights
  std::vector<float> h1_, h3_;  // [H] FFN gate and up projections
  std::vector<float> delta_;    // [D] a sub-block's output before the residual add
  std::vector<float> logits_;   // [V]
  std::vector<float> k_cache_, v_cache_;  // [n_layers, seq_len, kv_dim]
  std::vector<double> rope_freq_;  // [head_dim / 2] radians per position of each RoPE pair
  std::vector<float> rope_cos_, rope_sin_;  // [head_dim / 2] at the current position
};

}  // namespace ane
