// Multi-op programs (RMSNorm + conv + SiLU, attention, concat taps, slice unpacking) against
// the reference in both precisions, what the compiler did to them, and that running a
// compiled plan allocates nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <span>
#include <new>

#include "differential.h"

#include "../support/count_allocations.h"  // replaces operator new for this binary

namespace ane::testing {
namespace {

using mil::Builder;
using mil::DType;
using mil::Value;

std::vector<float> weights(size_t n, unsigned seed, float scale = 0.1f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (float& e : v) e = d(rng);
  return v;
}

Value* weight(Builder& b, const std::string& name, std::vector<int64_t> shape, unsigned seed, float scale = 0.1f) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return b.const_tensor(name, mil::Constant::float_tensor(DType::kFp16, std::move(shape), weights(static_cast<size_t>(n), seed, scale)));
}

// x [1, C, 1, S] -> x * rsqrt(mean(x^2 over C) + eps) * gamma
Value* rms_norm(Builder& b, Value* x, int64_t c, unsigned seed) {
  Value* ms = b.reduce_mean(b.mul(x, x), {1}, true);
  Value* r = b.rsqrt(b.add(ms, 1e-5));
  return b.mul(b.mul(x, r), weight(b, "gamma" + std::to_string(seed), {1, c, 1, 1}, seed, 1.0f));
}

// RMSNorm -> gate/up 1x1 convs -> silu(gate) * up -> down conv, plus a residual add.
std::unique_ptr<mil::Program> ffn_program(int64_t c, int64_t hidden, int64_t s) {
  Builder b;
  Value* x = b.input("x", {DType::kFp16, {1, c, 1, s}});
  Value* n = rms_norm(b, x, c, 1);
  Value* gate = b.conv(n, weight(b, "w1", {hidden, c, 1, 1}, 2));
  Value* up = b.conv(n, weight(b, "w3", {hidden, c, 1, 1}, 3));
  Value* h = b.mul(b.silu(gate), up);
  Value* down = b.conv(h, weight(b, "w2", {c, hidden, 1, 1}, 4));
  b.output(b.add(x, down));
  return finish(b);
}

// Single-head-group attention over channel-first q, k, v unpacked from one [1, 3C, 1, S]
// input with slice_by_size; heads concatenated back (taps) and projected.
std::unique_ptr<mil::Program> attention_program(int64_t heads, int64_t dim, int64_t s) {
  const int64_t c = heads * dim;
  Builder b;
  Value* qkv = b.input("qkv", {DType::kFp16, {1, 3 * c, 1, s}});
  Value* q = b.slice_by_size(qkv, {0, 0, 0, 0}, {1, c, 1, s});
  Value* k = b.slice_by_size(qkv, {0, c, 0, 0}, {1, c, 1, s});
  Value* v = b.slice_by_size(qkv, {0, 2 * c, 0, 0}, {1, c, 1, s});
  auto heads_of = [&](Value* t) { return b.transpose(b.reshape(t, {1, heads, dim, s}), {0, 1, 3, 2}); };  // [1, H, S, D]
  Value* scores = b.mul(b.matmul(heads_of(q), heads_of(k), false, true), 1.0 / std::sqrt(static_cast<double>(dim)));
  Value* p = b.softmax(scores, -1);
  Value* o = b.matmul(p, heads_of(v));                                  // [1, H, S, D]
  Value* merged = b.reshape(b.transpose(o, {0, 1, 3, 2}), {1, c, 1, s});  // [1, C, 1, S]
  Value* proj = b.conv(merged, weight(b, "wo", {c, c, 1, 1}, 5));
  Value* gated = b.mul(b.sigmoid(proj), 2.0);
  b.output(b.concat(1, {proj, gated, b.conv(merged, weight(b, "wx", {c, c, 1, 1}, 6))}));
  return finish(b);
}

void compare_both(const mil::Function& fn, const std::string& what) {
  for (Precision p : {Precision::kFp32, Precision::kFp16}) {
    std::mt19937 rng(42);
    expect_matches_reference(fn, random_inputs(fn, rng, -1.0, 1.0), p, what);
  }
}

ExecutableStats stats_of(const mil::Function& fn, CpuBackendOptions o = {}) {
  auto exe = make_cpu_backend(o)->compile(fn, {});
  EXPECT_TRUE(exe.ok()) << exe.error().to_string();
  return exe.ok() ? (*exe)->stats() : ExecutableStats{};
}

TEST(CpuPrograms, RmsNormConvSiluMatchesReference) {
  auto p = ffn_program(24, 40, 19);
  compare_both(*p->functions[0], "ffn");
  const ExecutableStats s = stats_of(*p->functions[0]);
  EXPECT_GT(s.fused_ops, 0);
  EXPECT_EQ(s.fallback_ops, 0);
  EXPECT_LT(s.arena_bytes, s.unshared_bytes);
}

TEST(CpuPrograms, AttentionMatchesReference) {
  auto p = attention_program(3, 8, 13);
  compare_both(*p->functions[0], "attention");
  const ExecutableStats s = stats_of(*p->functions[0]);
  EXPECT_EQ(s.taps, 3);  // every concat input written in place
  EXPECT_GT(s.view_ops, 0);
  EXPECT_EQ(s.fallback_ops, 0);
}

// Pieces of a split that only concats read (RoPE's rotate-half: swap two halves) are copied
// once, from the split's input: the split is no step of its own. Along the same axis and
// another, and with a piece also read elsewhere (then the split runs as before).
TEST(CpuPrograms, ConcatsOfSplitPiecesCopyFromTheSplitInput) {
  Builder b;
  Value* x = b.input("x", {DType::kFp16, {1, 3, 8, 2, 5}});
  std::vector<Value*> halves = b.split(x, 3, 2);
  b.output(b.mul(b.concat(3, {halves[1], halves[0]}), 2.0));  // rotate-half
  Value* y = b.input("y", {DType::kFp16, {1, 6, 4}});
  std::vector<Value*> thirds = b.split(y, 1, 3);
  b.output(b.concat(2, {thirds[2], thirds[0], thirds[1]}));  // another axis
  Value* z = b.input("z", {DType::kFp16, {2, 6}});
  std::vector<Value*> parts = b.split(z, 1, 2);
  b.output(b.concat(1, {parts[1], parts[0]}));
  b.output(b.mul(parts[0], 3.0));  // read elsewhere too: this split runs
  auto p = finish(b);
  const mil::Function& fn = *p->functions[0];
  compare_both(fn, "split pieces");
  CpuBackendOptions off;
  off.views_and_taps = false;
  EXPECT_EQ(stats_of(fn).steps + 2, stats_of(fn, off).steps) << "two of the three splits need no step";
}

TEST(CpuPrograms, EveryPassCanBeTurnedOff) {
  auto p = attention_program(2, 4, 5);
  CpuBackendOptions off;
  off.fuse_elementwise = off.fold_constants = off.eliminate_dead_code = off.eliminate_common_subexpressions =
      off.views_and_taps = false;
  std::mt19937 rng(7);
  const mil::Function& fn = *p->functions[0];
  expect_matches_reference(fn, random_inputs(fn, rng, -1.0, 1.0), Precision::kFp32, "no passes", off);
  const ExecutableStats s = stats_of(fn, off);
  EXPECT_EQ(s.fused_ops + s.taps + s.view_ops + s.folded_ops, 0);
}

// A surface packed as the original's dynamic kernels pack theirs: activations in the first S
// columns, weight blocks in the columns after them, unused columns at the end. Slices that GEMMs
// (either transpose, conv, linear) and elementwise ops read are read in place; a contiguous
// slice is a view; a slice a reduction reads, or that is an output, is copied. Only the
// slices' regions of the input are converted (the rest is never read).
TEST(CpuPrograms, SlicesFeedingGemmsAreReadInPlace) {
  constexpr int64_t S = 7, W = S + 10 + 9;
  Builder b;
  Value* x = b.input("x", {DType::kFp16, {1, 10, 1, W}});
  Value* act = b.slice_by_size(x, {0, 0, 0, 0}, {1, 6, 1, S});
  Value* act2 = b.reshape(act, {6, S});
  Value* wa = b.reshape(b.slice_by_size(x, {0, 0, 0, S}, {1, 10, 1, 6}), {10, 6});
  Value* wb = b.reshape(b.slice_by_size(x, {0, 0, 0, S + 6}, {1, 6, 1, 4}), {6, 4});
  Value* q = b.reshape(b.slice_by_size(x, {0, 0, 0, 0}, {1, 10, 1, S}), {10, S});
  b.output(b.matmul(wa, act2));
  b.output(b.matmul(wb, act2, true, false));
  b.output(b.matmul(q, act2, false, true));
  b.output(b.conv(act, weight(b, "wc", {3, 6, 1, 1}, 11)));
  b.output(b.linear(wa, b.const_tensor("wl", mil::Constant::float_tensor(DType::kFp16, {5, 6}, weights(30, 12)))));
  Value* e = b.slice_by_size(x, {0, 6, 0, 0}, {1, 4, 1, S});
  b.output(b.conv(e, weight(b, "we", {2, 4, 1, 1}, 13)));
  b.output(b.mul(e, 2.0));
  b.output(b.reduce_sum(b.slice_by_size(x, {0, 3, 0, 1}, {1, 4, 1, S}), {3}, true));
  Value* rows = b.slice_by_size(x, {0, 2, 0, 0}, {1, 1, 1, W});
  b.output(b.mul(rows, rows));
  b.output(b.slice_by_size(x, {0, 1, 0, 2}, {1, 2, 1, 3}));
  auto p = finish(b);
  const mil::Function& fn = *p->functions[0];
  compare_both(fn, "slices read in place");
  auto exe = make_cpu_backend()->compile(fn, {});
  ASSERT_TRUE(exe.ok()) << exe.error().to_string();
  std::mt19937 rng(5);
  Io io(fn, random_inputs(fn, rng));
  std::vector<StepProfile> steps;
  ASSERT_TRUE((*exe)->profile(io.buffers(), steps).ok());
  int copies = 0;
  for (const auto& st : steps) copies += st.op_type == "slice_by_size";
  EXPECT_EQ(copies, 2);  // the reduction's slice and the output slice
  // GEMMs and elementwise ops read their operands straight from the fp16 input: only the
  // reduction's slice and the output slice (both copied) are converted.
  std::vector<bool> converted(static_cast<size_t>(10 * W), false);
  auto mark = [&](int64_t c0, int64_t c1, int64_t w0, int64_t w1) {
    for (int64_t c = c0; c < c1; ++c) {
      for (int64_t w = w0; w < w1; ++w) converted[static_cast<size_t>(c * W + w)] = true;
    }
  };
  mark(3, 7, 1, S + 1);
  mark(1, 3, 2, 5);
  EXPECT_EQ((*exe)->stats().unconverted_input_elements, std::count(converted.begin(), converted.end(), false));
}

// Inputs only GEMMs and elementwise ops read are never converted from fp16, whole or through
// views; an input something else also reads (a reduction) is.
TEST(CpuPrograms, GemmsAndElementwiseOpsReadFp16InputsWithoutConversion) {
  Builder b;
  Value* x = b.input("x", {DType::kFp16, {1, 6, 1, 5}});
  Value* w = b.input("w", {DType::kFp16, {4, 6}});
  Value* v = b.input("v", {DType::kFp16, {4, 6}});
  b.output(b.matmul(w, b.reshape(x, {6, 5})));
  b.output(b.conv(x, b.reshape(v, {4, 6, 1, 1})));
  b.output(b.linear(b.reshape(x, {6, 5}), b.slice_by_size(v, {0, 0}, {2, 5})));
  b.output(b.mul(b.sigmoid(x), x));
  b.output(b.add(w, 2.0));
  b.output(b.add(v, 1.0));
  b.output(b.reduce_sum(v, {1}, true));
  auto p = finish(b);
  const mil::Function& fn = *p->functions[0];
  compare_both(fn, "fp16 inputs read by GEMMs and elementwise ops");
  EXPECT_EQ(stats_of(fn).unconverted_input_elements, 30 + 24);  // x and w; v is converted
}

// A constant of random values (weights()) in `dtype`.
Value* random_constant(Builder& b, DType dtype, const std::string& name, std::vector<int64_t> shape, unsigned seed) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return b.const_tensor(name, mil::Constant::float_tensor(dtype, std::move(shape), weights(static_cast<size_t>(n), seed)));
}

// A baked fp16 weight that only a GEMM or an elementwise op reads is kept as fp16 (2 bytes a
// value, read while packing or tile by tile); one that a reduction reads too is converted to
// fp32, as fp32 constants always are.
TEST(CpuPrograms, Fp16ConstantsReadOnlyAsFp16StayFp16) {
  auto program = [](DType dtype) {
    Builder b;
    auto constant = [&](const std::string& name, std::vector<int64_t> shape, unsigned seed) {
      return random_constant(b, dtype, name, std::move(shape), seed);
    };
    Value* x = b.input("x", {dtype, {1, 6, 1, 5}});
    b.output(b.conv(x, constant("w", {4, 6, 1, 1}, 21)));     // 24 values, a GEMM reads it
    b.output(b.mul(x, constant("scale", {1, 6, 1, 1}, 22)));  // 6 values, an elementwise op
    Value* r = constant("r", {1, 6, 1, 5}, 23);                // 30 values, also reduced
    b.output(b.add(x, r));
    b.output(b.reduce_sum(r, {3}, true));
    return finish(b);
  };
  auto half = program(DType::kFp16), full = program(DType::kFp32);
  compare_both(*half->functions[0], "fp16 constants");
  EXPECT_EQ(stats_of(*full->functions[0]).constant_bytes - stats_of(*half->functions[0]).constant_bytes, (24 + 6) * 2);
}

// An fp16 weight constant reshaped for its matmul: the view aliases the constant (no folded
// copy), so the weight is held once, as fp16. A viewed constant that a function output, a
// folded op or a reduction also reads is held once, as fp32; with views turned off, views of
// constants are folded.
TEST(CpuPrograms, ViewsOfConstantsAliasThem) {
  auto program = [](DType dtype, bool shared) {
    Builder b;
    auto constant = [&](const std::string& name, std::vector<int64_t> shape, unsigned seed) {
      return random_constant(b, dtype, name, std::move(shape), seed);
    };
    Value* x = b.input("x", {dtype, {1, 6, 1, 5}});
    Value* w = b.reshape(constant("w", {1, 4, 1, 6}, 31), {4, 6});  // 24 values
    b.output(b.matmul(w, b.reshape(x, {6, 5})));
    if (shared) {
      b.output(b.reshape(w, {1, 4, 1, 6}));
      b.output(b.matmul(b.mul(w, w), b.reshape(x, {6, 5})));  // folded
      b.output(b.reduce_sum(w, {1}, true));
    }
    return finish(b);
  };
  CpuBackendOptions off;
  off.views_and_taps = false;
  for (bool shared : {false, true}) {
    auto half = program(DType::kFp16, shared), full = program(DType::kFp32, shared);
    compare_both(*half->functions[0], shared ? "a viewed fp16 constant read by others too" : "a viewed fp16 weight");
    const ExecutableStats h = stats_of(*half->functions[0]), f = stats_of(*full->functions[0]);
    // fp16 alone: 2 bytes a weight value instead of 4
    EXPECT_EQ(f.constant_bytes - h.constant_bytes, shared ? 0 : 24 * 2) << shared;
    // views off: each view of the constant is folded into a copy of the weight (24 floats)
    const ExecutableStats folded = stats_of(*full->functions[0], off);
    const int views = shared ? 2 : 1;
    EXPECT_EQ(folded.constant_bytes - f.constant_bytes, views * 24 * 4) << shared;
    EXPECT_EQ(folded.folded_ops, f.folded_ops + views) << shared;
  }
}

// fp32 inputs and outputs are copied in chunks the threads share: every value lands where it
// belongs, in buffers of several chunks that are not float-aligned.
TEST(CpuPrograms, Fp32InputsAndOutputsArriveWhole) {
  constexpr int64_t n = 3 * 65536 + 7;
  Builder b;
  Value* x = b.input("x", {DType::kFp32, {1, n, 1, 1}});
  b.output(b.mul(x, 2.0));  // exact in fp32
  auto p = finish(b);
  auto exe = make_cpu_backend()->compile(*p->functions[0], {Precision::kFp32, 2});
  ASSERT_TRUE(exe.ok()) << exe.error().to_string();
  const std::vector<float> values = weights(static_cast<size_t>(n), 41, 100.0f);
  const size_t bytes = values.size() * sizeof(float);
  std::vector<uint8_t> in(bytes + 1), out(bytes + 1);  // one byte in: misaligned
  std::memcpy(in.data() + 1, values.data(), bytes);
  const std::vector<std::span<const uint8_t>> ins{{in.data() + 1, bytes}};
  const std::vector<std::span<uint8_t>> outs{{out.data() + 1, bytes}};
  ASSERT_TRUE((*exe)->run({ins, outs}).ok());
  std::vector<float> got(values.size());
  std::memcpy(got.data(), out.data() + 1, bytes);
  for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(got[i], 2.0f * values[i]) << "element " << i;
}

// SiLU's backward as the ffn_backward kernel writes it: a DAG of elementwise ops (results
// read twice, a broadcast per-channel operand) runs as one fused step; an intermediate a
// matmul also reads and one that is a function output are written out, the rest stay in
// tiles; later members read the written-out one from its tensor. The matmul reads a member,
// so the ops after it start a second group. Rows of 37 fit in one tile; rows of 1100 take
// three, the last one partial.
class ElementwiseDag : public ::testing::TestWithParam<int64_t> {};

TEST_P(ElementwiseDag, RunsAsOneStep) {
  constexpr int64_t C = 12;
  const int64_t S = GetParam();
  Builder b;
  Value* h1 = b.input("h1", {DType::kFp32, {1, C, 1, S}});
  Value* h3 = b.input("h3", {DType::kFp32, {1, C, 1, S}});
  Value* dg = b.input("dgated", {DType::kFp32, {1, C, 1, S}});
  Value* scale = b.const_tensor("scale", mil::Constant::float_tensor(DType::kFp32, {1, C, 1, 1}, weights(C, 21, 1.0f)));
  Value* sig = b.sigmoid(h1);
  Value* dh3 = b.mul(dg, b.mul(h1, sig));
  Value* dsilu = b.mul(sig, b.add(b.sub(h1, b.mul(h1, sig)), 1.0));
  Value* dh1 = b.mul(b.mul(b.mul(dg, h3), dsilu), scale);
  b.output(dh1);
  b.output(dh3);
  b.output(sig);  // an intermediate that is also an output
  Value* w = b.const_tensor("w", mil::Constant::float_tensor(DType::kFp32, {S, 5}, weights(S * 5, 22)));
  Value* mixed = b.matmul(b.reshape(dsilu, {C, S}), w);  // reads a member: closes the group
  b.output(b.add(b.mul(mixed, 2.0), 1.0));
  auto p = finish(b);
  const mil::Function& fn = *p->functions[0];
  compare_both(fn, "elementwise DAG");
  auto exe = make_cpu_backend()->compile(fn, {Precision::kFp32, 2});
  ASSERT_TRUE(exe.ok()) << exe.error().to_string();
  std::mt19937 rng(9);
  Io io(fn, random_inputs(fn, rng));
  std::vector<StepProfile> steps;
  ASSERT_TRUE((*exe)->profile(io.buffers(), steps).ok());
  std::vector<std::string> types;
  for (const auto& st : steps) types.push_back(st.op_type);
  EXPECT_EQ(types, (std::vector<std::string>{"input", "fused_elementwise", "matmul", "fused_elementwise", "output"}));
}

INSTANTIATE_TEST_SUITE_P(CpuPrograms, ElementwiseDag, ::testing::Values(37, 1100));

TEST(CpuPrograms, FoldsConstantsAndDropsDeadAndDuplicateOps) {
  Builder b;
  Value* x = b.input("x", {DType::kFp32, {1, 8, 1, 5}});
  Value* w = weight(b, "w", {8, 8, 1, 1}, 9);
  Value* wf = b.cast(b.mul(b.cast(w, DType::kFp32), 2.0), DType::kFp16);  // all constant: folded
  Value* xh = b.cast(x, DType::kFp16);
  Value* a = b.conv(xh, wf);
  Value* dup = b.conv(xh, wf);  // same as a: merged
  b.relu(a);                    // unused: dead
  b.output(b.add(a, dup));
  auto p = finish(b);
  compare_both(*p->functions[0], "fold/cse/dce");
  const ExecutableStats s = stats_of(*p->functions[0]);
  EXPECT_EQ(s.folded_ops, 3);
  EXPECT_GE(s.merged_ops, 1);
  EXPECT_EQ(s.dead_ops, 1);
}

TEST(CpuPrograms, Fp16ModeOverflowsAndUnderflowsLikeTheDatapath) {
  Builder b;
  Value* x = b.input("x", {DType::kFp32, {4}});
  b.output(b.mul(b.mul(x, 1000.0), 1000.0));  // fp16: 1000 x overflows before the second multiply
  b.output(b.mul(b.mul(x, 1e-6), 1e-3));      // fp16: underflows to 0
  auto p = finish(b);
  const mil::Function& fn = *p->functions[0];
  auto cpu = make_cpu_backend();
  auto fp32 = run_on(*cpu, fn, {{1, 2, 70, -100}}, Precision::kFp32);
  auto fp16 = run_on(*cpu, fn, {{1, 2, 70, -100}}, Precision::kFp16);
  ASSERT_TRUE(fp32.ok() && fp16.ok());
  EXPECT_NEAR((*fp32)[0][2], 7e7, 1.0);
  EXPECT_EQ((*fp16)[0][2], INFINITY);
  EXPECT_EQ((*fp16)[0][3], -INFINITY);
  EXPECT_NEAR((*fp32)[1][0], 1e-9, 1e-12);
  EXPECT_EQ((*fp16)[1][0], 0.0);
}

TEST(CpuPrograms, AllocationCounterCounts) {
  g_allocations = 0;
  g_counting = true;
  auto* p = new std::vector<int>(3);
  g_counting = false;
  delete p;
  EXPECT_GE(g_allocations.load(), 1);
}

TEST(CpuPrograms, RunningAllocatesNothing) {
  for (auto& program : {ffn_program(32, 48, 21), attention_program(2, 8, 16)}) {
    const mil::Function& fn = *program->functions[0];
    for (Precision prec : {Precision::kFp32, Precision::kFp16}) {
      auto exe = make_cpu_backend()->compile(fn, {prec, 2});
      ASSERT_TRUE(exe.ok()) << exe.error().to_string();
      ASSERT_EQ((*exe)->stats().fallback_ops, 0);
      std::mt19937 rng(3);
      Io io(fn, random_inputs(fn, rng));
      const IoBuffers buffers = io.buffers();
      ASSERT_TRUE((*exe)->run(buffers).ok());  // warm up (thread start-up, BLIS init)
      g_allocations = 0;
      g_counting = true;
      Status st;
      for (int i = 0; i < 3; ++i) st = (*exe)->run(buffers);
      g_counting = false;
      ASSERT_TRUE(st.ok());
      EXPECT_EQ(g_allocations.load(), 0);
    }
  }
}

TEST(CpuPrograms, ProfileNamesEveryStep) {
  auto p = ffn_program(16, 24, 9);
  const mil::Function& fn = *p->functions[0];
  auto exe = make_cpu_backend()->compile(fn, {});
  ASSERT_TRUE(exe.ok());
  std::mt19937 rng(5);
  Io io(fn, random_inputs(fn, rng));
  std::vector<StepProfile> steps;
  ASSERT_TRUE((*exe)->profile(io.buffers(), steps).ok());
  ASSERT_EQ(steps.size(), (*exe)->stats().steps + 2);  // + inputs and outputs
  double conv_flops = 0;
  for (const auto& s : steps) {
    if (s.op_type == "conv") conv_flops += s.flops;
  }
  EXPECT_EQ(conv_flops, 2.0 * 9 * (16 * 24 * 2 + 24 * 16));
}

}  // namespace
}  // namespace ane::testing
