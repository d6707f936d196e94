// The trainer against the float64 reference model: from the same initial weights and the
// same windows, optimizer steps (clipping, AdamW with decoupled decay on matrices only, a
// warmup + cosine schedule) give the same losses; both pipelines agree; an overflowing loss
// scale skips the step and halves the scale.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>

#include "../models/harness.h"
#include "train/trainer.h"
#include "trainer_harness.h"

namespace ane::train {
namespace {

using reference::Vec;

using testing::tiny_config;

struct Settings {
  double lr = 2e-3, min_lr = 2e-4, clip = 0.5, wd = 0.1, b1 = 0.9, b2 = 0.95, eps = 1e-8;
  int64_t warmup = 3, total = 10;
};

// The schedule written out independently of LrSchedule.
double lr_at(const Settings& s, int64_t step) {
  if (step < s.warmup) return s.lr * static_cast<double>(step + 1) / static_cast<double>(s.warmup);
  const double p = static_cast<double>(step - s.warmup) / static_cast<double>(s.total - s.warmup);
  return s.min_lr + (s.lr - s.min_lr) * 0.5 * (1 + std::cos(std::numbers::pi * std::min(p, 1.0)));
}

TrainerOptions options_for(const Settings& s, Pipeline pipeline) {
  TrainerOptions o;
  o.pipeline = pipeline;
  o.threads = 2;
  o.schedule = {s.lr, s.min_lr, s.warmup, s.total};
  o.adamw = {s.b1, s.b2, s.eps, s.wd};
  o.clip = s.clip;
  return o;
}

// Losses of `steps` optimizer steps of the reference with `accum` windows each.
std::vector<double> reference_losses(reference::Model m, const Settings& s, const std::vector<std::vector<uint16_t>>& windows,
                                     int steps, int accum) {
  std::vector<double> losses;
  std::vector<Vec> mom, vel;
  for (Vec* p : m.params()) mom.emplace_back(p->size(), 0.0), vel.emplace_back(p->size(), 0.0);
  const size_t S = static_cast<size_t>(m.config.seq_len);
  for (int step = 0; step < steps; ++step) {
    reference::ModelGrads sum;
    for (int a = 0; a < accum; ++a) {
      const auto& w = windows[static_cast<size_t>(step * accum + a)];
      const std::vector<int> tokens(w.begin(), w.begin() + static_cast<ptrdiff_t>(S)), targets(w.begin() + 1, w.end());
      reference::ModelGrads g = reference::model_backward(m, tokens, targets);
      losses.push_back(g.loss);
      if (a == 0) {
        sum = g;
      } else {
        auto add = [](Vec& x, const Vec& y) { for (size_t i = 0; i < x.size(); ++i) x[i] += y[i]; };
        add(sum.embedding, g.embedding);
        add(sum.rms_final, g.rms_final);
        for (size_t l = 0; l < sum.layers.size(); ++l) {
          auto ps = sum.layers[l].params();
          auto pg = g.layers[l].params();
          for (size_t i = 0; i < ps.size(); ++i) add(*ps[i], *pg[i]);
        }
      }
    }
    // grads in m.params() order: embedding, rms_final, then layers (as reference::Model::params)
    std::vector<Vec*> gp{&sum.embedding, &sum.rms_final};
    for (auto& l : sum.layers)
      for (Vec* p : l.params()) gp.push_back(p);
    std::vector<Vec*> wp = m.params();
    EXPECT_EQ(gp.size(), wp.size());
    double norm2 = 0;
    for (Vec* g : gp)
      for (double& x : *g) x /= accum, norm2 += x * x;
    const double norm = std::sqrt(norm2), clip = norm > s.clip ? s.clip / norm : 1.0;
    for (size_t i = 0; i < wp.size(); ++i) {
      for (double& x : *gp[i]) x *= clip;
      // norm scales are the tensors whose size is one row of a matrix: dim or head_dim
      const bool matrix = wp[i]->size() > static_cast<size_t>(m.config.dim);
      reference::adamw(*wp[i], *gp[i], mom[i], vel[i], step + 1, lr_at(s, step), s.b1, s.b2, s.eps, matrix ? s.wd : 0.0);
    }
  }
  return losses;
}

std::vector<double> trainer_losses(Trainer& t, const std::vector<std::vector<uint16_t>>& windows, int steps, int accum) {
  std::vector<double> losses;
  for (int step = 0; step < steps; ++step) {
    for (int a = 0; a < accum; ++a) {
      auto loss = t.accumulate(windows[static_cast<size_t>(step * accum + a)]);
      EXPECT_TRUE(loss.ok()) << loss.error().to_string();
      losses.push_back(loss.ok() ? *loss : NAN);
    }
    auto r = t.step();
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_TRUE(r.ok() && r->applied);
  }
  return losses;
}

TEST(Trainer, TenStepsMatchTheFloat64Reference) {
  const ModelConfig c = tiny_config();
  const Settings s;
  Pair p = random_pair(c, 11);
  const auto windows = random_windows(c, 10, 5);
  const std::vector<double> want = reference_losses(p.ref, s, windows, 10, 1);
  for (Pipeline pipeline : {Pipeline::kDynamic, Pipeline::kStatic}) {
    auto e = engine();
    auto t = Trainer::create(*e, p.w, options_for(s, pipeline));
    ASSERT_TRUE(t.ok()) << t.error().to_string();
    const std::vector<double> got = trainer_losses(**t, windows, 10, 1);
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_NEAR(got[i], want[i], 1e-3 * want[i]) << pipeline_name(pipeline) << " step " << i;
      worst = std::max(worst, std::abs(got[i] - want[i]) / want[i]);
    }
    std::printf("%s pipeline: largest relative loss difference over 10 steps %.2e\n",
                std::string(pipeline_name(pipeline)).c_str(), worst);
    EXPECT_LT(want.back(), want.front() - 0.1) << "the run should learn something";
  }
}

TEST(Trainer, AccumulationAveragesWindowsAndGqaQkNormMatchesReference) {
  const ModelConfig c = testing::tiny_qk_config();  // head_dim != dim / n_heads
  Settings s;
  s.total = 4;
  s.warmup = 1;
  Pair p = random_pair(c, 12);
  const auto windows = random_windows(c, 8, 6);
  const std::vector<double> want = reference_losses(p.ref, s, windows, 4, 2);
  auto e = engine();
  auto t = Trainer::create(*e, p.w, options_for(s, Pipeline::kDynamic));
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  const std::vector<double> got = trainer_losses(**t, windows, 4, 2);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-3 * want[i]) << "window " << i;
}

TEST(Trainer, ResidualScalingMatchesTheReference) {
  const ModelConfig c = tiny_config();
  Settings s;
  s.total = 4;
  s.warmup = 1;
  Pair p = random_pair(c, 17);
  p.ref.residual_scale = 0.5;
  const auto windows = random_windows(c, 4, 9);
  const std::vector<double> want = reference_losses(p.ref, s, windows, 4, 1);
  TrainerOptions o = options_for(s, Pipeline::kDynamic);
  o.residual_scale = 0.5;
  auto e = engine();
  auto t = Trainer::create(*e, p.w, o);
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  const std::vector<double> got = trainer_losses(**t, windows, 4, 1);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-3 * want[i]) << "step " << i;
  reference::Model unscaled = p.ref;
  unscaled.residual_scale = 1.0;
  EXPECT_GT(std::abs(reference_losses(unscaled, s, windows, 1, 1)[0] - want[0]), 1e-2 * want[0])
      << "the scale must change the loss, or this test checks nothing";
}

// Two layers and five: every static layer after the first shares the first one's surfaces.
TEST(Trainer, PipelinesAgreeClosely) {
  for (int layers : {2, 5}) {
    ModelConfig c = tiny_config();
    c.n_layers = layers;
    const Settings s;
    Pair p = random_pair(c, 13);
    const auto windows = random_windows(c, 6, 7);
    auto e1 = engine(), e2 = engine();
    auto dyn = Trainer::create(*e1, p.w, options_for(s, Pipeline::kDynamic));
    auto sta = Trainer::create(*e2, p.w, options_for(s, Pipeline::kStatic));
    ASSERT_TRUE(dyn.ok() && sta.ok());
    const auto a = trainer_losses(**dyn, windows, 6, 1), b = trainer_losses(**sta, windows, 6, 1);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4 * a[i]) << layers << " layers, step " << i;
    EXPECT_GT((*sta)->times().compile, 0.0);
  }
}

// The static pipeline compiles a kernel of each kind per layer; they run one after another,
// so they share their input and output surfaces (the pipeline's peak memory). The losses
// above are computed on such kernels.
TEST(Trainer, StaticKernelsOfAKindShareTheirSurfaces) {
  ModelConfig c = tiny_config();
  c.n_layers = 5;
  Pair p = random_pair(c, 13);
  auto e = engine();
  auto t = Trainer::create(*e, p.w, options_for(Settings{}, Pipeline::kStatic));
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  for (LayerKernel kind : kLayerKernels) {
    Kernel* first = (*t)->kernels().get(kind, 0).value();
    for (int l = 1; l < c.n_layers; ++l) {
      Kernel* k = (*t)->kernels().get(kind, l).value();
      if (k == first) continue;  // a weight-free kernel serves every layer
      for (size_t i = 0; i < k->num_inputs(); ++i) EXPECT_EQ(k->input(i), first->input(i)) << "layer " << l;
      for (size_t i = 0; i < k->num_outputs(); ++i) EXPECT_EQ(k->output(i), first->output(i)) << "layer " << l;
    }
  }
}

TEST(Trainer, OverflowSkipsTheStepAndHalvesTheScale) {
  const ModelConfig c = tiny_config();
  Pair p = random_pair(c, 14);
  TrainerOptions o = options_for(Settings{}, Pipeline::kDynamic);
  o.loss_scale = 1e30;  // dlogits * 1e30 overflow fp16 on the way into the kernels
  auto e = engine();
  auto t = Trainer::create(*e, p.w, o);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE((*t)->accumulate(random_windows(c, 1, 8)[0]).ok());
  auto r = (*t)->step();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->applied);
  EXPECT_FALSE(std::isfinite(r->grad_norm));
  EXPECT_EQ((*t)->loss_scaler().scale(), 5e29);
  EXPECT_TRUE((*t)->weights() == p.w) << "a skipped step must leave the weights alone";
  EXPECT_EQ((*t)->adam().t(), 0);
}

// The step's norm comes from sums of squares the weight-gradient GEMMs report (the matrices
// are not read again): it must be the norm of the gradients as they stand, for a shared and a
// separate classifier, after two accumulated windows.
TEST(Trainer, StepNormIsTheNormOfTheAccumulatedGradients) {
  for (bool shared : {true, false}) {
    ModelConfig c = tiny_config();
    c.shared_classifier = shared;
    Pair p = random_pair(c, 16);
    auto e = engine();
    auto t = Trainer::create(*e, p.w, options_for(Settings{}, Pipeline::kDynamic));
    ASSERT_TRUE(t.ok()) << t.error().to_string();
    for (const auto& w : random_windows(c, 2, 10)) ASSERT_TRUE((*t)->accumulate(w).ok());
    ThreadPool pool(1);
    const double direct = global_norm((*t)->gradients(), pool) / ((*t)->loss_scaler().scale() * 2);
    auto r = (*t)->step();
    ASSERT_TRUE(r.ok());
    // Both sum squares in fp32 over at most ~100 terms before double takes over (the GEMM per
    // micro-tile, global_norm per 64-lane column): far below 1e-6 relative apart.
    EXPECT_NEAR(r->grad_norm, direct, 1e-6 * direct) << (shared ? "shared" : "separate") << " classifier";
  }
}

TEST(Trainer, StaticPipelineReportsASpentBudget) {
  const ModelConfig c = tiny_config();
  Pair p = random_pair(c, 15);
  // one load is 5 kernels x 2 layers, plus sdpa_backward2: 11 compiles; 15 allow no reload
  auto e = engine(15);
  auto t = Trainer::create(*e, p.w, options_for(Settings{}, Pipeline::kStatic));
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  ASSERT_TRUE((*t)->accumulate(random_windows(c, 1, 9)[0]).ok());
  auto r = (*t)->step();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->applied);
  EXPECT_TRUE(r->kernels_stale);
  auto small = engine(10);
  auto refused = Trainer::create(*small, p.w, options_for(Settings{}, Pipeline::kStatic));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().to_string().find("compile budget"), std::string::npos);
}

TEST(Trainer, BadWindowsAreErrors) {
  const ModelConfig c = tiny_config();
  Pair p = random_pair(c, 16);
  auto e = engine();
  auto t = Trainer::create(*e, p.w, options_for(Settings{}, Pipeline::kDynamic));
  ASSERT_TRUE(t.ok());
  std::vector<uint16_t> w(static_cast<size_t>(c.seq_len), 1);
  auto short_window = (*t)->accumulate(w);
  ASSERT_FALSE(short_window.ok());
  EXPECT_NE(short_window.error().to_string().find("seq_len + 1"), std::string::npos);
  w.push_back(static_cast<uint16_t>(c.vocab_size));
  auto bad_token = (*t)->accumulate(w);
  ASSERT_FALSE(bad_token.ok());
  EXPECT_NE(bad_token.error().to_string().find("outside the vocabulary"), std::string::npos);
  EXPECT_FALSE((*t)->step().ok()) << "no gradients accumulated";
}

// A trainer that only evaluates gives loss() bit for bit as a training one does, and refuses
// to train.
TEST(Trainer, EvaluateOnlyGivesTheSameLossAndKeepsNoGradients) {
  const ModelConfig c = tiny_config();
  Pair p = random_pair(c, 17);
  auto e = engine();
  TrainerOptions o = options_for(Settings{}, Pipeline::kDynamic);
  auto full = Trainer::create(*e, p.w, o);
  o.evaluate_only = true;
  auto eval = Trainer::create(*e, p.w, o);
  ASSERT_TRUE(full.ok() && eval.ok());
  std::mt19937 rng(4);
  std::vector<uint16_t> w(static_cast<size_t>(c.seq_len + 1));
  for (auto& tok : w) tok = static_cast<uint16_t>(rng() % static_cast<uint32_t>(c.vocab_size));
  auto a = (*full)->loss(w), b = (*eval)->loss(w);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_TRUE((*eval)->gradients().layers.empty());
  EXPECT_TRUE((*eval)->adam().m().layers.empty());
  auto refused = (*eval)->accumulate(w);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("only evaluates"), std::string::npos);
  auto no_step = (*eval)->step();
  ASSERT_FALSE(no_step.ok());
  EXPECT_NE(no_step.error().message().find("only evaluates"), std::string::npos) << no_step.error().message();
  EXPECT_FALSE((*eval)->restore_state(Checkpoint{}).ok());
  for (const TensorView& t : (*eval)->state_tensors()) EXPECT_EQ(t.name.rfind("model.", 0), 0u) << t.name;
}

TEST(LrSchedule, WarmupThenCosineToTheFloor) {
  const LrSchedule s{1.0, 0.1, 4, 14};
  EXPECT_DOUBLE_EQ(s.at(0), 0.25);
  EXPECT_DOUBLE_EQ(s.at(3), 1.0);
  EXPECT_DOUBLE_EQ(s.at(4), 1.0);
  EXPECT_NEAR(s.at(9), 0.55, 1e-12);
  EXPECT_DOUBLE_EQ(s.at(14), 0.1);
  EXPECT_DOUBLE_EQ(s.at(100), 0.1);
}

TEST(LossScaler, DynamicHalvesOnOverflowAndGrowsAfterCleanSteps) {
  LossScaler s(1024, true, 3);
  EXPECT_FALSE(s.update(false));
  EXPECT_EQ(s.scale(), 512);
  EXPECT_TRUE(s.update(true));
  EXPECT_TRUE(s.update(true));
  EXPECT_EQ(s.scale(), 512);
  EXPECT_TRUE(s.update(true));
  EXPECT_EQ(s.scale(), 1024);
  LossScaler fixed(256, false);
  EXPECT_FALSE(fixed.update(false));
  EXPECT_EQ(fixed.scale(), 256);
}

TEST(Optimizer, GlobalNormAndScalingAreExactAndThreadCountIndependent) {
  ModelConfig c = tiny_config();
  auto g = ModelWeights::zeros(c).value();
  std::mt19937 rng(3);
  std::normal_distribution<float> d;
  double want = 0;
  for (auto& t : g.tensors())
    for (float& x : t.data) x = d(rng), want += static_cast<double>(x) * x;
  ThreadPool one(1), two(2);
  const double n1 = global_norm(g, one), n2 = global_norm(g, two);
  EXPECT_EQ(n1, n2) << "the sum order must not depend on the threads";
  // Squares are summed in fp32 over 64 terms before double takes over: 1e-7 relative is
  // ample (the error of one such sum is at most 64 * 2^-24 of it, and they do not correlate).
  EXPECT_NEAR(n1, std::sqrt(want), 1e-7 * std::sqrt(want));
  // Sums already known for some tensors stand in for reading them.
  const auto tensors = g.tensors();
  std::vector<std::optional<double>> known(tensors.size());
  for (size_t t = 0; t < known.size(); t += 2) {
    double sum = 0;
    for (float x : tensors[t].data) sum += static_cast<double>(x) * x;
    known[t] = sum;
  }
  EXPECT_NEAR(global_norm(g, two, known), std::sqrt(want), 1e-7 * std::sqrt(want));
  known[0] = *known[0] + 1e6;  // and are trusted, not checked
  EXPECT_GT(global_norm(g, one, known), std::sqrt(want + 1e5));
  zero_all(g, two);
  EXPECT_EQ(global_norm(g, one), 0.0);
}

}  // namespace
}  // namespace ane::train
