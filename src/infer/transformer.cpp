#include "infer/transformer.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace ane {
namespace {

size_t sz(int v) { return static_cast<size_t>(v); }

// Independent partial sums so the compiler can keep them in SIMD lanes without reassociating
// a single float sum (which it may not do without -ffast-math).
float dot(const float* a, const float* b, size_t n) {
  constexpr size_t kLanes = 16;
  float part[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t j = 0; j < kLanes; ++j) part[j] += a[i + j] * b[i + j];
  float sum = 0;
  for (float p : part) sum += p;
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// out = x / rms(x) * w, over x.size() channels.
void rmsnorm(float* out, const float* x, const float* w, size_t n, double eps) {
  double ss = 0;
  for (size_t i = 0; i < n; ++i) ss += double(x[i]) * x[i];
  const auto r = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  for (size_t i = 0; i < n; ++i) out[i] = x[i] * r * w[i];
}

void softmax(float* x, size_t n) {
  const float mx = *std::max_element(x, x + n);
  float sum = 0;
  for (size_t i = 0; i < n; ++i) sum += (x[i] = std::exp(x[i] - mx));
  for (size_t i = 0; i < n; ++i) x[i] /= sum;
}

float silu(float h) { return h / (1.0f + std::exp(-h)); }

}  // namespace

InferenceModel::InferenceModel(const ModelWeights& weights, int threads) : w_(&weights) {
  const ModelConfig& c = weights.config;
  if (threads != 1) {
    pool_ = std::make_unique<ThreadPool>(threads);
    if (pool_->size() == 1) pool_.reset();
  }
  x_.resize(sz(c.dim));
  xb_.resize(sz(c.dim));
  q_.resize(c.q_dim());
  attn_.resize(c.q_dim());
  scores_.resize(sz(c.seq_len));
  h1_.resize(sz(c.hidden_dim));
  h3_.resize(sz(c.hidden_dim));
  delta_.resize(sz(c.dim));
  logits_.resize(sz(c.vocab_size));
  k_cache_.resize(sz(c.n_layers) * sz(c.seq_len) * c.kv_dim());
  v_cache_.resize(k_cache_.size());
  const size_t pairs = sz(c.head_dim / 2);
  rope_freq_.resize(pairs);
  for (size_t i = 0; i < pairs; ++i) {
    rope_freq_[i] = std::pow(c.rope_theta, -2.0 * static_cast<double>(i) / c.head_dim);
  }
  rope_cos_.resize(pairs);
  rope_sin_.resize(pairs);
}

Expected<InferenceModel> InferenceModel::create(const ModelWeights& weights, int threads) {
  ANE_RETURN_IF_ERROR(weights.validate());  // also checks head_dim is even (RoPE pairs)
  return InferenceModel(weights, threads);
}

void InferenceModel::matmul(std::span<float> out, std::span<const float> w, std::span<const float> in) {
  const size_t n = in.size();
  auto rows = [&](size_t begin, size_t end) {
    for (size_t o = begin; o < end; ++o) out[o] = dot(&w[o * n], in.data(), n);
  };
  if (pool_) {
    pool_->parallel_for(out.size(), 16, rows);
  } else {
    rows(0, out.size());
  }
}

// Optional per-head RMSNorm (qk_norm), then RoPE on each adjacent pair within each head.
void InferenceModel::rotate_heads(std::span<float> x, int heads, std::span<const float> norm) {
  const ModelConfig& c = w_->config;
  const size_t hd = sz(c.head_dim);
  for (size_t h = 0; h < sz(heads); ++h) {
    float* v = &x[h * hd];
    if (!norm.empty()) rmsnorm(v, v, norm.data(), hd, c.norm_eps);
    for (size_t i = 0; i < hd / 2; ++i) {
      const float x0 = v[2 * i], x1 = v[2 * i + 1];
      v[2 * i] = x0 * rope_cos_[i] - x1 * rope_sin_[i];
      v[2 * i + 1] = x0 * rope_sin_[i] + x1 * rope_cos_[i];
    }
  }
}

void InferenceModel::attention(const LayerWeights& l, size_t layer, int pos) {
  const ModelConfig& c = w_->config;
  const size_t D = sz(c.dim), hd = sz(c.head_dim), kv_dim = c.kv_dim(), T = sz(c.seq_len);
  const size_t now = sz(pos);
  float* k_layer = &k_cache_[layer * T * kv_dim];  // [T, kv_dim]
  float* v_layer = &v_cache_[layer * T * kv_dim];
  std::span<float> k(k_layer + now * kv_dim, kv_dim), v(v_layer + now * kv_dim, kv_dim);

  rmsnorm(xb_.data(), x_.data(), l.rms_att.data(), D, c.norm_eps);
  matmul(q_, l.wq, xb_);
  matmul(k, l.wk, xb_);
  matmul(v, l.wv, xb_);
  rotate_heads(q_, c.n_heads, l.q_norm);
  rotate_heads(k, c.n_kv_heads, l.k_norm);

  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const size_t group = sz(c.gqa_ratio());
  for (size_t h = 0; h < sz(c.n_heads); ++h) {
    const float* q = &q_[h * hd];
    const size_t kv_offset = (h / group) * hd;
    for (size_t t = 0; t <= now; ++t) scores_[t] = dot(q, k_layer + t * kv_dim + kv_offset, hd) * scale;
    softmax(scores_.data(), now + 1);
    float* out = &attn_[h * hd];
    std::fill(out, out + hd, 0.0f);
    for (size_t t = 0; t <= now; ++t) {
      const float* vt = v_layer + t * kv_dim + kv_offset;
      for (size_t d = 0; d < hd; ++d) out[d] += scores_[t] * vt[d];
    }
  }
  matmul(delta_, l.wo, attn_);
  for (size_t i = 0; i < D; ++i) x_[i] += delta_[i];
}

void InferenceModel::ffn(const LayerWeights& l) {
  const ModelConfig& c = w_->config;
  const size_t D = sz(c.dim);
  rmsnorm(xb_.data(), x_.data(), l.rms_ffn.data(), D, c.norm_eps);
  matmul(h1_, l.w1, xb_);
  matmul(h3_, l.w3, xb_);
  for (size_t i = 0; i < h1_.size(); ++i) h1_[i] = silu(h1_[i]) * h3_[i];
  matmul(delta_, l.w2, h1_);
  for (size_t i = 0; i < D; ++i) x_[i] += delta_[i];
}

Expected<std::span<const float>> InferenceModel::forward(int token, int pos) {
  const ModelConfig& c = w_->config;
  if (token < 0 || token >= c.vocab_size) {
    return Error(ErrorCode::kOutOfRange,
                 "token " + std::to_string(token) + " is outside the vocabulary [0, " + std::to_string(c.vocab_size) + ")");
  }
  if (pos < 0 || pos >= c.seq_len) {
    return Error(ErrorCode::kOutOfRange,
                 "position " + std::to_string(pos) + " is outside the context [0, " + std::to_string(c.seq_len) + ")");
  }
  const size_t D = sz(c.dim);
  std::copy_n(&w_->embedding[sz(token) * D], D, x_.begin());
  for (size_t i = 0; i < rope_freq_.size(); ++i) {
    const double angle = pos * rope_freq_[i];
    rope_cos_[i] = static_cast<float>(std::cos(angle));
    rope_sin_[i] = static_cast<float>(std::sin(angle));
  }
  for (size_t layer = 0; layer < w_->layers.size(); ++layer) {
    attention(w_->layers[layer], layer, pos);
    ffn(w_->layers[layer]);
  }
  rmsnorm(xb_.data(), x_.data(), w_->rms_final.data(), D, c.norm_eps);
  matmul(logits_, w_->output_weights(), xb_);
  return std::span<const float>(logits_);
}

}  // namespace ane
