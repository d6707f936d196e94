// Reductions over axes (negative, several, all) with keep_dims, against direct loops.
#include "backends/ref/reduce.h"

#include <gtest/gtest.h>

#include <cmath>

#include "../support/mil_fixture.h"
#include "ref_test_util.h"

namespace ane::ref {
namespace {

using testing::FnBuilder;
using testing::fp32;
using testing::random_tensor;

TEST(Reduce, SumMeanMaxMinOverTwoAxes) {
  std::mt19937 rng(31);
  const DTensor x = random_tensor({2, 3, 4}, rng);
  for (const char* op : {"reduce_sum", "reduce_mean", "reduce_max", "reduce_min"}) {
    DTensor y(fp32({3}));
    reduce(x, {0, 2}, find_reduce_fn(op), y);
    for (int c = 0; c < 3; ++c) {
      double sum = 0, mx = -INFINITY, mn = INFINITY;
      for (int n = 0; n < 2; ++n)
        for (int s = 0; s < 4; ++s) {
          const double v = x[(n * 3 + c) * 4 + s];
          sum += v;
          mx = std::max(mx, v);
          mn = std::min(mn, v);
        }
      const std::string name = op;
      const double want = name == "reduce_sum" ? sum : name == "reduce_mean" ? sum / 8 : name == "reduce_max" ? mx : mn;
      EXPECT_NEAR(y[c], want, 1e-14) << op;
    }
  }
}

TEST(Reduce, OtherReductions) {
  const DTensor x(fp32({4}), {1, -2, 3, -4});
  auto r = [&](const char* op) {
    DTensor y(fp32({}));
    reduce(x, {0}, find_reduce_fn(op), y);
    return y[0];
  };
  EXPECT_EQ(r("reduce_prod"), 24);
  EXPECT_EQ(r("reduce_l1_norm"), 10);
  EXPECT_EQ(r("reduce_sum_square"), 30);
  EXPECT_NEAR(r("reduce_l2_norm"), std::sqrt(30.0), 1e-15);
  EXPECT_NEAR(r("reduce_log_sum_exp"), std::log(std::exp(1) + std::exp(-2) + std::exp(3) + std::exp(-4)), 1e-14);
  EXPECT_EQ(r("reduce_argmax"), 2);
  EXPECT_EQ(r("reduce_argmin"), 3);
}

TEST(Reduce, ThroughBackendWithNegativeAxesKeepDimsAndDefaultAll) {
  std::mt19937 rng(32);
  FnBuilder b;
  auto* x = b.param("x", fp32({1, 4, 1, 3}));
  auto* keep = b.op("reduce_sum", {{"x", x}, {"axes", b.ints_lit({-3})}, {"keep_dims", b.bool_lit(true)}},
                    fp32({1, 1, 1, 3}));
  auto* drop = b.op("reduce_mean", {{"x", x}, {"axes", b.ints_lit({1})}}, fp32({1, 1, 3}));
  auto* all = b.op("reduce_max", {{"x", x}}, fp32({}));
  b.returns({keep, drop, all});
  const std::vector<double> in = testing::random_values(12, rng);
  auto out = testing::run_ref(b.fn(), {in});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  double mx = -INFINITY;
  for (int s = 0; s < 3; ++s) {
    double sum = 0;
    for (int c = 0; c < 4; ++c) {
      sum += static_cast<float>(in[c * 3 + s]);
      mx = std::max(mx, static_cast<double>(static_cast<float>(in[c * 3 + s])));
    }
    EXPECT_NEAR((*out)[0][s], sum, 1e-6);
    EXPECT_NEAR((*out)[1][s], sum / 4, 1e-6);
  }
  EXPECT_EQ((*out)[2][0], mx);
}

TEST(Reduce, RejectsDuplicateAndOutOfRangeAxes) {
  for (std::vector<int64_t> axes : {std::vector<int64_t>{1, -1}, std::vector<int64_t>{2}}) {
    FnBuilder b;
    auto* x = b.param("x", fp32({2, 3}));
    b.returns({b.op("reduce_sum", {{"x", x}, {"axes", b.ints_lit(axes)}}, fp32({2}))});
    auto out = testing::run_ref(b.fn(), {{0, 0, 0, 0, 0, 0}});
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.error().message().find("axes"), std::string::npos) << out.error().to_string();
  }
}

}  // namespace
}  // namespace ane::ref
