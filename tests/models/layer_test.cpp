// One full layer assembled from the streamed kernels and the CPU ops: dx and every weight
// gradient against the float64 reference backward, and against central finite differences
// of the float64 forward.
#include <gtest/gtest.h>

#include "kernel_layer.h"

namespace ane::testing {
namespace {

using reference::Vec;

constexpr double kGradTol = 1e-2;  // fp16 surfaces between kernels

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

class LayerTest : public ::testing::TestWithParam<ModelConfig (*)()> {
 protected:
  ModelConfig c = GetParam()();
  TestWeights w{c, 21};
  std::unique_ptr<Engine> engine = make_engine();
  Vec x = random_acts(static_cast<size_t>(c.dim) * static_cast<size_t>(c.seq_len), 22);
  Vec dy = random_acts(x.size(), 23, 0.5);
};

TEST_P(LayerTest, GradientsMatchReference) {
  KernelLayer kl(*engine, c);
  ASSERT_TRUE(kl.ok());
  kl.set_weights(w.views);
  const KernelLayer::Taps t = kl.forward(x);
  const reference::LayerActs ra = reference::layer_forward(c, w.layer, x);
  EXPECT_LT(rel_err(t.out, ra.out), kGradTol);
  const KernelLayer::Grads g = kl.backward(t, w.views, dy);
  const reference::LayerGrads rg = reference::layer_backward(c, w.layer, ra, dy);
  EXPECT_LT(rel_err(g.dx, rg.dx), kGradTol) << "dx";
  reference::Layer got = g.dw, want = rg.dw;
  const std::vector<Vec*> gp = got.params(), wp = want.params();
  ASSERT_EQ(gp.size(), wp.size());
  const char* names[] = {"rms_att", "wq", "wk", "wv", "wo", "rms_ffn", "w1", "w2", "w3", "q_norm", "k_norm"};
  for (size_t i = 0; i < gp.size(); ++i) EXPECT_LT(rel_err(*gp[i], *wp[i]), kGradTol) << names[i];
}

// L = <dy, layer(x)>; the kernels' gradients at sampled coordinates against (L(+h) - L(-h)) / 2h.
TEST_P(LayerTest, GradientsMatchFiniteDifferences) {
  KernelLayer kl(*engine, c);
  ASSERT_TRUE(kl.ok());
  kl.set_weights(w.views);
  KernelLayer::Grads g = kl.backward(kl.forward(x), w.views, dy);
  reference::Layer layer = w.layer;
  Vec xx = x;
  auto loss = [&] { return dot(dy, reference::layer_forward(c, layer, xx).out); };
  std::vector<std::pair<Vec*, Vec*>> pairs = {{&xx, &g.dx}};
  const std::vector<Vec*> lp = layer.params(), gp = g.dw.params();
  for (size_t i = 0; i < lp.size(); ++i) pairs.emplace_back(lp[i], gp[i]);
  std::mt19937_64 rng(5);
  for (auto [param, grad] : pairs) {
    double scale = 0;
    for (double v : *grad) scale = std::max(scale, std::abs(v));
    for (int k = 0; k < 3; ++k) {
      const size_t i = rng() % param->size();
      const double h = 1e-4, saved = (*param)[i];
      (*param)[i] = saved + h;
      const double up = loss();
      (*param)[i] = saved - h;
      const double down = loss();
      (*param)[i] = saved;
      EXPECT_NEAR((*grad)[i], (up - down) / (2 * h), kGradTol * scale) << "tensor of " << param->size() << " at " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, LayerTest, ::testing::Values(tiny_config, tiny_qk_config),
                         [](const ::testing::TestParamInfo<ModelConfig (*)()>& i) {
                           return std::string(i.index == 0 ? "Tiny" : "QkNorm");
                         });

}  // namespace
}  // namespace ane::testing
