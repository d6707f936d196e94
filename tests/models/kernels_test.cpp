// Each generated kernel, baked and streamed, run through the Engine against the float64
// reference (tests/models/reference_transformer.*) on fresh random inputs. Inputs and weights
// are fp16 values, so the only differences are fp16 constants (RoPE tables, eps) and the fp16
// rounding of the outputs.
#include <gtest/gtest.h>

#include "harness.h"
#include "models/layer_kernels.h"

namespace ane::testing {
namespace {

using models::KernelGenerator;
using models::WeightSource;
using reference::Vec;

constexpr double kTol = 4e-3;  // fp16 outputs and tables against float64

struct Case {
  const char* name;
  ModelConfig (*config)();
  WeightSource source;
};

class KernelTest : public ::testing::TestWithParam<Case> {
 protected:
  ModelConfig c = GetParam().config();
  WeightSource source = GetParam().source;
  KernelGenerator gen{c};
  TestWeights w{c, 11};
  std::unique_ptr<Engine> engine = make_engine();
  int64_t D = c.dim, H = c.hidden_dim, S = c.seq_len, Q = static_cast<int64_t>(c.q_dim()),
          KV = static_cast<int64_t>(c.kv_dim()), SC = static_cast<int64_t>(c.score_channels());
  size_t sz(int64_t ch) const { return static_cast<size_t>(ch * S); }
  const models::WeightViews* baked() const { return source == WeightSource::kBaked ? &w.views : nullptr; }
};

TEST_P(KernelTest, AttentionForwardMatchesReference) {
  RunnableKernel k = compile_checked(*engine, gen.attention_forward(source, baked()), &w.views);
  ASSERT_TRUE(k.kernel);
  const Vec x = random_acts(sz(D), 1);
  const std::vector<float> out = k.run({&x});
  const reference::AttentionActs a = reference::attention_forward(c, w.layer, x);
  size_t off = 0;
  for (const Vec* want : {&a.o, &a.q, &a.k, &a.v, &a.attn, &a.xnorm}) {
    EXPECT_LT(rel_err(out, off, *want), kTol) << "tap at channel " << off / static_cast<size_t>(S);
    off += want->size();
  }
  if (c.qk_norm) {
    EXPECT_LT(rel_err(out, off, a.q_raw), kTol);
    EXPECT_LT(rel_err(out, off + a.q_raw.size(), a.k_raw), kTol);
    off += a.q_raw.size() + a.k_raw.size();
  }
  EXPECT_EQ(off, out.size());
}

TEST_P(KernelTest, FfnForwardMatchesReference) {
  RunnableKernel k = compile_checked(*engine, gen.ffn_forward(source, baked()), &w.views);
  ASSERT_TRUE(k.kernel);
  const Vec x = random_acts(sz(D), 2);
  const std::vector<float> out = k.run({&x});
  const reference::FfnActs f = reference::ffn_forward(c, w.layer, x);
  size_t off = 0;
  for (const Vec* want : {&f.out, &f.h1, &f.h3, &f.gated, &f.xnorm}) {
    EXPECT_LT(rel_err(out, off, *want), kTol);
    off += want->size();
  }
  EXPECT_EQ(off, out.size());
}

TEST_P(KernelTest, FinalNormAndClassifierMatchReference) {
  const Vec x = random_acts(sz(D), 3);
  RunnableKernel norm = compile_checked(*engine, gen.final_rmsnorm(source, baked()), &w.views);
  RunnableKernel cls = compile_checked(*engine, gen.classifier_forward(source, baked()), &w.views);
  RunnableKernel cls_b = compile_checked(*engine, gen.classifier_backward(source, baked()), &w.views);
  ASSERT_TRUE(norm.kernel && cls.kernel && cls_b.kernel);
  const Vec xn = reference::rmsnorm(x, w.rms_final, D, S, c.norm_eps);
  EXPECT_LT(rel_err(norm.run({&x}), 0, xn), kTol);
  const Vec logits = reference::matvec(w.embedding, x, c.vocab_size, D, S);
  EXPECT_LT(rel_err(cls.run({&x}), 0, logits), kTol);
  const Vec dlogits = random_acts(sz(c.vocab_size), 4);
  Vec et(w.embedding.size());  // embedding^T [D, V]
  for (int64_t v = 0; v < c.vocab_size; ++v)
    for (int64_t d = 0; d < D; ++d) et[static_cast<size_t>(d * c.vocab_size + v)] = w.embedding[static_cast<size_t>(v * D + d)];
  EXPECT_LT(rel_err(cls_b.run({&dlogits}), 0, reference::matvec(et, dlogits, D, c.vocab_size, S)), kTol);
}

TEST_P(KernelTest, RmsnormBackwardMatchesReference) {
  RunnableKernel k = compile_checked(*engine, gen.rmsnorm_backward(models::WeightId::kRmsAtt, source, baked()), &w.views);
  ASSERT_TRUE(k.kernel);
  const Vec dy = random_acts(sz(D), 5), x = random_acts(sz(D), 6);
  Vec dw(static_cast<size_t>(D), 0.0);
  const Vec want = reference::rmsnorm_backward(dy, x, w.layer.rms_att, D, S, c.norm_eps, dw);
  EXPECT_LT(rel_err(k.run({&dy, &x}), 0, want), kTol);
}

TEST_P(KernelTest, FusedProjectionsMatchReference) {
  auto qkv = gen.qkv_projection(source, baked());
  auto up = gen.ffn_up(source, baked());
  ASSERT_TRUE(qkv.ok() && up.ok());
  EXPECT_EQ(qkv->outputs.size(), 3u);
  EXPECT_EQ(up->outputs.size(), 2u);
  expect_round_trip(*qkv);
  expect_round_trip(*up);
  if (source == WeightSource::kBaked) {  // one multi-chunk blob holds every weight
    EXPECT_EQ(qkv->weight_files.size(), 1u);
    EXPECT_EQ(up->weight_files.size(), 1u);
  }
  const Vec x = random_acts(sz(D), 7);
  auto k = models::compile_kernel(*engine, std::move(up).value());
  ASSERT_TRUE(k.ok()) << k.error().to_string();
  // Input 0: x; streamed weights in inputs 1, 2.
  auto in = (*k)->input(0);
  const std::span<half_bits> halves = models::halves_of(*in);
  ASSERT_TRUE(models::write_channels(halves, in->type(), 0, to_float(x), S).ok());
  if (source == WeightSource::kStreamed) {
    auto again = gen.ffn_up(source, nullptr);
    ASSERT_TRUE(again.ok());
    ASSERT_TRUE(models::write_streamed_weights(again->layout(), w.views, **k).ok());
  }
  ASSERT_TRUE((*k)->run().ok());
  for (size_t o = 0; o < 2; ++o) {
    auto out = (*k)->output(o);
    std::vector<float> got(sz(H));
    ASSERT_TRUE(models::read_channels(models::halves_of(std::as_const(*out)),
                                      out->type(), 0, got, S).ok());
    const Vec& wm = o == 0 ? w.layer.w1 : w.layer.w3;
    EXPECT_LT(rel_err(got, 0, reference::matvec(wm, x, H, D, S)), kTol);
  }
}

TEST_P(KernelTest, SoftmaxVocabMatchesReference) {
  RunnableKernel k = compile_checked(*engine, gen.softmax_vocab(), nullptr);
  ASSERT_TRUE(k.kernel);
  const Vec x = random_acts(sz(c.vocab_size), 8, 3.0);
  const std::vector<float> got = k.run({&x});
  Vec want(x.size());
  for (int64_t s = 0; s < S; ++s) {
    double mx = -1e300, sum = 0;
    for (int64_t v = 0; v < c.vocab_size; ++v) mx = std::max(mx, x[static_cast<size_t>(v * S + s)]);
    for (int64_t v = 0; v < c.vocab_size; ++v) sum += std::exp(x[static_cast<size_t>(v * S + s)] - mx);
    for (int64_t v = 0; v < c.vocab_size; ++v) want[static_cast<size_t>(v * S + s)] = std::exp(x[static_cast<size_t>(v * S + s)] - mx) / sum;
  }
  EXPECT_LT(rel_err(got, 0, want), kTol);
}

INSTANTIATE_TEST_SUITE_P(
    Configs, KernelTest,
    ::testing::Values(Case{"TinyBaked", tiny_config, WeightSource::kBaked},
                      Case{"TinyStreamed", tiny_config, WeightSource::kStreamed},
                      Case{"QkNormBaked", tiny_qk_config, WeightSource::kBaked},
                      Case{"QkNormStreamed", tiny_qk_config, WeightSource::kStreamed}),
    [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

TEST(HelperKernels, MatmulAndConvMatchReference) {
  auto engine = make_engine();
  const int64_t in = 24, out = 40, S = 8;
  const Vec x = random_acts(static_cast<size_t>(in * S), 9), wm = random_acts(static_cast<size_t>(out * in), 10);
  const Vec want = reference::matvec(wm, x, out, in, S);
  RunnableKernel conv = compile_checked(*engine, models::conv_kernel(to_float(wm), in, out, S), nullptr);
  ASSERT_TRUE(conv.kernel);
  EXPECT_LT(rel_err(conv.run({&x}), 0, want), kTol);

  auto mm = models::matmul_kernel(in, out, S);
  ASSERT_TRUE(mm.ok()) << mm.error().to_string();
  expect_round_trip(*mm);
  auto k = models::compile_kernel(*engine, std::move(mm).value());
  ASSERT_TRUE(k.ok()) << k.error().to_string();
  const std::vector<float> wf = to_float(wm), xf = to_float(x);
  ASSERT_TRUE((*k)->write_input(0, {reinterpret_cast<const uint8_t*>(wf.data()), wf.size() * 4}).ok());
  ASSERT_TRUE((*k)->write_input(1, {reinterpret_cast<const uint8_t*>(xf.data()), xf.size() * 4}).ok());
  ASSERT_TRUE((*k)->run().ok());
  std::vector<float> got(static_cast<size_t>(out * S));
  ASSERT_TRUE((*k)->read_output(0, {reinterpret_cast<uint8_t*>(got.data()), got.size() * 4}).ok());
  EXPECT_LT(rel_err(got, 0, want), kTol);
}

TEST(HelperKernels, CausalMaskIsCachedPerGenerator) {
  KernelGenerator gen(tiny_config());
  auto a = gen.mask_blob(), b = gen.mask_blob();
  EXPECT_EQ(a.get(), b.get());
  const auto S = static_cast<size_t>(tiny_config().seq_len);
  ASSERT_EQ(a->size(), 128 + S * S * 2);
  const auto* h = reinterpret_cast<const half_bits*>(a->data() + 128);
  EXPECT_EQ(half_to_float(h[0 * S + 0]), 0.0f);
  EXPECT_EQ(half_to_float(h[5 * S + 3]), 0.0f);
  EXPECT_EQ(half_to_float(h[3 * S + 5]), -65504.0f);
}

// The kernels that form attention probabilities under the causal mask skip its masked half
// on the cpu backend (bitwise the same results: tests/cpu/causal_test.cpp).
TEST_P(KernelTest, AttentionKernelsSkipTheMaskedHalf) {
  for (bool forward : {true, false}) {
    RunnableKernel k = compile_checked(
        *engine, forward ? gen.attention_forward(source, baked()) : gen.sdpa_backward1(source, baked()), &w.views);
    ASSERT_TRUE(k.kernel);
    EXPECT_EQ(k.kernel->stats().causal_softmaxes, 1) << k.layout.name;
    // Zero inputs: the scores are 0, so a run skips in each head's scores product and P's.
    ASSERT_TRUE(k.kernel->run().ok());
    EXPECT_EQ(k.kernel->stats().triangle_products, 2 * c.n_heads) << k.layout.name;
  }
}

TEST(HelperKernels, BakedKernelWithoutWeightsIsAnError) {
  KernelGenerator gen(tiny_config());
  auto k = gen.attention_forward(WeightSource::kBaked, nullptr);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().message().find("baked weights"), std::string::npos);
  models::WeightViews missing;
  auto k2 = gen.ffn_forward(WeightSource::kBaked, &missing);
  ASSERT_FALSE(k2.ok());
  EXPECT_NE(k2.error().message().find("rms_ffn"), std::string::npos) << k2.error().message();
}

}  // namespace
}  // namespace ane::testing
