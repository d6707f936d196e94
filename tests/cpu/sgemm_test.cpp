// cpu::sgemm (our blocking and packing around a micro-kernel) against a float64 product, with
// each micro-kernel this CPU runs (BLIS's; our AVX-512 one): random shapes across the
// micro-tile and cache-block edges, every transpose, padded row strides, beta 0 (c must not
// be read), 1 and 0.5, fp16 operands, 1 to 3 threads. Elements of c
// outside the product (row padding, after the end) must stay untouched. Triangular operands and
// a wanted triangle of c (Structure) give, where c is wanted, exactly the full product's bits.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backends/cpu/blas.h"
#include "backends/cpu/kernels.h"
#include "core/fp16.h"

namespace ane::cpu {
namespace {

int64_t pick(std::mt19937& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

// A stored operand: rows x cols logical, kept row-major or (transposed) column-major with
// padding between its stored lines, as fp32 or fp16.
struct Operand {
  int64_t rows, cols, ld;
  bool transposed, fp16;
  std::vector<float> values;    // logical (i, j) at i * cols + j, exactly representable when fp16
  std::vector<float> stored;    // the storage sgemm reads (fp32)
  std::vector<half_bits> halves;  // or this (fp16)

  // Logical zeros outside `zeros`' triangle (lower: j <= i may be nonzero; upper: j >= i).
  Operand(std::mt19937& rng, int64_t r, int64_t c, bool t, bool half, Triangle zeros = Triangle::kFull)
      : rows(r), cols(c), ld((t ? r : c) + pick(rng, 0, 3)), transposed(t), fp16(half),
        values(static_cast<size_t>(r * c)) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (int64_t i = 0; i < r; ++i) {
      for (int64_t j = 0; j < c; ++j) {
        const bool zero = (zeros == Triangle::kLower && j > i) || (zeros == Triangle::kUpper && j < i);
        values[static_cast<size_t>(i * c + j)] = zero ? 0.0f : half ? round_to_half(u(rng)) : u(rng);
      }
    }
    const int64_t lines = t ? c : r;
    stored.assign(static_cast<size_t>(lines * ld), NAN);  // padding poisoned: must not be read
    for (int64_t i = 0; i < r; ++i) {
      for (int64_t j = 0; j < c; ++j) stored[static_cast<size_t>(t ? j * ld + i : i * ld + j)] = at(i, j);
    }
    if (half) {
      halves.resize(stored.size());
      for (size_t i = 0; i < stored.size(); ++i) halves[i] = float_to_half(stored[i]);
    }
  }
  float at(int64_t i, int64_t j) const { return values[static_cast<size_t>(i * cols + j)]; }
  MatrixRef ref() const {
    const int64_t rs = transposed ? 1 : ld, cs = transposed ? ld : 1;
    return fp16 ? MatrixRef{nullptr, rs, cs, halves.data()} : MatrixRef{stored.data(), rs, cs};
  }
};

struct Case {
  int64_t m, n, k;
  bool ta, tb, ha, hb;
  float beta;
  int threads;
};

class SgemmKernel : public ::testing::TestWithParam<GemmKernel> {
 protected:
  void SetUp() override {
    if (!gemm_kernel_available(GetParam())) GTEST_SKIP() << "this CPU cannot run the kernel";
  }
  GemmOptions options(Structure st = {}, double* squares = nullptr) const { return {st, squares, GetParam()}; }
};

void check(const Case& c, const GemmOptions& options, std::mt19937& rng, const std::string& what) {
  SCOPED_TRACE(what);
  const Operand a(rng, c.m, c.k, c.ta, c.ha), b(rng, c.k, c.n, c.tb, c.hb);
  const int64_t ldc = c.n + pick(rng, 0, 5);
  constexpr float kSentinel = 12345.0f;
  std::vector<float> out(static_cast<size_t>(c.m * ldc + 7), kSentinel), before;
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) out[static_cast<size_t>(i * ldc + j)] = c.beta == 0.0f ? NAN : u(rng);
  }
  before = out;
  ThreadPool pool(c.threads);
  sgemm(a.ref(), b.ref(), out.data(), ldc, c.m, c.n, c.k, c.beta, &pool, options);
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      double want = 0, scale = 0;
      for (int64_t p = 0; p < c.k; ++p) {
        want += static_cast<double>(a.at(i, p)) * b.at(p, j);
        scale += std::fabs(static_cast<double>(a.at(i, p)) * b.at(p, j));
      }
      const size_t o = static_cast<size_t>(i * ldc + j);
      if (c.beta != 0.0f) {
        want += static_cast<double>(c.beta) * before[o];
        scale += std::fabs(static_cast<double>(c.beta) * before[o]);
      }
      // fp32 accumulation over k terms: error grows with k times the magnitude of the terms.
      ASSERT_NEAR(out[o], want, 4e-7 * (static_cast<double>(c.k) + 4) * (scale + 1e-30)) << "c[" << i << ", " << j << "]";
    }
  }
  for (size_t o = 0; o < out.size(); ++o) {
    const int64_t i = static_cast<int64_t>(o) / ldc, j = static_cast<int64_t>(o) % ldc;
    if (i >= c.m || j >= c.n) ASSERT_EQ(out[o], kSentinel) << "written outside c at element " << o;
  }
}

TEST_P(SgemmKernel, MatchesFloat64OnRandomShapesLayoutsAndThreads) {
  std::mt19937 rng(20261126);
  for (int trial = 0; trial < 80; ++trial) {
    Case c;
    // Mostly around the micro-tiles (6 x 16, 12 x 32); sometimes past a 256-deep k block or a
    // 144-row block.
    c.m = pick(rng, 0, 3) == 0 ? pick(rng, 150, 400) : pick(rng, 1, 40);
    c.n = pick(rng, 0, 3) == 0 ? pick(rng, 100, 300) : pick(rng, 1, 40);
    c.k = pick(rng, 0, 3) == 0 ? pick(rng, 250, 600) : pick(rng, 1, 70);
    c.ta = pick(rng, 0, 1) == 1;
    c.tb = pick(rng, 0, 1) == 1;
    c.ha = pick(rng, 0, 2) == 0;
    c.hb = pick(rng, 0, 2) == 0;
    const float betas[] = {0.0f, 1.0f, 0.5f};
    c.beta = betas[pick(rng, 0, 2)];
    c.threads = static_cast<int>(pick(rng, 1, 3));
    check(c, options(), rng,
          "trial " + std::to_string(trial) + ": " + std::to_string(c.m) + "x" + std::to_string(c.n) + "x" +
              std::to_string(c.k) + (c.ta ? " aT" : "") + (c.tb ? " bT" : "") + (c.ha ? " a16" : "") +
              (c.hb ? " b16" : "") + " beta " + std::to_string(c.beta) + " threads " + std::to_string(c.threads));
  }
}

TEST_P(SgemmKernel, LargeProductSplitOverThreadsMatches) {
  std::mt19937 rng(7);
  for (int threads : {2, 3}) check({301, 275, 530, false, true, false, true, 0.0f, threads}, options(), rng, "large");
}

bool in_triangle(Triangle t, int64_t i, int64_t j) {
  return t == Triangle::kFull || (t == Triangle::kLower ? j <= i : j >= i);
}

// A structured product against the same product run without its structure.
void check_structured(const Structure& st, GemmKernel kernel, int64_t s, int64_t other, bool ta, bool tb, float beta,
                      int threads, std::mt19937& rng, const std::string& what) {
  SCOPED_TRACE(what);
  // Square where a triangle needs it: a is s x s when structured (else s x other), and so on.
  const int64_t m = s, k = st.a != Triangle::kFull || st.b != Triangle::kFull ? s : other;
  const int64_t n = st.b != Triangle::kFull || st.c != Triangle::kFull ? s : other;
  const Operand a(rng, m, k, ta, false, st.a), b(rng, k, n, tb, pick(rng, 0, 1) == 1, st.b);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> full(static_cast<size_t>(m * n));
  for (float& x : full) x = u(rng);
  const std::vector<float> before = full;
  std::vector<float> skipped = full;
  ThreadPool pool(threads);
  sgemm(a.ref(), b.ref(), full.data(), n, m, n, k, beta, &pool, {{}, nullptr, kernel});
  sgemm(a.ref(), b.ref(), skipped.data(), n, m, n, k, beta, &pool, {st, nullptr, kernel});
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const size_t o = static_cast<size_t>(i * n + j);
      if (in_triangle(st.c, i, j)) {
        ASSERT_EQ(skipped[o], full[o]) << "c[" << i << ", " << j << "]";
      } else if (skipped[o] != beta * before[o]) {  // outside: a skipped tile's beta * c, or computed
        ASSERT_EQ(skipped[o], full[o]) << "c[" << i << ", " << j << "] outside the wanted triangle";
      }
    }
  }
}

TEST_P(SgemmKernel, TriangularOperandsAndWantedTriangleGiveTheFullProductsBits) {
  std::mt19937 rng(4242);
  const Triangle kinds[] = {Triangle::kFull, Triangle::kLower, Triangle::kUpper};
  int trial = 0;
  for (Triangle ta : kinds) {
    for (Triangle tb : kinds) {
      for (Triangle tc : kinds) {
        if (ta == Triangle::kFull && tb == Triangle::kFull && tc == Triangle::kFull) continue;
        for (int rep = 0; rep < 3; ++rep, ++trial) {
          // Past a 256-deep k block and a row block sometimes; across micro-tile edges always.
          const int64_t s = rep == 0 ? pick(rng, 257, 330) : pick(rng, 1, 90);
          const bool tra = pick(rng, 0, 1) == 1, trb = pick(rng, 0, 1) == 1;
          const float beta = pick(rng, 0, 1) == 0 ? 0.0f : 1.0f;
          const int threads = static_cast<int>(pick(rng, 1, 2));
          check_structured({ta, tb, tc}, GetParam(), s, pick(rng, 1, 70), tra, trb, beta, threads, rng,
                           "trial " + std::to_string(trial) + " s " + std::to_string(s) + " triangles " +
                               std::to_string(int(ta)) + std::to_string(int(tb)) + std::to_string(int(tc)) +
                               (tra ? " aT" : "") + (trb ? " bT" : "") + " beta " + std::to_string(beta));
        }
      }
    }
  }
}

// The sum of c's squares that sgemm can return: against float64 over the result, and the
// same bits whatever the thread count (the trainer's gradient norm relies on both).
TEST_P(SgemmKernel, SumOfSquaresOfTheResult) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 12; ++trial) {
    const int64_t m = pick(rng, 1, 300), n = pick(rng, 1, 200), k = pick(rng, 1, 600);
    const Operand a(rng, m, k, pick(rng, 0, 1) == 1, false), b(rng, k, n, pick(rng, 0, 1) == 1, pick(rng, 0, 1) == 1);
    const float beta = pick(rng, 0, 1) == 0 ? 0.0f : 1.0f;
    std::vector<float> start(static_cast<size_t>(m * n));
    for (float& x : start) x = std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng);
    double first = -1;
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE("trial " + std::to_string(trial) + " threads " + std::to_string(threads));
      std::vector<float> c = start;
      ThreadPool pool(threads);
      double squares = -1;
      sgemm(a.ref(), b.ref(), c.data(), n, m, n, k, beta, &pool, options({}, &squares));
      double want = 0;
      for (float x : c) want += static_cast<double>(x) * x;
      EXPECT_NEAR(squares, want, 1e-6 * want);
      if (first < 0) first = squares;
      EXPECT_EQ(squares, first) << "depends on the thread count";
    }
  }
}

TEST(Sgemm, EmptyDepthScalesC) {
  std::vector<float> c = {1.0f, NAN, 3.0f, 4.0f};
  const float a = 0, b = 0;
  sgemm({&a, 1, 1}, {&b, 1, 1}, c.data(), 2, 2, 2, 0, 0.0f);
  EXPECT_EQ(c, (std::vector<float>{0.0f, 0.0f, 0.0f, 0.0f}));
  c = {1.0f, 2.0f, 3.0f, 4.0f};
  sgemm({&a, 1, 1}, {&b, 1, 1}, c.data(), 2, 2, 2, 0, 0.5f);
  EXPECT_EQ(c, (std::vector<float>{0.5f, 1.0f, 1.5f, 2.0f}));
}

// Packing, both builds of the kernels, against its definition: dst[p * panel + i] = src(i, p),
// zeros past the source's rows. Every micro-kernel's width and one below the register paths,
// full and partial panels, the source's rows along k or across it, fp32 and fp16, k off the
// 4- and 8-wide steps.
TEST(PackPanel, MatchesItsDefinitionForEveryWidthLayoutAndType) {
  std::mt19937 rng(31);
  for (const Kernels* kern : {&kernels(), &portable_kernels()}) {
    for (int64_t panel : {4, 6, 12, 16, 32}) {
      for (int trial = 0; trial < 8; ++trial) {
        const int64_t rows = trial % 2 == 0 ? panel : pick(rng, 1, panel), k = pick(rng, 1, 70);
        const bool across = trial % 4 >= 2, half = pick(rng, 0, 1) == 1;
        const Operand x(rng, rows, k, across, half);  // x(i, p)
        const MatrixRef r = x.ref();
        PackSource src;
        src.rs = r.rs;
        src.cs = r.cs;
        src.floats = r.data;
        src.halves = r.halves;
        std::vector<float> dst(static_cast<size_t>(panel * k), NAN);
        kern->pack_panel(dst.data(), panel, src, rows, k);
        for (int64_t p = 0; p < k; ++p) {
          for (int64_t i = 0; i < panel; ++i) {
            ASSERT_EQ(dst[static_cast<size_t>(p * panel + i)], i < rows ? x.at(i, p) : 0.0f)
                << kern->isa << " panel " << panel << " rows " << rows << " k " << k << (across ? " across" : "")
                << (half ? " fp16" : "") << " at i " << i << ", p " << p;
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, SgemmKernel, ::testing::Values(GemmKernel::kBlis, GemmKernel::kAvx512),
                         [](const ::testing::TestParamInfo<GemmKernel>& kernel) {
                           return kernel.param == GemmKernel::kBlis ? std::string("Blis") : std::string("Avx512");
                         });

}  // namespace
}  // namespace ane::cpu
