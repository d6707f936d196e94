#include "reference_transformer.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace ane::reference {
namespace {

size_t z(int64_t v) { return static_cast<size_t>(v); }

struct Sizes {
  int64_t D, H, Q, KV, S, nh, nkv, hd, g, V;
  explicit Sizes(const ModelConfig& c)
      : D(c.dim), H(c.hidden_dim), Q(int64_t(c.n_heads) * c.head_dim), KV(int64_t(c.n_kv_heads) * c.head_dim),
        S(c.seq_len), nh(c.n_heads), nkv(c.n_kv_heads), hd(c.head_dim), g(c.n_heads / c.n_kv_heads),
        V(c.vocab_size) {}
};

Vec randn(size_t n, std::mt19937_64& rng, double mean, double sd) {
  std::normal_distribution<double> d(mean, sd);
  Vec v(n);
  for (double& x : v) x = d(rng);
  return v;
}

// dW += dy x^T ; dy [out, S], x [in, S]
void add_outer(Vec& dw, const Vec& dy, const Vec& x, int64_t out, int64_t in, int64_t S) {
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i) {
      double acc = 0;
      for (int64_t s = 0; s < S; ++s) acc += dy[z(o * S + s)] * x[z(i * S + s)];
      dw[z(o * in + i)] += acc;
    }
}

// W^T dy
Vec matvec_t(const Vec& w, const Vec& dy, int64_t out, int64_t in, int64_t S) {
  Vec dx(z(in * S), 0.0);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i)
      for (int64_t s = 0; s < S; ++s) dx[z(i * S + s)] += w[z(o * in + i)] * dy[z(o * S + s)];
  return dx;
}

double angle(const ModelConfig& c, int64_t pair, int64_t pos) {
  return static_cast<double>(pos) * std::pow(c.rope_theta, -2.0 * static_cast<double>(pair) / c.head_dim);
}

// Rotates every head of x [heads * hd, S] (sign -1: the inverse rotation).
Vec rotate(const ModelConfig& c, const Vec& x, int64_t heads, int64_t S, double sign) {
  Vec y = x;
  const int64_t hd = c.head_dim;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < hd / 2; ++i)
      for (int64_t s = 0; s < S; ++s) {
        const double a = angle(c, i, s), co = std::cos(a), si = sign * std::sin(a);
        const double x0 = x[z((h * hd + 2 * i) * S + s)], x1 = x[z((h * hd + 2 * i + 1) * S + s)];
        y[z((h * hd + 2 * i) * S + s)] = x0 * co - x1 * si;
        y[z((h * hd + 2 * i + 1) * S + s)] = x0 * si + x1 * co;
      }
  return y;
}

// rmsnorm over each head's hd channels, weight w [hd]
Vec head_norm(const Vec& x, const Vec& w, int64_t heads, int64_t hd, int64_t S, double eps) {
  Vec y(x.size());
  for (int64_t h = 0; h < heads; ++h) {
    Vec part(x.begin() + h * hd * S, x.begin() + (h + 1) * hd * S);
    Vec r = rmsnorm(part, w, hd, S, eps);
    std::copy(r.begin(), r.end(), y.begin() + h * hd * S);
  }
  return y;
}

Vec head_norm_backward(const Vec& dy, const Vec& x, const Vec& w, int64_t heads, int64_t hd, int64_t S, double eps,
                       Vec& dw) {
  Vec dx(x.size());
  for (int64_t h = 0; h < heads; ++h) {
    Vec px(x.begin() + h * hd * S, x.begin() + (h + 1) * hd * S);
    Vec pdy(dy.begin() + h * hd * S, dy.begin() + (h + 1) * hd * S);
    Vec r = rmsnorm_backward(pdy, px, w, hd, S, eps, dw);
    std::copy(r.begin(), r.end(), dx.begin() + h * hd * S);
  }
  return dx;
}

double silu(double h) { return h / (1.0 + std::exp(-h)); }

void add_to(Vec& a, const Vec& b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
}

}  // namespace

std::vector<Vec*> Layer::params() {
  std::vector<Vec*> p = {&rms_att, &wq, &wk, &wv, &wo, &rms_ffn, &w1, &w2, &w3};
  if (!q_norm.empty()) p.insert(p.end(), {&q_norm, &k_norm});
  return p;
}

std::vector<Vec*> Model::params() {
  std::vector<Vec*> p = {&embedding, &rms_final};
  for (Layer& l : layers)
    for (Vec* v : l.params()) p.push_back(v);
  if (!classifier.empty()) p.push_back(&classifier);
  return p;
}

Layer zero_layer(const ModelConfig& c) {
  const Sizes n(c);
  Layer l;
  l.rms_att = Vec(z(n.D));
  l.wq = Vec(z(n.Q * n.D));
  l.wk = Vec(z(n.KV * n.D));
  l.wv = Vec(z(n.KV * n.D));
  l.wo = Vec(z(n.D * n.Q));
  l.rms_ffn = Vec(z(n.D));
  l.w1 = Vec(z(n.H * n.D));
  l.w2 = Vec(z(n.D * n.H));
  l.w3 = Vec(z(n.H * n.D));
  if (c.qk_norm) {
    l.q_norm = Vec(z(n.hd));
    l.k_norm = Vec(z(n.hd));
  }
  return l;
}

Layer random_layer(const ModelConfig& c, uint64_t seed, double scale) {
  std::mt19937_64 rng(seed);
  Layer l = zero_layer(c);
  for (Vec* p : l.params()) *p = randn(p->size(), rng, 0.0, scale);
  for (Vec* p : {&l.rms_att, &l.rms_ffn, &l.q_norm, &l.k_norm}) *p = randn(p->size(), rng, 1.0, 0.1);
  return l;
}

Model random_model(const ModelConfig& c, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Model m;
  m.config = c;
  m.embedding = randn(z(int64_t(c.vocab_size) * c.dim), rng, 0.0, 0.5);
  m.rms_final = randn(z(c.dim), rng, 1.0, 0.1);
  for (int i = 0; i < c.n_layers; ++i) m.layers.push_back(random_layer(c, seed * 100 + static_cast<uint64_t>(i) + 1));
  return m;
}

Vec matvec(const Vec& w, const Vec& x, int64_t out, int64_t in, int64_t S) {
  Vec y(z(out * S), 0.0);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i)
      for (int64_t s = 0; s < S; ++s) y[z(o * S + s)] += w[z(o * in + i)] * x[z(i * S + s)];
  return y;
}

Vec rmsnorm(const Vec& x, const Vec& w, int64_t n, int64_t S, double eps) {
  Vec y(x.size());
  for (int64_t s = 0; s < S; ++s) {
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += x[z(i * S + s)] * x[z(i * S + s)];
    const double r = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
    for (int64_t i = 0; i < n; ++i) y[z(i * S + s)] = x[z(i * S + s)] * r * w[z(i)];
  }
  return y;
}

Vec rmsnorm_backward(const Vec& dy, const Vec& x, const Vec& w, int64_t n, int64_t S, double eps, Vec& dw) {
  Vec dx(x.size());
  for (int64_t s = 0; s < S; ++s) {
    double ss = 0, dot = 0;
    for (int64_t i = 0; i < n; ++i) {
      ss += x[z(i * S + s)] * x[z(i * S + s)];
      dot += dy[z(i * S + s)] * w[z(i)] * x[z(i * S + s)];
    }
    const double r = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
    for (int64_t i = 0; i < n; ++i) {
      const double xi = x[z(i * S + s)];
      dx[z(i * S + s)] = r * w[z(i)] * dy[z(i * S + s)] - xi * r * r * r * dot / static_cast<double>(n);
      dw[z(i)] += dy[z(i * S + s)] * xi * r;
    }
  }
  return dx;
}

AttentionActs attention_forward(const ModelConfig& c, const Layer& l, const Vec& x) {
  const Sizes n(c);
  AttentionActs a;
  a.xnorm = rmsnorm(x, l.rms_att, n.D, n.S, c.norm_eps);
  a.q_raw = matvec(l.wq, a.xnorm, n.Q, n.D, n.S);
  a.k_raw = matvec(l.wk, a.xnorm, n.KV, n.D, n.S);
  a.v = matvec(l.wv, a.xnorm, n.KV, n.D, n.S);
  a.q = c.qk_norm ? head_norm(a.q_raw, l.q_norm, n.nh, n.hd, n.S, c.norm_eps) : a.q_raw;
  a.k = c.qk_norm ? head_norm(a.k_raw, l.k_norm, n.nkv, n.hd, n.S, c.norm_eps) : a.k_raw;
  a.q = rotate(c, a.q, n.nh, n.S, 1.0);
  a.k = rotate(c, a.k, n.nkv, n.S, 1.0);
  a.probs = Vec(z(n.nh * n.S * n.S), 0.0);
  a.attn = Vec(z(n.Q * n.S), 0.0);
  const double scale = 1.0 / std::sqrt(static_cast<double>(n.hd));
  for (int64_t h = 0; h < n.nh; ++h) {
    const int64_t j = h / n.g;
    for (int64_t t = 0; t < n.S; ++t) {
      double* p = &a.probs[z((h * n.S + t) * n.S)];
      double mx = -1e300;
      for (int64_t s = 0; s <= t; ++s) {
        double dot = 0;
        for (int64_t d = 0; d < n.hd; ++d) dot += a.q[z((h * n.hd + d) * n.S + t)] * a.k[z((j * n.hd + d) * n.S + s)];
        p[s] = dot * scale;
        mx = std::max(mx, p[s]);
      }
      double sum = 0;
      for (int64_t s = 0; s <= t; ++s) sum += (p[s] = std::exp(p[s] - mx));
      for (int64_t s = 0; s <= t; ++s) p[s] /= sum;
      for (int64_t d = 0; d < n.hd; ++d) {
        double acc = 0;
        for (int64_t s = 0; s <= t; ++s) acc += p[s] * a.v[z((j * n.hd + d) * n.S + s)];
        a.attn[z((h * n.hd + d) * n.S + t)] = acc;
      }
    }
  }
  a.o = matvec(l.wo, a.attn, n.D, n.Q, n.S);
  return a;
}

FfnActs ffn_forward(const ModelConfig& c, const Layer& l, const Vec& x2) {
  const Sizes n(c);
  FfnActs f;
  f.xnorm = rmsnorm(x2, l.rms_ffn, n.D, n.S, c.norm_eps);
  f.h1 = matvec(l.w1, f.xnorm, n.H, n.D, n.S);
  f.h3 = matvec(l.w3, f.xnorm, n.H, n.D, n.S);
  f.gated = Vec(f.h1.size());
  for (size_t i = 0; i < f.h1.size(); ++i) f.gated[i] = silu(f.h1[i]) * f.h3[i];
  f.out = matvec(l.w2, f.gated, n.D, n.H, n.S);
  return f;
}

// y += a * x
void add_scaled_to(Vec& y, const Vec& x, double a) {
  for (size_t i = 0; i < y.size(); ++i) y[i] += a * x[i];
}

LayerActs layer_forward(const ModelConfig& c, const Layer& l, const Vec& x, double residual_scale) {
  LayerActs a;
  a.x = x;
  a.att = attention_forward(c, l, x);
  a.x2 = x;
  add_scaled_to(a.x2, a.att.o, residual_scale);
  a.ffn = ffn_forward(c, l, a.x2);
  a.out = a.x2;
  add_scaled_to(a.out, a.ffn.out, residual_scale);
  return a;
}

SdpaGrads sdpa_backward(const ModelConfig& c, const Layer& l, const AttentionActs& a, const Vec& dx2) {
  const Sizes n(c);
  SdpaGrads g;
  g.dattn = matvec_t(l.wo, dx2, n.D, n.Q, n.S);
  g.dv = Vec(z(n.KV * n.S), 0.0);
  g.dP = Vec(z(n.nh * n.S * n.S), 0.0);
  Vec dq(z(n.Q * n.S), 0.0), dk(z(n.KV * n.S), 0.0);
  const double scale = 1.0 / std::sqrt(static_cast<double>(n.hd));
  for (int64_t h = 0; h < n.nh; ++h) {
    const int64_t j = h / n.g;
    for (int64_t t = 0; t < n.S; ++t) {
      const double* p = &a.probs[z((h * n.S + t) * n.S)];
      double* dp = &g.dP[z((h * n.S + t) * n.S)];
      for (int64_t s = 0; s < n.S; ++s)
        for (int64_t d = 0; d < n.hd; ++d) {
          const double da = g.dattn[z((h * n.hd + d) * n.S + t)];
          dp[s] += da * a.v[z((j * n.hd + d) * n.S + s)];
          g.dv[z((j * n.hd + d) * n.S + s)] += p[s] * da;
        }
      double row = 0;
      for (int64_t s = 0; s < n.S; ++s) row += p[s] * dp[s];
      for (int64_t s = 0; s < n.S; ++s) {
        const double ds = p[s] * (dp[s] - row) * scale;
        for (int64_t d = 0; d < n.hd; ++d) {
          dq[z((h * n.hd + d) * n.S + t)] += ds * a.k[z((j * n.hd + d) * n.S + s)];
          dk[z((j * n.hd + d) * n.S + s)] += ds * a.q[z((h * n.hd + d) * n.S + t)];
        }
      }
    }
  }
  g.dq = rotate(c, dq, n.nh, n.S, -1.0);
  g.dk = rotate(c, dk, n.nkv, n.S, -1.0);
  return g;
}

LayerGrads layer_backward(const ModelConfig& c, const Layer& l, const LayerActs& a, const Vec& dout,
                          double residual_scale) {
  const Sizes n(c);
  LayerGrads r;
  r.dw = zero_layer(c);
  Layer& dw = r.dw;
  // FFN: its output enters the residual stream scaled
  Vec dffn = dout;
  for (double& v : dffn) v *= residual_scale;
  add_outer(dw.w2, dffn, a.ffn.gated, n.D, n.H, n.S);
  Vec dg = matvec_t(l.w2, dffn, n.D, n.H, n.S);
  Vec dh1(dg.size()), dh3(dg.size());
  for (size_t i = 0; i < dg.size(); ++i) {
    const double h = a.ffn.h1[i], sg = 1.0 / (1.0 + std::exp(-h));
    dh3[i] = dg[i] * silu(h);
    dh1[i] = dg[i] * a.ffn.h3[i] * (sg + h * sg * (1.0 - sg));
  }
  add_outer(dw.w1, dh1, a.ffn.xnorm, n.H, n.D, n.S);
  add_outer(dw.w3, dh3, a.ffn.xnorm, n.H, n.D, n.S);
  Vec dxn2 = matvec_t(l.w1, dh1, n.H, n.D, n.S);
  add_to(dxn2, matvec_t(l.w3, dh3, n.H, n.D, n.S));
  Vec dx2 = rmsnorm_backward(dxn2, a.x2, l.rms_ffn, n.D, n.S, c.norm_eps, dw.rms_ffn);
  add_to(dx2, dout);
  // attention, scaled the same way
  Vec d_o = dx2;
  for (double& v : d_o) v *= residual_scale;
  add_outer(dw.wo, d_o, a.att.attn, n.D, n.Q, n.S);
  SdpaGrads g = sdpa_backward(c, l, a.att, d_o);
  Vec dq = c.qk_norm ? head_norm_backward(g.dq, a.att.q_raw, l.q_norm, n.nh, n.hd, n.S, c.norm_eps, dw.q_norm) : g.dq;
  Vec dk = c.qk_norm ? head_norm_backward(g.dk, a.att.k_raw, l.k_norm, n.nkv, n.hd, n.S, c.norm_eps, dw.k_norm) : g.dk;
  add_outer(dw.wq, dq, a.att.xnorm, n.Q, n.D, n.S);
  add_outer(dw.wk, dk, a.att.xnorm, n.KV, n.D, n.S);
  add_outer(dw.wv, g.dv, a.att.xnorm, n.KV, n.D, n.S);
  Vec dxn = matvec_t(l.wq, dq, n.Q, n.D, n.S);
  add_to(dxn, matvec_t(l.wk, dk, n.KV, n.D, n.S));
  add_to(dxn, matvec_t(l.wv, g.dv, n.KV, n.D, n.S));
  r.dx = rmsnorm_backward(dxn, a.x, l.rms_att, n.D, n.S, c.norm_eps, dw.rms_att);
  add_to(r.dx, dx2);
  return r;
}

namespace {

struct ModelActs {
  std::vector<LayerActs> layers;
  Vec x_final, xf;
  ModelResult result;
  Vec dlogits;
};

ModelActs run_model(const Model& m, const std::vector<int>& tokens, const std::vector<int>& targets) {
  const Sizes n(m.config);
  ModelActs r;
  Vec x(z(n.D * n.S));
  for (int64_t s = 0; s < n.S; ++s)
    for (int64_t d = 0; d < n.D; ++d) x[z(d * n.S + s)] = m.embedding[z(tokens[z(s)] * n.D + d)];
  for (const Layer& l : m.layers) {
    r.layers.push_back(layer_forward(m.config, l, x, m.residual_scale));
    x = r.layers.back().out;
  }
  r.x_final = x;
  r.xf = rmsnorm(x, m.rms_final, n.D, n.S, m.config.norm_eps);
  r.result.logits = matvec(m.output_weights(), r.xf, n.V, n.D, n.S);
  r.dlogits = Vec(r.result.logits.size());
  for (int64_t s = 0; s < n.S; ++s) {
    double mx = -1e300, sum = 0;
    for (int64_t v = 0; v < n.V; ++v) mx = std::max(mx, r.result.logits[z(v * n.S + s)]);
    for (int64_t v = 0; v < n.V; ++v) sum += std::exp(r.result.logits[z(v * n.S + s)] - mx);
    const int tg = targets[z(s)];
    r.result.loss += (std::log(sum) + mx - r.result.logits[z(tg * n.S + s)]) / static_cast<double>(n.S);
    for (int64_t v = 0; v < n.V; ++v) {
      const double p = std::exp(r.result.logits[z(v * n.S + s)] - mx) / sum;
      r.dlogits[z(v * n.S + s)] = (p - (v == tg ? 1.0 : 0.0)) / static_cast<double>(n.S);
    }
  }
  return r;
}

}  // namespace

ModelResult model_forward(const Model& m, const std::vector<int>& tokens, const std::vector<int>& targets) {
  return run_model(m, tokens, targets).result;
}

ModelGrads model_backward(const Model& m, const std::vector<int>& tokens, const std::vector<int>& targets) {
  const Sizes n(m.config);
  ModelActs a = run_model(m, tokens, targets);
  ModelGrads g;
  g.loss = a.result.loss;
  g.embedding = Vec(m.embedding.size(), 0.0);
  g.rms_final = Vec(m.rms_final.size(), 0.0);
  if (!m.classifier.empty()) g.classifier = Vec(m.classifier.size(), 0.0);
  add_outer(m.classifier.empty() ? g.embedding : g.classifier, a.dlogits, a.xf, n.V, n.D, n.S);
  Vec dxf = matvec_t(m.output_weights(), a.dlogits, n.V, n.D, n.S);
  Vec dx = rmsnorm_backward(dxf, a.x_final, m.rms_final, n.D, n.S, m.config.norm_eps, g.rms_final);
  g.layers.resize(m.layers.size());
  for (size_t i = m.layers.size(); i-- > 0;) {
    LayerGrads lg = layer_backward(m.config, m.layers[i], a.layers[i], dx, m.residual_scale);
    g.layers[i] = std::move(lg.dw);
    dx = std::move(lg.dx);
  }
  for (int64_t s = 0; s < n.S; ++s)
    for (int64_t d = 0; d < n.D; ++d) g.embedding[z(tokens[z(s)] * n.D + d)] += dx[z(d * n.S + s)];
  return g;
}

void adamw(Vec& w, const Vec& g, Vec& m, Vec& v, int t, double lr, double b1, double b2, double eps, double wd) {
  for (size_t i = 0; i < w.size(); ++i) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    const double mh = m[i] / (1 - std::pow(b1, t)), vh = v[i] / (1 - std::pow(b2, t));
    w[i] -= lr * (mh / (std::sqrt(vh) + eps) + wd * w[i]);
  }
}

}  // namespace ane::reference
