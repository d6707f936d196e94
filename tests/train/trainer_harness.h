// Shared by the trainer tests: a random reference model and the same weights as
// ModelWeights, random training windows, and an engine.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "../models/reference_transformer.h"
#include "core/fp16.h"
#include "formats/model_weights.h"
#include "runtime/engine.h"

namespace ane::train {

// A reference model with fp16-representable weights, and the same weights as ModelWeights.
struct Pair {
  reference::Model ref;
  ModelWeights w;
};
inline Pair random_pair(const ModelConfig& c, uint64_t seed) {
  Pair p{reference::random_model(c, seed), {}};
  for (reference::Vec* t : p.ref.params())
    for (double& x : *t) x = round_to_half(static_cast<float>(x));
  p.w = ModelWeights::zeros(c).value();
  auto f = [](const reference::Vec& v) { return std::vector<float>(v.begin(), v.end()); };
  p.w.embedding = f(p.ref.embedding);
  p.w.rms_final = f(p.ref.rms_final);
  for (size_t l = 0; l < p.w.layers.size(); ++l) {
    const reference::Layer& r = p.ref.layers[l];
    p.w.layers[l] = {f(r.rms_att), f(r.wq), f(r.wk), f(r.wv), f(r.wo), f(r.rms_ffn),
                     f(r.w1), f(r.w2), f(r.w3), f(r.q_norm), f(r.k_norm)};
  }
  return p;
}

inline std::vector<std::vector<uint16_t>> random_windows(const ModelConfig& c, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<uint16_t>> ws(static_cast<size_t>(n), std::vector<uint16_t>(static_cast<size_t>(c.seq_len + 1)));
  for (auto& w : ws)
    for (auto& t : w) t = static_cast<uint16_t>(rng() % static_cast<uint64_t>(c.vocab_size));
  return ws;
}

inline std::unique_ptr<Engine> engine(int budget = 0) {
  return Engine::create(EngineOptions{.threads = 2, .compile_budget = budget}).value();
}

}  // namespace ane::train
