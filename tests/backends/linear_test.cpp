// conv, matmul and linear against independent direct definitions.
#include "backends/ref/linear.h"

#include <gtest/gtest.h>

#include "../support/mil_fixture.h"
#include "ref_test_util.h"

namespace ane::ref {
namespace {

using testing::FnBuilder;
using testing::fp32;
using testing::random_tensor;

// Direct definition, written per output element and in a different loop order from the kernel.
double conv_at(const DTensor& x, const DTensor& w, const ConvParams& p, int64_t n, int64_t co, int64_t oy, int64_t ox) {
  const int64_t cin = x.dim(1), h = x.dim(2), wd = x.dim(3);
  const int64_t cin_g = w.dim(1), kh = w.dim(2), kw = w.dim(3), cout_g = w.dim(0) / p.groups;
  double acc = 0;
  for (int64_t ky = 0; ky < kh; ++ky) {
    for (int64_t kx = 0; kx < kw; ++kx) {
      const int64_t iy = oy * p.strides[0] + ky * p.dilations[0] - p.pad[0];
      const int64_t ix = ox * p.strides[1] + kx * p.dilations[1] - p.pad[2];
      if (iy < 0 || ix < 0 || iy >= h || ix >= wd) continue;
      for (int64_t ci = 0; ci < cin_g; ++ci) {
        const int64_t c = (co / cout_g) * cin_g + ci;
        acc += x[((n * cin + c) * h + iy) * wd + ix] * w[((co * cin_g + ci) * kh + ky) * kw + kx];
      }
    }
  }
  return acc;
}

TEST(Linear, Conv1x1IsAMatmulOverChannels) {
  std::mt19937 rng(21);
  const int64_t cin = 64, cout = 48, seq = 32;
  const DTensor x = random_tensor({1, cin, 1, seq}, rng);
  const DTensor w = random_tensor({cout, cin, 1, 1}, rng);
  DTensor y(fp32({1, cout, 1, seq}));
  conv(x, w, nullptr, ConvParams{}, y);
  for (int64_t o = 0; o < cout; ++o) {
    for (int64_t s = 0; s < seq; ++s) {
      double acc = 0;
      for (int64_t i = 0; i < cin; ++i) acc += w[o * cin + i] * x[i * seq + s];
      ASSERT_NEAR(y[o * seq + s], acc, 1e-12);
    }
  }
}

struct ConvCase {
  int64_t n, cin, h, w, cout, kh, kw, groups;
  ConvParams p;
};

TEST(Linear, ConvGeneralMatchesDirectDefinition) {
  std::mt19937 rng(22);
  const ConvCase cases[] = {
      {1, 3, 7, 9, 4, 3, 3, 1, {{1, 1}, {1, 1}, {1, 1, 1, 1}, 1}},
      {2, 4, 8, 6, 6, 3, 2, 2, {{2, 1}, {1, 2}, {0, 1, 2, 0}, 2}},
      {1, 6, 5, 5, 6, 2, 2, 6, {{1, 2}, {2, 1}, {0, 0, 0, 0}, 6}},  // depthwise
      {1, 2, 1, 11, 3, 1, 3, 1, {{1, 3}, {1, 2}, {0, 0, 3, 1}, 1}},
  };
  for (const ConvCase& c : cases) {
    const DTensor x = random_tensor({c.n, c.cin, c.h, c.w}, rng);
    const DTensor w = random_tensor({c.cout, c.cin / c.groups, c.kh, c.kw}, rng);
    const DTensor bias = random_tensor({c.cout}, rng);
    ConvParams p = c.p;
    p.groups = c.groups;
    const int64_t oh = conv_output_size(c.h, c.kh, p.strides[0], p.dilations[0], p.pad[0], p.pad[1]);
    const int64_t ow = conv_output_size(c.w, c.kw, p.strides[1], p.dilations[1], p.pad[2], p.pad[3]);
    DTensor y(fp32({c.n, c.cout, oh, ow}));
    conv(x, w, &bias, p, y);
    for (int64_t n = 0; n < c.n; ++n)
      for (int64_t co = 0; co < c.cout; ++co)
        for (int64_t oy = 0; oy < oh; ++oy)
          for (int64_t ox = 0; ox < ow; ++ox)
            ASSERT_NEAR(y[((n * c.cout + co) * oh + oy) * ow + ox], conv_at(x, w, p, n, co, oy, ox) + bias[co], 1e-12)
                << "case cin=" << c.cin << " groups=" << c.groups;
  }
}

// pad_type = same through the backend: out = ceil(in / stride), odd padding at the end.
TEST(Linear, ConvPadTypeSameThroughBackend) {
  std::mt19937 rng(23);
  for (const char* pad_type : {"same", "same_lower"}) {
    FnBuilder b;
    auto* x = b.param("x", fp32({1, 2, 5, 6}));
    const DTensor w = random_tensor({3, 2, 3, 2}, rng);
    auto* wv = b.constant("w", mil::Constant::float_tensor(mil::DType::kFp32, {3, 2, 3, 2},
                                                          std::vector<float>(w.data.begin(), w.data.end())));
    auto* y = b.op("conv",
                   {{"x", x}, {"weight", wv}, {"strides", b.ints_lit({2, 2})}, {"pad_type", b.string_lit(pad_type)},
                    {"dilations", b.ints_lit({1, 1})}, {"groups", b.int_lit(1)}},
                   fp32({1, 3, 3, 3}));
    b.returns({y});
    const std::vector<double> in = testing::random_values(60, rng);
    auto out = testing::run_ref(b.fn(), {in});
    ASSERT_TRUE(out.ok()) << out.error().to_string();
    // h: total pad (3-1)*2+3-5 = 2 -> 1 and 1; w: (3-1)*2+2-6 = 0. Both modes agree on
    // even totals; the odd case is the next test.
    const ConvParams p{{2, 2}, {1, 1}, {1, 1, 0, 0}, 1};
    DTensor xin(fp32({1, 2, 5, 6}), std::vector<double>(in.begin(), in.end()));
    DTensor wf(fp32({3, 2, 3, 2}));
    for (size_t i = 0; i < w.size(); ++i) wf.data[i] = static_cast<float>(w.data[i]);
    for (int64_t co = 0; co < 3; ++co)
      for (int64_t oy = 0; oy < 3; ++oy)
        for (int64_t ox = 0; ox < 3; ++ox)
          EXPECT_NEAR((*out)[0][(co * 3 + oy) * 3 + ox], conv_at(xin, wf, p, 0, co, oy, ox), 1e-5);
  }
}

TEST(Linear, ConvSamePutsOddPaddingAtTheEndOrStart) {
  for (const char* pad_type : {"same", "same_lower"}) {
    FnBuilder b;
    auto* x = b.param("x", fp32({1, 1, 1, 4}));
    auto* wv = b.constant("w", mil::Constant::float_tensor(mil::DType::kFp32, {1, 1, 1, 2}, {1, 10}));
    b.returns({b.op("conv", {{"x", x}, {"weight", wv}, {"pad_type", b.string_lit(pad_type)}}, fp32({1, 1, 1, 4}))});
    auto out = testing::run_ref(b.fn(), {{1, 2, 3, 4}});
    ASSERT_TRUE(out.ok()) << out.error().to_string();
    // Kernel 2, total pad 1: same -> [x0..x3, 0]; same_lower -> [0, x0..x3].
    const std::vector<double> want = std::string(pad_type) == "same" ? std::vector<double>{21, 32, 43, 4}
                                                                     : std::vector<double>{10, 21, 32, 43};
    EXPECT_EQ((*out)[0], want) << pad_type;
  }
}

TEST(Linear, Conv1DThroughBackendWithCustomPadAndBias) {
  FnBuilder b;
  auto* x = b.param("x", fp32({1, 1, 3}));
  auto* wv = b.constant("w", mil::Constant::float_tensor(mil::DType::kFp32, {1, 1, 2}, {1, 2}));
  auto* bias = b.constant("b", mil::Constant::float_tensor(mil::DType::kFp32, {1}, {100}));
  b.returns({b.op("conv", {{"x", x}, {"weight", wv}, {"bias", bias}, {"pad_type", b.string_lit("custom")},
                           {"pad", b.ints_lit({1, 0})}},
                  fp32({1, 1, 3}))});
  auto out = testing::run_ref(b.fn(), {{1, 2, 3}});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ((*out)[0], (std::vector<double>{102, 105, 108}));
}

double naive_mm(const DTensor& x, const DTensor& y, int64_t bx, int64_t by, bool tx, bool ty, int64_t m, int64_t k,
                int64_t n, int64_t i, int64_t j) {
  double acc = 0;
  for (int64_t kk = 0; kk < k; ++kk) {
    const double a = tx ? x[bx * m * k + kk * m + i] : x[bx * m * k + i * k + kk];
    const double c = ty ? y[by * k * n + j * k + kk] : y[by * k * n + kk * n + j];
    acc += a * c;
  }
  return acc;
}

TEST(Linear, MatmulTransposesAndBatchBroadcasting) {
  std::mt19937 rng(24);
  const int64_t m = 3, k = 5, n = 4;
  for (bool tx : {false, true}) {
    for (bool ty : {false, true}) {
      // x: [2, 1, m, k] (or k, m), y: [3, k, n] (or n, k): batch broadcasts to [2, 3].
      const DTensor x = random_tensor(tx ? Shape{2, 1, k, m} : Shape{2, 1, m, k}, rng);
      const DTensor y = random_tensor(ty ? Shape{3, n, k} : Shape{3, k, n}, rng);
      const MatmulDims d = matmul_dims(x.shape(), y.shape(), tx, ty);
      ASSERT_TRUE(d.valid);
      ASSERT_EQ(d.out_shape, (Shape{2, 3, m, n}));
      DTensor out(fp32(d.out_shape));
      matmul(x, y, tx, ty, out);
      for (int64_t b0 = 0; b0 < 2; ++b0)
        for (int64_t b1 = 0; b1 < 3; ++b1)
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j)
              ASSERT_NEAR(out[((b0 * 3 + b1) * m + i) * n + j], naive_mm(x, y, b0, b1, tx, ty, m, k, n, i, j), 1e-12)
                  << "tx=" << tx << " ty=" << ty;
    }
  }
}

TEST(Linear, MatmulRank1Rules) {
  std::mt19937 rng(25);
  const DTensor v = random_tensor({4}, rng);
  const DTensor a = random_tensor({2, 4, 3}, rng);
  const MatmulDims d = matmul_dims(v.shape(), a.shape(), false, false);
  ASSERT_TRUE(d.valid);
  EXPECT_EQ(d.out_shape, (Shape{2, 3}));
  DTensor out(fp32(d.out_shape));
  matmul(v, a, false, false, out);
  for (int b = 0; b < 2; ++b)
    for (int j = 0; j < 3; ++j) {
      double acc = 0;
      for (int kk = 0; kk < 4; ++kk) acc += v[kk] * a[(b * 4 + kk) * 3 + j];
      EXPECT_NEAR(out[b * 3 + j], acc, 1e-12);
    }
  const DTensor u = random_tensor({4}, rng);
  EXPECT_EQ(matmul_dims(v.shape(), u.shape(), false, false).out_shape, Shape{});
  DTensor dot(fp32({}));
  matmul(v, u, false, false, dot);
  double acc = 0;
  for (int kk = 0; kk < 4; ++kk) acc += v[kk] * u[kk];
  EXPECT_NEAR(dot[0], acc, 1e-12);
  EXPECT_FALSE(matmul_dims({2, 3}, {4, 5}, false, false).valid);
}

TEST(Linear, LinearIsXWeightTransposePlusBias) {
  std::mt19937 rng(26);
  const DTensor x = random_tensor({2, 3, 5}, rng);
  const DTensor w = random_tensor({4, 5}, rng);
  const DTensor bias = random_tensor({4}, rng);
  DTensor y(fp32({2, 3, 4}));
  linear(x, w, &bias, y);
  for (int r = 0; r < 6; ++r)
    for (int o = 0; o < 4; ++o) {
      double acc = bias[o];
      for (int i = 0; i < 5; ++i) acc += x[r * 5 + i] * w[o * 5 + i];
      EXPECT_NEAR(y[r * 4 + o], acc, 1e-12);
    }
}

TEST(Linear, MatmulThroughBackendChecksShapes) {
  FnBuilder b;
  auto* x = b.param("x", fp32({2, 3}));
  auto* y = b.param("y", fp32({2, 4}));
  b.returns({b.op("matmul", {{"x", x}, {"y", y}, {"transpose_x", b.bool_lit(true)}}, fp32({3, 4}))});
  auto out = testing::run_ref(b.fn(), {{1, 2, 3, 4, 5, 6}, {1, 0, 0, 0, 0, 1, 0, 0}});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ((*out)[0], (std::vector<double>{1, 4, 0, 0, 2, 5, 0, 0, 3, 6, 0, 0}));

  FnBuilder bad;
  auto* bx = bad.param("x", fp32({2, 3}));
  bad.returns({bad.op("matmul", {{"x", bx}, {"y", bad.param("y", fp32({2, 4}))}}, fp32({2, 4}))});
  auto err = testing::run_ref(bad.fn(), {{0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}});
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().to_string().find("test.mil:"), std::string::npos) << err.error().to_string();
}

// The size the trainer uses (a 768x768 projection over 256 positions), where the kernel's
// blocking differs from the small cases: random outputs against the direct definition.
TEST(Linear, Conv1x1AtModelSizeMatchesTheDirectDefinition) {
  std::mt19937 rng(27);
  const DTensor x = random_tensor({1, 768, 1, 256}, rng);
  const DTensor w = random_tensor({768, 768, 1, 1}, rng);
  DTensor y(fp32({1, 768, 1, 256}));
  conv(x, w, nullptr, ConvParams{}, y);
  std::uniform_int_distribution<int64_t> channel(0, 767), position(0, 255);
  for (int trial = 0; trial < 64; ++trial) {
    const int64_t co = channel(rng), s = position(rng);
    EXPECT_NEAR(y[co * 256 + s], conv_at(x, w, ConvParams{}, 0, co, 0, s), 1e-10) << "y[" << co << ", " << s << "]";
  }
}

}  // namespace
}  // namespace ane::ref
