// Causal attention on the CPU backend (causal.cpp): with the masked half skipped, every output
// is bitwise what the full computation gives (the backend with the pass off), and matches the
// float64 reference; in both precisions, on one and two threads, for P read by each operand
// form, for lower and upper masks, finite and -inf. The skip must stand down when the scores
// are too large for the mask to hide (then masked entries of P are not 0) and when the other
// operand of P's product holds a NaN; masks that do not mask, and intermediates read twice,
// leave the pattern alone. Products with a square operand that is zero on one side of its
// diagonal skip that half too.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "differential.h"

namespace ane::testing {
namespace {

using mil::Builder;
using mil::DType;
using mil::Value;

// How P = softmax(scale * q^T k + mask) is read by its product with v.
enum class Reader { kVTimesPT, kVTimesP, kPTimesVT, kPTTimesVT };

struct Attention {
  int64_t heads = 3, kv_heads = 3, dim = 16, seq = 40;
  float masked = -65504.0f;      // the mask's value in its masked triangle
  bool mask_above = true;        // masked where column > row (else column < row)
  double scale = 0.25;
  Reader reader = Reader::kVTimesPT;
  bool scores_also_output = false;
  int64_t softmax_axis = -1;
};

std::unique_ptr<mil::Program> attention(const Attention& a) {
  Builder b;
  const int64_t S = a.seq, D = a.dim;
  Value* q = b.input("q", {DType::kFp16, {1, a.heads, D, S}});
  Value* k = b.input("k", {DType::kFp16, {1, a.kv_heads, D, S}});
  Value* v = b.input("v", {DType::kFp16, {1, a.heads, D, S}});
  std::vector<float> mask(static_cast<size_t>(S * S));
  for (int64_t i = 0; i < S; ++i) {
    for (int64_t j = 0; j < S; ++j) mask[static_cast<size_t>(i * S + j)] = (a.mask_above ? j > i : j < i) ? a.masked : 0.0f;
  }
  Value* m = b.const_tensor("mask", mil::Constant::float_tensor(DType::kFp16, {1, 1, S, S}, mask));
  Value* scores = b.matmul(q, k, true, false);  // [1, H, S, S]
  Value* p = b.softmax(b.add(b.mul(scores, a.scale), m), a.softmax_axis);
  // Outputs in fp32, so the reference comparison is not at the mercy of fp16 rounding ties.
  auto out = [&](Value* x) { b.output(b.cast(x, DType::kFp32)); };
  switch (a.reader) {
    case Reader::kVTimesPT: out(b.matmul(v, p, false, true)); break;    // [D, S]
    case Reader::kVTimesP: out(b.matmul(v, p)); break;                  // [D, S]
    case Reader::kPTimesVT: out(b.matmul(p, v, false, true)); break;    // [S, D]
    case Reader::kPTTimesVT: out(b.matmul(p, v, true, true)); break;    // [S, D]
  }
  out(p);
  if (a.scores_also_output) out(scores);
  return finish(b);
}

constexpr int kRuns = 2;  // the second run must not see the first one's decisions

// The raw output bytes of fn on the CPU backend after kRuns runs, and how many products
// skipped a zero triangle in those runs.
struct Ran {
  std::vector<std::vector<uint8_t>> out;
  int64_t triangle_products = -1;
};
Ran run_bytes(const mil::Function& fn, const Values& inputs, Precision p, int threads, bool skip) {
  CpuBackendOptions o;
  o.skip_zero_triangles = skip;
  auto exe = make_cpu_backend(o)->compile(fn, CompileOptions{p, threads});
  EXPECT_TRUE(exe.ok()) << exe.error().to_string();
  if (!exe.ok()) return {};
  Io io(fn, inputs);
  for (int rep = 0; rep < kRuns; ++rep) {
    Status st = (*exe)->run(io.buffers());
    EXPECT_TRUE(st.ok()) << st.error().to_string();
  }
  return {io.out, (*exe)->stats().triangle_products};
}

int causal_softmaxes(const mil::Function& fn) {
  auto exe = make_cpu_backend()->compile(fn, {});
  EXPECT_TRUE(exe.ok());
  return exe.ok() ? (*exe)->stats().causal_softmaxes : -1;
}

// Also checks that a run skips a triangle in exactly `skipping` products (none with the
// skip turned off), so that the skip is seen to happen, not only to do no harm.
void expect_bitwise_as_full(const mil::Function& fn, const Values& inputs, int64_t skipping, const std::string& what) {
  for (Precision p : {Precision::kFp32, Precision::kFp16}) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE(what + (p == Precision::kFp32 ? " fp32" : " fp16") + " threads " + std::to_string(threads));
      const Ran skipping_run = run_bytes(fn, inputs, p, threads, true), full_run = run_bytes(fn, inputs, p, threads, false);
      EXPECT_EQ(skipping_run.triangle_products, kRuns * skipping);
      EXPECT_EQ(full_run.triangle_products, 0);
      const auto& skipped = skipping_run.out;
      const auto& full = full_run.out;
      ASSERT_EQ(skipped.size(), full.size());
      for (size_t j = 0; j < full.size(); ++j) {
        ASSERT_EQ(skipped[j].size(), full[j].size());
        EXPECT_EQ(std::memcmp(skipped[j].data(), full[j].data(), full[j].size()), 0) << "output " << j << " differs";
      }
    }
  }
}

TEST(CausalAttention, SkippingIsBitwiseTheFullComputation) {
  std::mt19937 rng(1126);
  int trial = 0;
  for (Reader reader : {Reader::kVTimesPT, Reader::kVTimesP, Reader::kPTimesVT, Reader::kPTTimesVT}) {
    for (bool above : {true, false}) {
      for (float masked : {-65504.0f, -std::numeric_limits<float>::infinity()}) {
        Attention a;
        a.reader = reader;
        a.mask_above = above;
        a.masked = masked;
        a.seq = trial % 3 == 0 ? 67 : 40;     // rows not a multiple of the softmax's 8 lanes
        a.kv_heads = trial % 4 == 1 ? 1 : 3;  // one k shared by every head
        auto p = attention(a);
        const mil::Function& fn = *p->functions[0];
        const std::string what = "trial " + std::to_string(trial++);
        EXPECT_EQ(causal_softmaxes(fn), 1) << what;
        const Values in = random_inputs(fn, rng, -1.0, 1.0);
        expect_bitwise_as_full(fn, in, 2 * a.heads, what);  // the scores' product and P's, per head
        expect_matches_reference(fn, in, Precision::kFp32, what);
      }
    }
  }
}

// Scores far beyond what the mask can hide: the full computation gives the masked entries
// weight, and so must the skipping backend (its bound fails and it computes everything).
TEST(CausalAttention, LargeScoresOutweighTheMaskAndAreNotSkipped) {
  Attention a;
  auto p = attention(a);
  const mil::Function& fn = *p->functions[0];
  std::mt19937 rng(3);
  Values in = random_inputs(fn, rng, -1.0, 1.0);
  const int64_t S = a.seq, D = a.dim;
  for (int64_t h = 0; h < a.heads; ++h) {  // q and k of the last position: 64 * 1000^2 / 4 >> 65504
    for (int64_t d = 0; d < D; ++d) {
      in[0][static_cast<size_t>((h * D + d) * S + 0)] = 1000.0;
      in[1][static_cast<size_t>((h * D + d) * S + S - 1)] = 1000.0;
    }
  }
  EXPECT_EQ(causal_softmaxes(fn), 1);
  expect_bitwise_as_full(fn, in, 0, "large scores");
  expect_matches_reference(fn, in, Precision::kFp32, "large scores");
  // The test means something: row 0 of P attends to the masked last column.
  auto got = run_on(*make_cpu_backend(), fn, in, Precision::kFp32, 2);
  ASSERT_TRUE(got.ok());
  EXPECT_GT((*got)[1][static_cast<size_t>(S - 1)], 0.5);
}

// A NaN in v where P is masked: 0 * NaN is NaN in the full product, so the skip stands down.
TEST(CausalAttention, NanInTheOtherOperandStillSpreads) {
  for (Reader reader : {Reader::kVTimesPT, Reader::kPTimesVT}) {
    Attention a;
    a.reader = reader;
    auto p = attention(a);
    const mil::Function& fn = *p->functions[0];
    std::mt19937 rng(5);
    Values in = random_inputs(fn, rng, -1.0, 1.0);
    in[2][static_cast<size_t>(a.seq - 1)] = std::numeric_limits<double>::quiet_NaN();  // v[0, 0, 0, S - 1]
    // Every head skips in its scores' product; P's product skips except in head 0 (the NaN's).
    expect_bitwise_as_full(fn, in, 2 * a.heads - 1, "nan in v");
    auto got = run_on(*make_cpu_backend(), fn, in, Precision::kFp32, 2);
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(std::isnan((*got)[0][0])) << "the NaN reaches output 0 element 0";
  }
}

// A product's square operand that is zero on one side of its diagonal (here an input, as P
// reaches the second attention-backward kernel): the zero half is skipped, bitwise the same,
// whichever side, operand and transpose; a dense operand and NaNs elsewhere change nothing.
TEST(ZeroTriangles, ProductsSkipTheZeroHalfOfASquareOperand) {
  constexpr int64_t H = 2, S = 48, D = 16;
  std::mt19937 rng(77);
  int trial = 0;
  for (int side = 0; side < 3; ++side) {  // zero above, zero below, dense
    for (bool square_is_x : {true, false}) {
      for (bool transposed : {false, true}) {
        Builder b;
        Value* sq = b.input("square", {DType::kFp16, {1, H, S, S}});
        Value* other = b.input("other", {DType::kFp16, {1, H, square_is_x ? S : D, square_is_x ? D : S}});
        Value* y = square_is_x ? b.matmul(sq, other, transposed, false) : b.matmul(other, sq, false, transposed);
        b.output(b.cast(y, DType::kFp32));
        auto p = finish(b);
        const mil::Function& fn = *p->functions[0];
        Values in = random_inputs(fn, rng, -1.0, 1.0);
        for (int64_t h = 0; h < H; ++h) {
          for (int64_t i = 0; i < S; ++i) {
            for (int64_t j = 0; j < S; ++j) {
              if ((side == 0 && j > i) || (side == 1 && j < i)) in[0][static_cast<size_t>((h * S + i) * S + j)] = 0.0;
            }
          }
        }
        const std::string what = "trial " + std::to_string(trial++);
        const int64_t triangular = side < 2 ? H : 0;  // products with a zero half
        expect_bitwise_as_full(fn, in, triangular, what);
        expect_matches_reference(fn, in, Precision::kFp32, what);
        in[1][0] = std::numeric_limits<double>::quiet_NaN();  // head 0's other operand
        expect_bitwise_as_full(fn, in, side < 2 ? H - 1 : 0, what + " with a NaN");
      }
    }
  }
}

TEST(CausalAttention, OtherPatternsAreLeftAlone) {
  Attention weak;  // a mask that only nudges: the masked entries keep weight
  weak.masked = -1.0f;
  Attention shared;  // the scores are an output too: their masked entries must be computed
  shared.scores_also_output = true;
  Attention columns;  // softmax over the other axis
  columns.softmax_axis = -2;
  std::mt19937 rng(9);
  for (const auto& [a, what] : {std::pair{weak, "weak mask"}, {shared, "scores read twice"}, {columns, "axis -2"}}) {
    auto p = attention(a);
    const mil::Function& fn = *p->functions[0];
    EXPECT_EQ(causal_softmaxes(fn), 0) << what;
    expect_matches_reference(fn, random_inputs(fn, rng, -1.0, 1.0), Precision::kFp32, what);
  }
}

}  // namespace
}  // namespace ane::testing
