#include "train/cpu_ops.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backends/cpu/blas.h"
#include "backends/cpu/kernels.h"

namespace ane::train {
namespace {

size_t z(int v) { return static_cast<size_t>(v); }

// r[s] = rsqrt(mean_c x[c, s]^2 + eps), accumulated row by row (contiguous, vectorisable).
std::vector<float> inv_rms(std::span<const float> x, int d, int S, float eps) {
  std::vector<float> ss(z(S), 0.0f);
  for (int c = 0; c < d; ++c) {
    const float* row = &x[z(c) * z(S)];
    for (int s = 0; s < S; ++s) ss[z(s)] += row[s] * row[s];
  }
  for (float& v : ss) v = 1.0f / std::sqrt(v / static_cast<float>(d) + eps);
  return ss;
}

}  // namespace

void rmsnorm(std::span<float> out, std::span<const float> x, std::span<const float> w, int d, int S, float eps) {
  const std::vector<float> r = inv_rms(x, d, S, eps);
  for (int c = 0; c < d; ++c) {
    const float* xr = &x[z(c) * z(S)];
    float* o = &out[z(c) * z(S)];
    for (int s = 0; s < S; ++s) o[s] = xr[s] * r[z(s)] * w[z(c)];
  }
}

void rmsnorm_backward(std::span<float> dx, std::span<float> dw, std::span<const float> dy, std::span<const float> x,
                      std::span<const float> w, int d, int S, float eps) {
  const std::vector<float> r = inv_rms(x, d, S, eps);
  std::vector<float> dot(z(S), 0.0f);  // sum_c dy * w * x per position
  for (int c = 0; c < d; ++c) {
    const float* xr = &x[z(c) * z(S)];
    const float* g = &dy[z(c) * z(S)];
    for (int s = 0; s < S; ++s) dot[z(s)] += g[s] * w[z(c)] * xr[s];
    // dw's sum in 8 lanes, so the loop vectorises without reordering a reduction
    float lanes[8] = {};
    int s = 0;
    for (; s + 8 <= S; s += 8) {
      for (int l = 0; l < 8; ++l) lanes[l] += g[s + l] * xr[s + l] * r[z(s + l)];
    }
    for (; s < S; ++s) lanes[0] += g[s] * xr[s] * r[z(s)];
    float acc = 0.0f;
    for (float l : lanes) acc += l;
    dw[z(c)] += acc;
  }
  for (int s = 0; s < S; ++s) dot[z(s)] *= r[z(s)] * r[z(s)] * r[z(s)] / static_cast<float>(d);
  for (int c = 0; c < d; ++c) {
    const float* xr = &x[z(c) * z(S)];
    const float* g = &dy[z(c) * z(S)];
    float* o = &dx[z(c) * z(S)];
    for (int s = 0; s < S; ++s) o[s] = r[z(s)] * w[z(c)] * g[s] - xr[s] * dot[z(s)];
  }
}

void adamw_update(std::span<float> w, std::span<const float> g, std::span<float> m, std::span<float> v, int t,
                  const AdamParams& p, std::span<half_bits> w_half) {
  // Bias corrections folded into two per-tensor constants, so the loop is one pass of
  // multiplies, a sqrt and a divide that the compiler vectorises.
  const float inv_bc1 = 1.0f / (1.0f - std::pow(p.beta1, static_cast<float>(t)));
  const float inv_sqrt_bc2 = 1.0f / std::sqrt(1.0f - std::pow(p.beta2, static_cast<float>(t)));
  const float b1 = p.beta1, b2 = p.beta2, c1 = 1.0f - p.beta1, c2 = 1.0f - p.beta2;
  const float lr = p.lr, wd = p.weight_decay, eps = p.eps, gs = p.grad_scale;
  constexpr size_t kBlock = 2048;
  for (size_t b = 0; b < w.size(); b += kBlock) {
    const size_t n = std::min(kBlock, w.size() - b);
    float* __restrict wp = w.data() + b;
    float* __restrict mp = m.data() + b;
    float* __restrict vp = v.data() + b;
    const float* __restrict gp = g.data() + b;
    for (size_t i = 0; i < n; ++i) {
      const float gi = gs * gp[i];
      mp[i] = b1 * mp[i] + c1 * gi;
      vp[i] = b2 * vp[i] + c2 * gi * gi;
      const float update = (mp[i] * inv_bc1) / (std::sqrt(vp[i]) * inv_sqrt_bc2 + eps);
      wp[i] -= lr * (update + wd * wp[i]);
    }
    if (!w_half.empty()) floats_to_halves(w_half.data() + b, wp, n);
  }
}

Expected<float> cross_entropy(std::span<float> dlogits, std::span<const float> logits,
                              std::span<const uint16_t> targets, int V, int S, float grad_scale,
                              ThreadPool* pool) {
  if (!(grad_scale > 0.0f)) return invalid_argument("cross_entropy: grad_scale must be positive");
  for (int s = 0; s < S; ++s) {
    if (targets[z(s)] >= V) {
      return invalid_argument("cross_entropy: target " + std::to_string(targets[z(s)]) + " at position " +
                              std::to_string(s) + " is not below vocab_size " + std::to_string(V));
    }
  }
  // The column softmax through the cpu backend's vectorised kernel, scaled as the gradient
  // wants it: dlogits = p * inv_s.
  const float inv_s = grad_scale / static_cast<float>(S);
  cpu::softmax_columns(logits.data(), dlogits.data(), V, S, pool, inv_s);
  double loss = 0.0;
  for (int s = 0; s < S; ++s) {
    const size_t i = z(targets[z(s)]) * z(S) + z(s);
    // -log p[target]; where p underflowed, log-sum-exp of the column in double instead.
    const double p = static_cast<double>(dlogits[i]) / inv_s;
    if (p > 1e-30) {
      loss -= std::log(p);
    } else {
      double mx = -INFINITY, sum = 0.0;
      for (int v = 0; v < V; ++v) mx = std::max(mx, static_cast<double>(logits[z(v) * z(S) + z(s)]));
      for (int v = 0; v < V; ++v) sum += std::exp(static_cast<double>(logits[z(v) * z(S) + z(s)]) - mx);
      loss += std::log(sum) + mx - logits[i];
    }
  }
  for (int s = 0; s < S; ++s) dlogits[z(targets[z(s)]) * z(S) + z(s)] -= inv_s;
  return static_cast<float>(loss / S);
}

Status embed_lookup(std::span<float> x, std::span<const float> embedding, std::span<const uint16_t> tokens, int V,
                    int dim, int S) {
  for (int s = 0; s < S; ++s) {
    if (tokens[z(s)] >= V) {
      return invalid_argument("embed_lookup: token " + std::to_string(tokens[z(s)]) + " at position " +
                              std::to_string(s) + " is not below vocab_size " + std::to_string(V));
    }
    const float* e = &embedding[z(tokens[z(s)]) * z(dim)];
    for (int c = 0; c < dim; ++c) x[z(c) * z(S) + z(s)] = e[c];
  }
  return {};
}

void embed_backward(std::span<float> d_embedding, std::span<const float> dx, std::span<const uint16_t> tokens,
                    int dim, int S) {
  for (int s = 0; s < S; ++s) {
    float* e = &d_embedding[z(tokens[z(s)]) * z(dim)];
    for (int c = 0; c < dim; ++c) e[c] += dx[z(c) * z(S) + z(s)];
  }
}

void silu_backward(std::span<float> dh, std::span<const float> dy, std::span<const float> h) {
  for (size_t i = 0; i < h.size(); ++i) {
    const float sg = 1.0f / (1.0f + std::exp(-h[i]));
    dh[i] = dy[i] * sg * (1.0f + h[i] * (1.0f - sg));
  }
}

void linear_weight_grad(std::span<float> dw, cpu::MatrixRef dy, cpu::MatrixRef x, int out, int in, int S,
                        ThreadPool* pool, float beta, double* squares) {
  // x read transposed through its strides: B[s, i] = x(i, s)
  cpu::sgemm(dy, cpu::transposed(x), dw.data(), in, out, in, S, beta, pool, {{}, squares});
}

}  // namespace ane::train
