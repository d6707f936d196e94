#include "models/weights.h"

#include <string>

namespace ane::models {

std::string_view weight_name(WeightId id) {
  switch (id) {
    case WeightId::kRmsAtt: return "rms_att";
    case WeightId::kWq: return "wq";
    case WeightId::kWk: return "wk";
    case WeightId::kWv: return "wv";
    case WeightId::kWo: return "wo";
    case WeightId::kRmsFfn: return "rms_ffn";
    case WeightId::kW1: return "w1";
    case WeightId::kW2: return "w2";
    case WeightId::kW3: return "w3";
    case WeightId::kQNorm: return "q_norm";
    case WeightId::kKNorm: return "k_norm";
    case WeightId::kRmsFinal: return "rms_final";
    case WeightId::kEmbedding: return "embedding";
  }
  return "unknown";
}

WeightShape weight_shape(const ModelConfig& c, WeightId id) {
  const auto D = static_cast<int64_t>(c.dim), H = static_cast<int64_t>(c.hidden_dim);
  const auto Q = static_cast<int64_t>(c.q_dim()), KV = static_cast<int64_t>(c.kv_dim());
  switch (id) {
    case WeightId::kRmsAtt:
    case WeightId::kRmsFfn:
    case WeightId::kRmsFinal: return {D, 1};
    case WeightId::kWq: return {Q, D};
    case WeightId::kWk:
    case WeightId::kWv: return {KV, D};
    case WeightId::kWo: return {D, Q};
    case WeightId::kW1:
    case WeightId::kW3: return {H, D};
    case WeightId::kW2: return {D, H};
    case WeightId::kQNorm:
    case WeightId::kKNorm: return {c.head_dim, 1};
    case WeightId::kEmbedding: return {c.vocab_size, D};
  }
  return {};
}

std::span<const float> WeightViews::get(WeightId id) const {
  switch (id) {
    case WeightId::kRmsAtt: return rms_att;
    case WeightId::kWq: return wq;
    case WeightId::kWk: return wk;
    case WeightId::kWv: return wv;
    case WeightId::kWo: return wo;
    case WeightId::kRmsFfn: return rms_ffn;
    case WeightId::kW1: return w1;
    case WeightId::kW2: return w2;
    case WeightId::kW3: return w3;
    case WeightId::kQNorm: return q_norm;
    case WeightId::kKNorm: return k_norm;
    case WeightId::kRmsFinal: return rms_final;
    case WeightId::kEmbedding: return embedding;
  }
  return {};
}

Status check_weight(const ModelConfig& config, const WeightViews& weights, WeightId id) {
  const auto want = static_cast<size_t>(weight_shape(config, id).elements());
  const size_t got = weights.get(id).size();
  if (got != want) {
    return invalid_argument("weight " + std::string(weight_name(id)) + ": expected " + std::to_string(want) +
                            " floats, got " + std::to_string(got));
  }
  return {};
}

}  // namespace ane::models
