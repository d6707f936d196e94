// Elementwise kernels against explicit index loops, and their glue through the backend.
#include "backends/ref/elementwise.h"

#include <gtest/gtest.h>

#include <cmath>

#include "../support/mil_fixture.h"
#include "ref_test_util.h"

namespace ane::ref {
namespace {

using testing::FnBuilder;
using testing::fp32;
using testing::random_tensor;

TEST(Elementwise, BroadcastShapes) {
  EXPECT_EQ(broadcast_shapes({2, 1, 3}, {4, 1}), (Shape{2, 4, 3}));
  EXPECT_EQ(broadcast_shapes({}, {5}), (Shape{5}));
  EXPECT_EQ(broadcast_shapes({1, 768, 1, 256}, {1, 768, 1, 1}), (Shape{1, 768, 1, 256}));
  EXPECT_FALSE(broadcast_shapes({3}, {4}).has_value());
}

TEST(Elementwise, BinaryBroadcastsLikeNumpy) {
  std::mt19937 rng(1);
  const DTensor a = random_tensor({2, 1, 3}, rng);
  const DTensor b = random_tensor({4, 1}, rng);
  DTensor y(fp32({2, 4, 3}));
  binary(a, b, find_binary_fn("sub"), y);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 3; ++k) EXPECT_DOUBLE_EQ(y[(i * 4 + j) * 3 + k], a[i * 3 + k] - b[j]);
}

TEST(Elementwise, ScalarAndRank0Broadcast) {
  std::mt19937 rng(2);
  const DTensor a = random_tensor({3, 5}, rng);
  const DTensor s(fp32({}), {2.5});
  DTensor y(fp32({3, 5}));
  binary(s, a, find_binary_fn("mul"), y);
  for (int i = 0; i < 15; ++i) EXPECT_DOUBLE_EQ(y[i], 2.5 * a[i]);
}

TEST(Elementwise, ScalarFunctionsFollowNumpy) {
  auto f = [](const char* op, double x, double y) { return find_binary_fn(op)(x, y); };
  EXPECT_EQ(f("floor_div", -7, 2), -4);
  EXPECT_EQ(f("mod", -7, 2), 1);
  EXPECT_EQ(f("mod", 7, -2), -1);
  EXPECT_EQ(f("pow", 2, -0.5), std::pow(2.0, -0.5));
  EXPECT_EQ(f("real_div", 1, 4), 0.25);
  EXPECT_EQ(f("maximum", 1, 3), 3);
  EXPECT_TRUE(std::isnan(f("maximum", std::nan(""), 3)));
  EXPECT_EQ(f("minimum", -1, 3), -1);
  EXPECT_EQ(f("less", 1, 2), 1);
  EXPECT_EQ(f("greater_equal", 1, 2), 0);
  EXPECT_EQ(f("logical_xor", 1, 0), 1);
  EXPECT_EQ(find_binary_fn("no_such_op"), nullptr);
}

TEST(Elementwise, SelectBroadcastsAllThree) {
  std::mt19937 rng(3);
  const DTensor cond(fp32({3, 1}), {1, 0, 1});
  const DTensor a = random_tensor({1, 4}, rng);
  const DTensor b(fp32({}), {-9});
  DTensor y(fp32({3, 4}));
  select(cond, a, b, y);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(y[i * 4 + j], cond[i] != 0 ? a[j] : -9.0);
}

TEST(Elementwise, BinaryOpThroughBackendWithLiteral) {
  FnBuilder b;
  auto* x = b.param("x", fp32({2, 3}));
  auto* y = b.op("add", {{"x", x}, {"y", b.float_lit(0.5)}}, fp32({2, 3}));
  auto* z = b.op("pow", {{"x", y}, {"y", b.float_lit(2.0)}}, fp32({2, 3}));
  b.returns({z});
  std::vector<double> in{0, 1, 2, -1, -2, 0.25};
  auto out = testing::run_ref(b.fn(), {in});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  for (size_t i = 0; i < in.size(); ++i) EXPECT_NEAR((*out)[0][i], (in[i] + 0.5) * (in[i] + 0.5), 1e-6);
}

TEST(Elementwise, IntegerResultsStayIntegral) {
  FnBuilder b;
  auto* x = b.param("x", testing::i32({4}));
  auto* y = b.op("real_div", {{"x", x}, {"y", b.lit(mil::Constant::scalar_int(mil::DType::kInt32, 2))}}, testing::i32({4}));
  b.returns({y});
  auto out = testing::run_ref(b.fn(), {{7, -7, 4, 1}});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ((*out)[0], (std::vector<double>{3, -3, 2, 0}));
}

}  // namespace
}  // namespace ane::ref
