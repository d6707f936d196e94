// The CPU ops against plain float64 definitions written here (sharing no code with them) on
// random inputs, plus their error cases.
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "core/fp16.h"
#include "train/cpu_ops.h"
#include "train/optimizer.h"
#include "train/run.h"

namespace ane::train {
namespace {

std::vector<float> randn(size_t n, uint64_t seed, float mean = 0.0f, float sd = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(mean, sd);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

void expect_close(const std::vector<float>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  double scale = 0;
  for (double v : want) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], tol * scale) << "at " << i;
}

constexpr int D = 40, S = 12, V = 30;
constexpr float kEps = 1e-5f;

double inv_rms(const std::vector<float>& x, int s) {
  double ss = 0;
  for (int c = 0; c < D; ++c) ss += double(x[size_t(c * S + s)]) * x[size_t(c * S + s)];
  return 1.0 / std::sqrt(ss / D + kEps);
}

TEST(CpuOps, RmsnormMatchesDefinition) {
  const auto x = randn(D * S, 1), w = randn(D, 2, 1.0f, 0.1f);
  std::vector<float> out(x.size());
  rmsnorm(out, x, w, D, S, kEps);
  std::vector<double> want(x.size());
  for (int s = 0; s < S; ++s)
    for (int c = 0; c < D; ++c) want[size_t(c * S + s)] = x[size_t(c * S + s)] * inv_rms(x, s) * w[size_t(c)];
  expect_close(out, want, 1e-5);
}

TEST(CpuOps, RmsnormBackwardMatchesFiniteDifferences) {
  const auto x = randn(D * S, 3), w = randn(D, 4, 1.0f, 0.1f), dy = randn(D * S, 5);
  std::vector<float> dx(x.size()), dw(D, 0.0f);
  rmsnorm_backward(dx, dw, dy, x, w, D, S, kEps);
  // L = sum dy * x * r * w, differentiated in double by central differences.
  auto loss = [&](std::vector<double> xd, std::vector<double> wd) {
    double l = 0;
    for (int s = 0; s < S; ++s) {
      double ss = 0;
      for (int c = 0; c < D; ++c) ss += xd[size_t(c * S + s)] * xd[size_t(c * S + s)];
      const double r = 1.0 / std::sqrt(ss / D + kEps);
      for (int c = 0; c < D; ++c) l += dy[size_t(c * S + s)] * xd[size_t(c * S + s)] * r * wd[size_t(c)];
    }
    return l;
  };
  const std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end());
  std::vector<double> want_dx(x.size()), want_dw(D);
  for (size_t i = 0; i < x.size(); ++i) {
    auto up = xd, dn = xd;
    up[i] += 1e-5;
    dn[i] -= 1e-5;
    want_dx[i] = (loss(up, wd) - loss(dn, wd)) / 2e-5;
  }
  for (size_t i = 0; i < size_t(D); ++i) {
    auto up = wd, dn = wd;
    up[i] += 1e-5;
    dn[i] -= 1e-5;
    want_dw[i] = (loss(xd, up) - loss(xd, dn)) / 2e-5;
  }
  expect_close(dx, want_dx, 1e-4);
  expect_close(dw, want_dw, 1e-4);
}

// Also the fp16 copy written in the same pass: over several of the update's blocks, it holds
// exactly the rounded updated weights.
TEST(CpuOps, AdamWMatchesDefinition) {
  const size_t n = 5000;
  auto w = randn(n, 6), m = std::vector<float>(n, 0.0f), v = m;
  std::vector<double> wd(w.begin(), w.end()), md(n, 0.0), vd(n, 0.0);
  std::vector<half_bits> w_half(n, 0x7e00);
  const AdamParams p{.lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f, .grad_scale = 0.5f};
  for (int t = 1; t <= 5; ++t) {
    const auto g = randn(n, 10 + uint64_t(t));
    adamw_update(w, g, m, v, t, p, t % 2 == 1 ? std::span<half_bits>(w_half) : std::span<half_bits>());
    if (t % 2 == 1) {
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(w_half[i], float_to_half(w[i])) << "step " << t << ", element " << i;
    }
    for (size_t i = 0; i < n; ++i) {
      const double gi = 0.5 * g[i];
      md[i] = 0.9 * md[i] + 0.1 * gi;
      vd[i] = 0.95 * vd[i] + 0.05 * gi * gi;
      const double mh = md[i] / (1 - std::pow(0.9, t)), vh = vd[i] / (1 - std::pow(0.95, t));
      wd[i] -= 1e-2 * (mh / (std::sqrt(vh) + 1e-8) + 0.1 * wd[i]);
    }
  }
  expect_close(w, wd, 1e-5);
}

// AdamW::step keeps the fp16 copies it is given equal to their tensors, leaves the other
// tensors' updates as they would be without copies, and rejects a copy it cannot place.
TEST(Optimizer, AdamWStepWritesTheFp16CopiesItIsGiven) {
  auto config = model_preset("tiny");
  ASSERT_TRUE(config.ok());
  auto init = init_weights(*config, 3);
  ASSERT_TRUE(init.ok());
  auto grads = init_weights(*config, 4);
  ASSERT_TRUE(grads.ok());
  ModelWeights with = *init, without = *init;
  auto a = AdamW::create(*config, {}), b = AdamW::create(*config, {});
  ASSERT_TRUE(a.ok() && b.ok());
  ThreadPool pool(2);
  std::vector<half_bits> wq(with.layers[1].wq.size()), rms(with.layers[0].rms_ffn.size());
  const HalfCopy copies[] = {{with.layers[1].wq.data(), wq}, {with.layers[0].rms_ffn.data(), rms}};
  for (int step = 0; step < 2; ++step) {
    ASSERT_TRUE(a->step(with, *grads, 1e-3, 0.5f, pool, copies).ok());
    ASSERT_TRUE(b->step(without, *grads, 1e-3, 0.5f, pool).ok());
  }
  for (size_t i = 0; i < wq.size(); ++i) ASSERT_EQ(wq[i], float_to_half(with.layers[1].wq[i])) << i;
  for (size_t i = 0; i < rms.size(); ++i) ASSERT_EQ(rms[i], float_to_half(with.layers[0].rms_ffn[i])) << i;
  EXPECT_EQ(with.layers[1].wq, without.layers[1].wq);
  EXPECT_EQ(with.embedding, without.embedding);

  const float stranger = 0.0f;
  const HalfCopy foreign[] = {{&stranger, std::span<half_bits>(wq).first(1)}};
  EXPECT_FALSE(a->step(with, *grads, 1e-3, 0.5f, pool, foreign).ok());
  const HalfCopy short_copy[] = {{with.layers[1].wq.data(), std::span<half_bits>(wq).first(7)}};
  auto s = a->step(with, *grads, 1e-3, 0.5f, pool, short_copy);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("holds 7 values"), std::string::npos) << s.error().message();
}

// Mean cross-entropy over positions of [v, s] logits in float64 (log-sum-exp of each column
// minus the target's logit), and its gradient times `scale`.
struct ReferenceLoss {
  double loss = 0;
  std::vector<double> dlogits;
};
ReferenceLoss reference_cross_entropy(const std::vector<float>& logits, const std::vector<uint16_t>& targets, int v_size,
                                      int s_size, double scale = 1.0) {
  ReferenceLoss r;
  r.dlogits.resize(logits.size());
  auto at = [&](int v, int s) { return double(logits[size_t(v * s_size + s)]); };
  for (int s = 0; s < s_size; ++s) {
    double sum = 0;
    for (int v = 0; v < v_size; ++v) sum += std::exp(at(v, s));
    r.loss += (std::log(sum) - at(targets[size_t(s)], s)) / s_size;
    for (int v = 0; v < v_size; ++v) {
      r.dlogits[size_t(v * s_size + s)] = scale * (std::exp(at(v, s)) / sum - (v == targets[size_t(s)])) / s_size;
    }
  }
  return r;
}

TEST(CpuOps, CrossEntropyMatchesDefinition) {
  const auto logits = randn(V * S, 7, 0.0f, 3.0f);
  std::vector<uint16_t> targets(S);
  for (int s = 0; s < S; ++s) targets[size_t(s)] = uint16_t((s * 7) % V);
  std::vector<float> dl(logits.size());
  auto loss = cross_entropy(dl, logits, targets, V, S);
  ASSERT_TRUE(loss.ok());
  const ReferenceLoss want = reference_cross_entropy(logits, targets, V, S);
  EXPECT_NEAR(*loss, want.loss, 1e-5 * want.loss);
  expect_close(dl, want.dlogits, 1e-5);

  // A target whose probability underflows fp32 (logit 120 below the others): the loss is
  // still the exact log-sum-exp, not inf.
  std::vector<float> far = logits;
  far[size_t(targets[0]) * S] = -120.0f;
  auto far_loss = cross_entropy(dl, far, targets, V, S);
  ASSERT_TRUE(far_loss.ok());
  const double far_want = reference_cross_entropy(far, targets, V, S).loss;
  EXPECT_NEAR(*far_loss, far_want, 1e-5 * far_want);
  EXPECT_GT(*far_loss, 120.0 / S);

  // A vocabulary long enough for the softmax's row ranges (merged statistics), positions
  // that leave a partial column tile, and a column masked to -inf over its first 1200 rows
  // (whole ranges with no finite value): against float64, and on a pool the same bits.
  {
    const int big_v = 3000, big_s = 270;
    auto big = randn(size_t(big_v * big_s), 11, 0.0f, 3.0f);
    for (int v = 0; v < 1200; ++v) big[size_t(v * big_s + 5)] = -INFINITY;
    std::vector<uint16_t> big_targets(big_s);
    for (int s = 0; s < big_s; ++s) big_targets[size_t(s)] = uint16_t(1200 + (s * 37) % (big_v - 1200));
    std::vector<float> serial(big.size()), pooled(big.size());
    ThreadPool pool(3);
    auto a = cross_entropy(serial, big, big_targets, big_v, big_s, 8.0f);
    auto b = cross_entropy(pooled, big, big_targets, big_v, big_s, 8.0f, &pool);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(*a, *b);
    EXPECT_EQ(serial, pooled);
    const ReferenceLoss big_want = reference_cross_entropy(big, big_targets, big_v, big_s, 8.0);
    EXPECT_NEAR(*a, big_want.loss, 1e-5 * big_want.loss);
    expect_close(serial, big_want.dlogits, 1e-5);
  }

  EXPECT_FALSE(cross_entropy(dl, logits, targets, V, S, 0.0f).ok());
  targets[3] = V;
  auto bad = cross_entropy(dl, logits, targets, V, S);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("position 3"), std::string::npos);
}

TEST(CpuOps, EmbeddingLookupAndScatterAdd) {
  const auto emb = randn(V * D, 8), dx = randn(D * S, 9);
  std::vector<uint16_t> tok(S);
  for (int s = 0; s < S; ++s) tok[size_t(s)] = uint16_t(s % 5);  // repeats: scatter must add
  std::vector<float> x(D * S);
  ASSERT_TRUE(embed_lookup(x, emb, tok, V, D, S).ok());
  std::vector<double> want_x(x.size()), want_de(emb.size(), 0.0);
  for (int s = 0; s < S; ++s)
    for (int c = 0; c < D; ++c) {
      want_x[size_t(c * S + s)] = emb[size_t(tok[size_t(s)] * D + c)];
      want_de[size_t(tok[size_t(s)] * D + c)] += dx[size_t(c * S + s)];
    }
  expect_close(x, want_x, 0);
  std::vector<float> de(emb.size(), 0.0f);
  embed_backward(de, dx, tok, D, S);
  expect_close(de, want_de, 1e-6);
  tok[0] = V;
  EXPECT_FALSE(embed_lookup(x, emb, tok, V, D, S).ok());
}

TEST(CpuOps, SiluBackwardAndWeightGradMatchDefinitions) {
  const auto h = randn(50, 10), dy = randn(50, 11);
  std::vector<float> dh(50);
  silu_backward(dh, dy, h);
  std::vector<double> want(50);
  for (size_t i = 0; i < 50; ++i) {
    auto silu = [](double v) { return v / (1 + std::exp(-v)); };
    want[i] = dy[i] * (silu(h[i] + 1e-6) - silu(h[i] - 1e-6)) / 2e-6;
  }
  expect_close(dh, want, 1e-5);

  const int O = 7, I = 9;
  const auto g = randn(O * S, 12), x = randn(I * S, 13);
  std::vector<float> dw(O * I, 1.0f);
  linear_weight_grad(dw, rows_of(g, S), rows_of(x, S), O, I, S);
  std::vector<double> want_w(O * I, 1.0);
  for (int o = 0; o < O; ++o)
    for (int i = 0; i < I; ++i)
      for (int s = 0; s < S; ++s) want_w[size_t(o * I + i)] += double(g[size_t(o * S + s)]) * x[size_t(i * S + s)];
  expect_close(dw, want_w, 1e-5);

  // x as fp16 rows of a wider surface (taps read in place), beta 0 overwriting dw.
  const int width = S + 5;
  std::vector<half_bits> surface(size_t(I * width), float_to_half(1e4f));
  std::vector<double> want_h(O * I, 0.0);
  for (int i = 0; i < I; ++i)
    for (int s = 0; s < S; ++s) surface[size_t(i * width + s)] = float_to_half(x[size_t(i * S + s)]);
  for (int o = 0; o < O; ++o)
    for (int i = 0; i < I; ++i)
      for (int s = 0; s < S; ++s)
        want_h[size_t(o * I + i)] += double(g[size_t(o * S + s)]) * half_to_float(surface[size_t(i * width + s)]);
  linear_weight_grad(dw, rows_of(g, S), {nullptr, width, 1, surface.data()}, O, I, S, nullptr, 0.0f);
  expect_close(dw, want_h, 1e-5);
}

}  // namespace
}  // namespace ane::train
