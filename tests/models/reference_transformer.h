// A plain float64 llama2/Qwen3 transformer: forward, backward and AdamW written directly from
// the math, sharing no code with src/models or src/train (the thing it checks). Activations
// are channel-first [C, S] (element c * S + s); matrices [out, in] row-major.
#pragma once

#include <cstdint>
#include <vector>

#include "formats/model_config.h"

namespace ane::reference {

using Vec = std::vector<double>;

struct Layer {
  Vec rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, q_norm, k_norm;
  std::vector<Vec*> params();  // every tensor, in the order above (q/k norms only when non-empty)
};

struct Model {
  ModelConfig config;
  Vec embedding, rms_final;  // [V, D], [D]
  std::vector<Layer> layers;
  Vec classifier;  // [V, D]; empty: tied to the embedding
  double residual_scale = 1.0;  // x + residual_scale * branch(x) in every layer
  const Vec& output_weights() const { return classifier.empty() ? embedding : classifier; }
  std::vector<Vec*> params();  // classifier last, when present
};

// Random weights: matrices ~ N(0, scale^2), norm scales ~ 1 + N(0, 0.1^2).
Layer random_layer(const ModelConfig& c, uint64_t seed, double scale = 0.1);
Model random_model(const ModelConfig& c, uint64_t seed);
// A zero-filled layer with the shapes of c.
Layer zero_layer(const ModelConfig& c);

// Everything the attention forward computes, [C, S] each; probs [heads][S(t)][S(s)].
struct AttentionActs {
  Vec xnorm, q_raw, k_raw, q, k, v, probs, attn, o;
};
struct FfnActs {
  Vec xnorm, h1, h3, gated, out;
};
struct LayerActs {
  Vec x, x2, out;
  AttentionActs att;
  FfnActs ffn;
};

Vec matvec(const Vec& w, const Vec& x, int64_t out, int64_t in, int64_t S);  // W x
Vec rmsnorm(const Vec& x, const Vec& w, int64_t n, int64_t S, double eps);
AttentionActs attention_forward(const ModelConfig& c, const Layer& l, const Vec& x);
FfnActs ffn_forward(const ModelConfig& c, const Layer& l, const Vec& x2);
// x2 = x + a * attention(x), out = x2 + a * ffn(x2), a = residual_scale.
LayerActs layer_forward(const ModelConfig& c, const Layer& l, const Vec& x, double residual_scale = 1.0);

// Gradients of one layer given dout (gradient at the layer's output).
struct LayerGrads {
  Vec dx;
  Layer dw;
};
LayerGrads layer_backward(const ModelConfig& c, const Layer& l, const LayerActs& a, const Vec& dout,
                          double residual_scale = 1.0);

// The attention-core backward pieces, for checking the split kernels one by one.
// dq, dk are at q, k before RoPE (after the q/k norm).
struct SdpaGrads {
  Vec dattn, dv, dP, dq, dk;
};
SdpaGrads sdpa_backward(const ModelConfig& c, const Layer& l, const AttentionActs& a, const Vec& dx2);
// dx of y = rmsnorm(x) * w over n channels; adds dw.
Vec rmsnorm_backward(const Vec& dy, const Vec& x, const Vec& w, int64_t n, int64_t S, double eps, Vec& dw);

// Whole-model mean cross-entropy over positions and its gradients.
struct ModelResult {
  double loss = 0;
  Vec logits;  // [V, S]
};
ModelResult model_forward(const Model& m, const std::vector<int>& tokens, const std::vector<int>& targets);
struct ModelGrads {
  double loss = 0;
  Vec embedding, rms_final;
  std::vector<Layer> layers;
  Vec classifier;  // empty when tied
};
ModelGrads model_backward(const Model& m, const std::vector<int>& tokens, const std::vector<int>& targets);

// One AdamW step with bias correction (t starts at 1) and decoupled weight decay.
void adamw(Vec& w, const Vec& g, Vec& m, Vec& v, int t, double lr, double b1, double b2, double eps, double wd);

}  // namespace ane::reference
