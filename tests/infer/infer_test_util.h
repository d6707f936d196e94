// Random models for the inference tests: fp32 ModelWeights and the same values in the float64
// reference transformer of tests/models, which shares no code with src/infer.
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "../models/reference_transformer.h"
#include "formats/model_weights.h"

namespace ane::infer_test {

// A small llama2-shaped config: D 32, H 48, 2 layers, 4 heads of 8, V 64, T 12.
inline ModelConfig small_config() {
  ModelConfig c;
  c.name = "infer-test";
  c.dim = 32;
  c.hidden_dim = 48;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 4;
  c.head_dim = 8;
  c.vocab_size = 64;
  c.seq_len = 12;
  return c;
}

// Matrices ~ N(0, (scale / sqrt(in))^2), the embedding and classifier ~ N(0, 1), norm
// weights ~ 1 + N(0, 0.1^2). scale ~ 1 keeps activations O(1) and logits well separated.
inline ModelWeights random_weights(const ModelConfig& c, uint64_t seed, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  ModelWeights w = *ModelWeights::zeros(c);
  for (ModelWeights::Tensor& t : w.tensors()) {
    const bool norm = t.shape.size() == 1;
    const bool table = t.name == "embedding" || t.name == "classifier";
    const double sd = norm ? 0.1 : table ? 1.0 : scale / std::sqrt(static_cast<double>(t.shape[1]));
    std::normal_distribution<double> d(norm ? 1.0 : 0.0, sd);
    for (float& x : t.data) x = static_cast<float>(d(rng));
  }
  return w;
}

inline reference::Vec to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// The same weights in the reference (float -> double is exact).
inline reference::Model to_reference(const ModelWeights& w) {
  reference::Model m;
  m.config = w.config;
  m.embedding = to_double(w.embedding);
  m.rms_final = to_double(w.rms_final);
  m.classifier = to_double(w.classifier);
  for (const LayerWeights& l : w.layers) {
    m.layers.push_back({to_double(l.rms_att), to_double(l.wq), to_double(l.wk), to_double(l.wv), to_double(l.wo),
                        to_double(l.rms_ffn), to_double(l.w1), to_double(l.w2), to_double(l.w3),
                        to_double(l.q_norm), to_double(l.k_norm)});
  }
  return m;
}

// The reference's logits [V, S] (channel-first) for `tokens`, padded to seq_len with token 0;
// causal attention keeps the padding from reaching earlier positions.
inline reference::Vec reference_logits(const reference::Model& m, std::vector<int> tokens) {
  tokens.resize(static_cast<size_t>(m.config.seq_len), 0);
  return reference::model_forward(m, tokens, tokens).logits;
}

// Column `pos` of logits [V, S].
inline std::vector<double> logits_at(const reference::Vec& logits, int vocab, int seq, int pos) {
  std::vector<double> out(static_cast<size_t>(vocab));
  for (int v = 0; v < vocab; ++v) out[static_cast<size_t>(v)] = logits[static_cast<size_t>(v * seq + pos)];
  return out;
}

}  // namespace ane::infer_test
