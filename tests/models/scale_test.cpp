// The forward kernels at the Stories110M shape (dim 768, 12 heads, hidden 2048, seq 256), and
// the fp16 precision mode (every op rounded to fp16, as the ANE) against the float64
// reference, with the error it achieves printed.
#include <gtest/gtest.h>

#include <cstdio>

#include "harness.h"
#include "models/layer_kernels.h"

namespace ane::testing {
namespace {

using models::KernelGenerator;
using models::WeightSource;
using reference::Vec;

// Checks every tap of attention_forward and ffn_forward; returns the worst relative error.
double worst_forward_error(const ModelConfig& c, Engine& engine, double tol) {
  KernelGenerator gen{c};
  TestWeights w{c, 21};
  const auto S = static_cast<size_t>(c.seq_len);
  RunnableKernel attn = compile_checked(engine, gen.attention_forward(WeightSource::kBaked, &w.views), &w.views);
  RunnableKernel ffn = compile_checked(engine, gen.ffn_forward(WeightSource::kBaked, &w.views), &w.views);
  EXPECT_TRUE(attn.kernel && ffn.kernel);
  if (!attn.kernel || !ffn.kernel) return 1.0;
  double worst = 0;
  auto check = [&](const std::vector<float>& out, const std::vector<const Vec*>& taps) {
    size_t off = 0;
    for (const Vec* want : taps) {
      const double e = rel_err(out, off, *want);
      worst = std::max(worst, e);
      EXPECT_LT(e, tol) << "tap at channel " << off / S;
      off += want->size();
    }
  };
  const Vec x = random_acts(static_cast<size_t>(c.dim) * S, 31);
  const reference::AttentionActs a = reference::attention_forward(c, w.layer, x);
  check(attn.run({&x}), {&a.o, &a.q, &a.k, &a.v, &a.attn, &a.xnorm});
  const reference::FfnActs f = reference::ffn_forward(c, w.layer, x);
  check(ffn.run({&x}), {&f.out, &f.h1, &f.h3, &f.gated, &f.xnorm});
  return worst;
}

TEST(Stories110MShape, ForwardKernelsMatchReference) {
  auto c = model_preset("stories110M");
  ASSERT_TRUE(c.ok());
  c->vocab_size = 512;  // the classifier is not under test here; keeps the reference model small
  auto engine = make_engine();
  const double worst = worst_forward_error(*c, *engine, 4e-3);
  std::printf("stories110M-shape forward kernels, fp32 mode: worst relative error %.2e\n", worst);
}

TEST(Fp16Precision, ForwardKernelsStayWithinFp16Error) {
  auto engine = Engine::create(EngineOptions{.precision = Precision::kFp16, .compile_budget = 0});
  ASSERT_TRUE(engine.ok());
  const double worst = worst_forward_error(tiny_config(), **engine, 3e-2);
  std::printf("tiny forward kernels, fp16 mode: worst relative error %.2e\n", worst);
  EXPECT_GT(worst, 0.0);  // fp16 mode really rounds: it cannot be bit-identical to float64
}

}  // namespace
}  // namespace ane::testing
