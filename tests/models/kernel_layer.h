// One transformer layer assembled from the streamed-weight kernels and the CPU ops, as the
// trainer will run it: forward keeps the taps, backward returns dx and every weight gradient.
// The same compiled kernels serve every layer: set_weights() repacks the streamed columns.
#pragma once

#include <vector>

#include "harness.h"
#include "models/layer_kernels.h"
#include "train/cpu_ops.h"

namespace ane::testing {

struct KernelLayer {
  ModelConfig c;
  RunnableKernel att, ffn, ffn_b, sdpa1, sdpa2, qkv_b;
  int64_t D, H, S, Q, KV, SC;

  KernelLayer(Engine& engine, const ModelConfig& config) : c(config) {
    models::KernelGenerator gen(c);
    const auto st = models::WeightSource::kStreamed;
    att = compile_checked(engine, gen.attention_forward(st), nullptr);
    ffn = compile_checked(engine, gen.ffn_forward(st), nullptr);
    ffn_b = compile_checked(engine, gen.ffn_backward(st), nullptr);
    sdpa1 = compile_checked(engine, gen.sdpa_backward1(st), nullptr);
    sdpa2 = compile_checked(engine, gen.sdpa_backward2(), nullptr);
    qkv_b = compile_checked(engine, gen.qkv_backward(st), nullptr);
    D = c.dim, H = c.hidden_dim, S = c.seq_len, Q = static_cast<int64_t>(c.q_dim()),
    KV = static_cast<int64_t>(c.kv_dim()), SC = static_cast<int64_t>(c.score_channels());
  }
  bool ok() const { return att.kernel && ffn.kernel && ffn_b.kernel && sdpa1.kernel && sdpa2.kernel && qkv_b.kernel; }

  void set_weights(const models::WeightViews& w) {
    for (RunnableKernel* k : {&att, &ffn, &ffn_b, &sdpa1, &qkv_b}) {
      Status s = k->set_weights(w);
      EXPECT_TRUE(s.ok()) << s.to_string();
    }
  }

  // Channels [ch, ch + n) of a [C, S] buffer.
  Vec part(const std::vector<float>& v, int64_t ch, int64_t n) const {
    return Vec(v.begin() + ch * S, v.begin() + (ch + n) * S);
  }

  struct Taps {
    Vec x, o, q, k, v, attn, xn, q_raw, k_raw, x2, ffn_out, h1, h3, gated, xn2, out;
  };
  Taps forward(const Vec& x) {
    Taps t;
    t.x = x;
    const std::vector<float> a = att.run({&x});
    t.o = part(a, 0, D);
    t.q = part(a, D, Q);
    t.k = part(a, D + Q, KV);
    t.v = part(a, D + Q + KV, KV);
    t.attn = part(a, D + Q + 2 * KV, Q);
    t.xn = part(a, D + 2 * Q + 2 * KV, D);
    if (c.qk_norm) {
      t.q_raw = part(a, 2 * D + 2 * Q + 2 * KV, Q);
      t.k_raw = part(a, 2 * D + 3 * Q + 2 * KV, KV);
    }
    t.x2 = x;
    for (size_t i = 0; i < x.size(); ++i) t.x2[i] += t.o[i];
    round_fp16(t.x2);
    const std::vector<float> f = ffn.run({&t.x2});
    t.ffn_out = part(f, 0, D);
    t.h1 = part(f, D, H);
    t.h3 = part(f, D + H, H);
    t.gated = part(f, D + 2 * H, H);
    t.xn2 = part(f, D + 3 * H, D);
    t.out = t.x2;
    for (size_t i = 0; i < x.size(); ++i) t.out[i] += t.ffn_out[i];
    return t;
  }

  struct Grads {
    Vec dx;
    reference::Layer dw;
  };
  Grads backward(const Taps& t, const models::WeightViews& w, const Vec& dy_in) {
    Grads g;
    g.dw = reference::zero_layer(c);
    std::vector<std::vector<float>> dw;  // float accumulators in Layer::params() order
    for (Vec* p : g.dw.params()) dw.emplace_back(p->size(), 0.0f);
    enum { kRmsAtt, kWq, kWk, kWv, kWo, kRmsFfn, kW1, kW2, kW3, kQn, kKn };
    auto F = [](const Vec& v) { return to_float(v); };
    auto wgrad = [&](int idx, const Vec& dy, const Vec& x, int64_t out, int64_t in) {
      train::linear_weight_grad(dw[static_cast<size_t>(idx)], F(dy), F(x), static_cast<int>(out), static_cast<int>(in),
                                static_cast<int>(S));
    };
    auto norm_bwd = [&](int idx, const Vec& dy, const Vec& x, std::span<const float> wn, int64_t n, int64_t blocks) {
      std::vector<float> dx(dy.size());
      const std::vector<float> dyf = F(dy), xf = F(x);
      const size_t blk = static_cast<size_t>(n * S);
      for (int64_t b = 0; b < blocks; ++b) {
        const size_t o = static_cast<size_t>(b) * blk;
        train::rmsnorm_backward(std::span(dx).subspan(o, blk), dw[static_cast<size_t>(idx)],
                                std::span<const float>(dyf).subspan(o, blk), std::span<const float>(xf).subspan(o, blk),
                                wn, static_cast<int>(n), static_cast<int>(S), static_cast<float>(c.norm_eps));
      }
      return to_double(dx);
    };
    Vec dy = dy_in;
    round_fp16(dy);
    const std::vector<float> fb = ffn_b.run({&dy, &t.h1, &t.h3});
    const Vec dxn2 = part(fb, 0, D), dh1 = part(fb, D, H), dh3 = part(fb, D + H, H);
    wgrad(kW2, dy, t.gated, D, H);
    wgrad(kW1, dh1, t.xn2, H, D);
    wgrad(kW3, dh3, t.xn2, H, D);
    Vec dx2 = norm_bwd(kRmsFfn, dxn2, t.x2, w.rms_ffn, D, 1);
    for (size_t i = 0; i < dx2.size(); ++i) dx2[i] += dy[i];
    round_fp16(dx2);
    const std::vector<float> s1 = sdpa1.run({&t.q, &t.k, &t.v, &dx2});
    const Vec dv = part(s1, 0, KV), probs = part(s1, KV, SC), dp = part(s1, KV + SC, SC);
    wgrad(kWo, dx2, t.attn, D, Q);
    const std::vector<float> s2 = sdpa2.run({&probs, &dp, &t.q, &t.k});
    Vec dq = part(s2, 0, Q), dk = part(s2, Q, KV);
    if (c.qk_norm) {
      dq = norm_bwd(kQn, dq, t.q_raw, w.q_norm, c.head_dim, c.n_heads);
      dk = norm_bwd(kKn, dk, t.k_raw, w.k_norm, c.head_dim, c.n_kv_heads);
      round_fp16(dq);
      round_fp16(dk);
    }
    wgrad(kWq, dq, t.xn, Q, D);
    wgrad(kWk, dk, t.xn, KV, D);
    wgrad(kWv, dv, t.xn, KV, D);
    const Vec dxn = to_double(qkv_b.run({&dq, &dk, &dv}));
    g.dx = norm_bwd(kRmsAtt, dxn, t.x, w.rms_att, D, 1);
    for (size_t i = 0; i < g.dx.size(); ++i) g.dx[i] += dx2[i];
    std::vector<Vec*> out = g.dw.params();
    for (size_t i = 0; i < out.size(); ++i) *out[i] = to_double(dw[i]);
    return g;
  }
};

}  // namespace ane::testing
