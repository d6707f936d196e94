// Activation kernels: softmax, layer_norm, gelu modes and the parametric activations.
#include "backends/ref/activation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "../support/mil_fixture.h"
#include "ref_test_util.h"

namespace ane::ref {
namespace {

using testing::FnBuilder;
using testing::fp32;
using testing::random_tensor;

TEST(Activation, SoftmaxRowsSumToOneAndMatchExpOverSum) {
  std::mt19937 rng(11);
  const DTensor x = random_tensor({2, 5, 3}, rng, -20, 20);
  DTensor y(x.type);
  softmax(x, 1, y);
  for (int n = 0; n < 2; ++n) {
    for (int s = 0; s < 3; ++s) {
      double denom = 0, total = 0;
      for (int c = 0; c < 5; ++c) denom += std::exp(x[(n * 5 + c) * 3 + s]);
      for (int c = 0; c < 5; ++c) {
        const double got = y[(n * 5 + c) * 3 + s];
        EXPECT_NEAR(got, std::exp(x[(n * 5 + c) * 3 + s]) / denom, 1e-14);
        total += got;
      }
      EXPECT_NEAR(total, 1.0, 1e-14);
    }
  }
}

TEST(Activation, SoftmaxIsStableForLargeInputs) {
  const DTensor x(fp32({3}), {1000, 1001, 1002});
  DTensor y(x.type);
  softmax(x, 0, y);
  const double e = std::exp(1.0), d = 1 + e + e * e;
  EXPECT_NEAR(y[0], 1 / d, 1e-15);
  EXPECT_NEAR(y[2], e * e / d, 1e-15);
}

TEST(Activation, LayerNormMatchesDirectMeanAndVariance) {
  std::mt19937 rng(12);
  const DTensor x = random_tensor({2, 3, 4}, rng, -3, 3);
  const DTensor gamma = random_tensor({3, 4}, rng);
  const DTensor beta = random_tensor({3, 4}, rng);
  DTensor y(x.type);
  layer_norm(x, {1, 2}, &gamma, &beta, 1e-5, y);
  for (int n = 0; n < 2; ++n) {
    double mean = 0, var = 0;
    for (int i = 0; i < 12; ++i) mean += x[n * 12 + i] / 12;
    for (int i = 0; i < 12; ++i) var += (x[n * 12 + i] - mean) * (x[n * 12 + i] - mean) / 12;
    for (int i = 0; i < 12; ++i) {
      EXPECT_NEAR(y[n * 12 + i], (x[n * 12 + i] - mean) / std::sqrt(var + 1e-5) * gamma[i] + beta[i], 1e-12);
    }
  }
}

TEST(Activation, LayerNormOverChannelAxisOfNCHW) {
  std::mt19937 rng(13);
  const DTensor x = random_tensor({1, 4, 1, 3}, rng);
  DTensor y(x.type);
  layer_norm(x, {1}, nullptr, nullptr, 0.0, y);
  for (int s = 0; s < 3; ++s) {
    double mean = 0, sq = 0;
    for (int c = 0; c < 4; ++c) mean += y[c * 3 + s] / 4;
    for (int c = 0; c < 4; ++c) sq += y[c * 3 + s] * y[c * 3 + s] / 4;
    EXPECT_NEAR(mean, 0.0, 1e-12);
    EXPECT_NEAR(sq, 1.0, 1e-12);
  }
}

TEST(Activation, GeluModesAtKnownPoints) {
  EXPECT_NEAR(gelu(1.0, GeluMode::kExact), 0.8413447460685429, 1e-15);
  EXPECT_NEAR(gelu(-2.0, GeluMode::kExact), -0.04550026389635842, 1e-15);
  EXPECT_NEAR(gelu(1.0, GeluMode::kTanhApproximation), 0.8411919906082768, 1e-15);
  EXPECT_NEAR(gelu(1.0, GeluMode::kSigmoidApproximation), 1.0 / (1.0 + std::exp(-1.702)), 1e-15);
}

// Unary activations through the backend, with their parameters' defaults.
TEST(Activation, UnaryOpsThroughBackend) {
  FnBuilder b;
  auto* x = b.param("x", fp32({5}));
  std::vector<mil::Value*> outs{
      b.op("relu", {{"x", x}}, fp32({5})),
      b.op("silu", {{"x", x}}, fp32({5})),
      b.op("clip", {{"x", x}, {"alpha", b.float_lit(-0.5)}, {"beta", b.float_lit(0.5)}}, fp32({5})),
      b.op("gelu", {{"x", x}, {"mode", b.string_lit("TANH_APPROXIMATION")}}, fp32({5})),
      b.op("inverse", {{"x", x}}, fp32({5})),
  };
  b.returns(outs);
  const std::vector<double> in{-2, -0.25, 0.5, 1, 3};
  auto out = testing::run_ref(b.fn(), {in});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  for (size_t i = 0; i < in.size(); ++i) {
    const double v = in[i];
    EXPECT_NEAR((*out)[0][i], v > 0 ? v : 0, 1e-6);
    EXPECT_NEAR((*out)[1][i], v / (1 + std::exp(-v)), 1e-6);
    EXPECT_NEAR((*out)[2][i], std::min(std::max(v, -0.5), 0.5), 1e-6);
    EXPECT_NEAR((*out)[3][i], gelu(v, GeluMode::kTanhApproximation), 1e-6);
    EXPECT_NEAR((*out)[4][i], 1 / (v + 1e-4), 1e-6 * std::abs(1 / (v + 1e-4)));  // default epsilon
  }
}

TEST(Activation, ClipWithoutBoundsIsAnError) {
  FnBuilder b;
  auto* x = b.param("x", fp32({5}));
  b.returns({b.op("clip", {{"x", x}}, fp32({5}))});
  auto out = testing::run_ref(b.fn(), {{0, 0, 0, 0, 0}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message().find("alpha"), std::string::npos) << out.error().to_string();
}

TEST(Activation, SoftmaxAndLayerNormThroughBackend) {
  std::mt19937 rng(14);
  FnBuilder b;
  auto* x = b.param("x", fp32({2, 3}));
  auto* s = b.op("softmax", {{"x", x}}, fp32({2, 3}));  // axis defaults to -1
  auto* ln = b.op("layer_norm", {{"x", x}, {"axes", b.ints_lit({-1})}, {"epsilon", b.float_lit(0.0)}}, fp32({2, 3}));
  b.returns({s, ln});
  const std::vector<double> in = testing::random_values(6, rng);
  auto out = testing::run_ref(b.fn(), {in});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  for (int r = 0; r < 2; ++r) {
    double sum = 0;
    for (int c = 0; c < 3; ++c) sum += (*out)[0][r * 3 + c];
    EXPECT_NEAR(sum, 1.0, 1e-6);
  }
}

}  // namespace
}  // namespace ane::ref
