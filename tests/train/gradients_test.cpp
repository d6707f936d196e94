// The production trainer's gradients: one Trainer::accumulate on a random window, read back
// through Trainer::gradients(), against the float64 reference model on the same weights and
// tokens -- the loss and every tensor against reference::model_backward, and sampled
// coordinates against central finite differences of the reference's loss. On the tiny preset
// and its GQA + q/k-norm variant, through both pipelines.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <ostream>
#include <random>
#include <string>

#include "../models/harness.h"
#include "train/trainer.h"
#include "trainer_harness.h"

namespace ane::train {
namespace {

using reference::Vec;

// Relative to the reference's loss, and to the largest |gradient| of each tensor. The kernels
// exchange fp16 surfaces: over 40 seeds the loss was within 6e-5 and every gradient tensor
// within 2.2e-3; 5e-3 still catches a gradient off by 1%.
constexpr double kLossTol = 1e-3;
constexpr double kGradTol = 5e-3;

// The tensors of a reference::Model or ModelGrads in ModelWeights::tensors() order.
template <class Tensors>
std::vector<Vec*> in_tensor_order(Tensors& m) {
  std::vector<Vec*> out{&m.embedding};
  for (reference::Layer& l : m.layers)
    for (Vec* v : l.params()) out.push_back(v);
  out.push_back(&m.rms_final);
  if (!m.classifier.empty()) out.push_back(&m.classifier);
  return out;
}

struct Case {
  const char* name;
  ModelConfig (*config)();
  Pipeline pipeline;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class TrainerGradients : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    TrainerOptions o;
    o.pipeline = GetParam().pipeline;
    o.threads = 2;
    auto created = Trainer::create(*kernel_engine, pair.w, o);
    ASSERT_TRUE(created.ok()) << created.error().to_string();
    trainer = std::move(created).value();
    auto l = trainer->accumulate(window);
    ASSERT_TRUE(l.ok()) << l.error().to_string();
    loss = *l;
    // The accumulators hold loss_scale x the gradient of this one window's mean loss.
    for (const ModelWeights::ConstTensor& t : trainer->gradients().tensors()) {
      names.push_back(t.name);
      grads.emplace_back(t.data.begin(), t.data.end());
      for (double& g : grads.back()) g /= trainer->loss_scaler().scale();
    }
    const size_t S = static_cast<size_t>(c.seq_len);
    tokens.assign(window.begin(), window.begin() + static_cast<ptrdiff_t>(S));
    targets.assign(window.begin() + 1, window.end());
  }
  // The index in tensors() of the tensor called `name`.
  size_t index_of(const std::string& name) const {
    const auto it = std::find(names.begin(), names.end(), name);
    EXPECT_NE(it, names.end()) << name;
    return static_cast<size_t>(it - names.begin());
  }

  ModelConfig c = GetParam().config();
  Pair pair = random_pair(c, 31);
  std::vector<uint16_t> window = random_windows(c, 1, 32)[0];
  std::unique_ptr<Engine> kernel_engine = engine();
  std::unique_ptr<Trainer> trainer;
  double loss = 0;
  std::vector<std::string> names;  // ModelWeights::tensors() order
  std::vector<Vec> grads;          // unscaled, in the same order
  std::vector<int> tokens, targets;
};

TEST_P(TrainerGradients, MatchTheReferenceBackward) {
  reference::ModelGrads want = reference::model_backward(pair.ref, tokens, targets);
  EXPECT_NEAR(loss, want.loss, kLossTol * want.loss);
  const std::vector<Vec*> wp = in_tensor_order(want);
  ASSERT_EQ(grads.size(), wp.size());
  double worst = 0;
  std::string worst_name;
  for (size_t i = 0; i < grads.size(); ++i) {
    ASSERT_EQ(grads[i].size(), wp[i]->size()) << names[i];
    const double err = testing::rel_err(grads[i], *wp[i]);
    EXPECT_LT(err, kGradTol) << names[i];
    if (err > worst) worst = err, worst_name = names[i];
  }
  std::printf("%s: loss off by %.2e relative; largest gradient error %.2e of the tensor's max (%s)\n",
              GetParam().name, std::abs(loss - want.loss) / want.loss, worst, worst_name.c_str());
}

// The derivative checked is that of the float64 reference's loss, not of Trainer::loss: the
// trainer's forward rounds every kernel surface to fp16 (relative 5e-4), so its difference
// quotient would need a step h so large that truncation error swamped the comparison, while
// in float64 h = 1e-4 leaves errors far below the gradients' fp16 error.
TEST_P(TrainerGradients, MatchFiniteDifferencesOfTheReferenceLoss) {
  reference::Model m = pair.ref;
  const std::vector<Vec*> params = in_tensor_order(m);
  ASSERT_EQ(params.size(), grads.size());
  // A layer matrix in each layer, norm scales (q/k norms when present) and the embedding.
  std::vector<std::string> sampled = {"layers.0.wq", "layers.1.w2", "layers.0.rms_ffn", "rms_final", "embedding"};
  if (c.qk_norm) sampled.push_back("layers.1.k_norm");
  std::mt19937_64 rng(33);
  for (const std::string& name : sampled) {
    const size_t t = index_of(name);
    ASSERT_LT(t, grads.size());
    Vec& param = *params[t];
    const Vec& grad = grads[t];
    double scale = 0;
    for (double g : grad) scale = std::max(scale, std::abs(g));
    for (int k = 0; k < 3; ++k) {
      // Embedding rows of the window's inputs: their gradient also carries the layers' dx.
      const size_t i = name == "embedding"
                           ? static_cast<size_t>(tokens[rng() % tokens.size()]) * static_cast<size_t>(c.dim) +
                                 rng() % static_cast<size_t>(c.dim)
                           : rng() % param.size();
      const double h = 1e-4, saved = param[i];
      param[i] = saved + h;
      const double up = reference::model_forward(m, tokens, targets).loss;
      param[i] = saved - h;
      const double down = reference::model_forward(m, tokens, targets).loss;
      param[i] = saved;
      EXPECT_NEAR(grad[i], (up - down) / (2 * h), kGradTol * scale) << name << " at " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, TrainerGradients,
                         ::testing::Values(Case{"Tiny", testing::tiny_config, Pipeline::kDynamic},
                                           Case{"TinyStatic", testing::tiny_config, Pipeline::kStatic},
                                           Case{"QkNorm", testing::tiny_qk_config, Pipeline::kDynamic},
                                           Case{"QkNormStatic", testing::tiny_qk_config, Pipeline::kStatic}),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace ane::train
