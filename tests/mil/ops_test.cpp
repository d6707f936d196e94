// Op schemas and shape rules: every op on normal and edge cases, and each rule broken once,
// checking the message and its line:col.
#include <set>

#include "mil/ops.h"
#include "mil_test_util.h"

namespace ane::mil {
namespace {

using testing::expect_error;
using testing::one;
using testing::OpBench;
using testing::Shape;
using DT = DType;

// The single output type, failing the test on an error.
TensorType single(const Expected<std::vector<TensorType>>& r) {
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  if (!r.ok()) return {};
  EXPECT_EQ(r->size(), 1u);
  return r->front();
}

Shape shape_of(const Expected<std::vector<TensorType>>& r) { return single(r).shape; }

// --- registry ------------------------------------------------------------------------------

TEST(OpRegistry, EveryOpFoundByNameOnce) {
  std::set<std::string_view> names;
  for (const OpSchema* s : all_op_schemas()) {
    ASSERT_NE(s, nullptr);
    EXPECT_FALSE(s->name.empty());
    EXPECT_TRUE(names.insert(s->name).second) << "duplicate op " << s->name;
    EXPECT_EQ(find_op_schema(s->name), s);
    EXPECT_NE(s->infer, nullptr);
  }
  EXPECT_EQ(names.size(), 43u);
  for (const char* op : {"const", "conv", "matmul", "linear", "softmax", "add", "sub", "mul", "real_div", "pow", "maximum",
                         "minimum", "sigmoid", "tanh", "relu", "gelu", "silu", "exp", "log", "sqrt", "rsqrt", "inverse",
                         "clip", "select", "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reshape", "transpose",
                         "concat", "split", "slice_by_size", "slice_by_index", "tile", "expand_dims", "squeeze", "gather",
                         "layer_norm", "cast", "quantize", "dequantize", "constexpr_affine_dequantize"}) {
    EXPECT_NE(find_op_schema(op), nullptr) << op;
  }
  EXPECT_EQ(find_op_schema("foo"), nullptr);
}

TEST(OpRegistry, UnknownOp) {
  OpBench b;
  expect_error(b.infer("foo", {{"x", one(b.f16({1}))}}, 4, 9).status(), {"unknown op 'foo'"}, 4, 9);
}

TEST(OpRegistry, UnknownArgumentListsTheKnownOnes) {
  OpBench b;
  auto r = b.infer("relu", {{"x", one(b.f16({2}))}, {"alpha", one(b.f(DT::kFp16, 1))}}, 3, 5);
  expect_error(r.status(), {"relu 'op_under_test'", "argument 'alpha'", "unknown argument", "takes: x"}, 3, 5);
}

TEST(OpRegistry, MissingRequiredArgument) {
  OpBench b;
  expect_error(b.infer("add", {{"x", one(b.f16({2}))}}, 2, 1).status(), {"argument 'y'", "missing required argument"}, 2, 1);
}

TEST(OpRegistry, NonConstantWhereConstantRequired) {
  OpBench b;
  auto r = b.infer("reduce_sum", {{"x", one(b.f16({2, 3}))}, {"axes", one(b.t(DT::kInt32, {1}))}}, 5, 2);
  expect_error(r.status(), {"argument 'axes'", "must be a compile-time constant"}, 5, 2);
}

TEST(OpRegistry, TupleWhereSingleExpectedAndBack) {
  OpBench b;
  Value* a = b.f16({2});
  expect_error(b.infer("concat", {{"values", one(a)}, {"axis", one(b.i(0))}}, 1, 1).status(), {"expects a tuple"}, 1, 1);
  expect_error(b.infer("relu", {{"x", OpBench::tuple({a, a})}}, 1, 2).status(), {"expects a single value"}, 1, 2);
}

TEST(OpRegistry, ArgumentGivenTwice) {
  OpBench b;
  Value* a = b.f16({2});
  expect_error(b.infer("relu", {{"x", one(a)}, {"x", one(a)}}, 6, 6).status(), {"given twice"}, 6, 6);
}

// --- elementwise -----------------------------------------------------------------------------

TEST(Elementwise, BroadcastsLikeNumPy) {
  OpBench b;
  for (const char* op : {"add", "sub", "mul", "real_div", "pow", "maximum", "minimum"}) {
    EXPECT_EQ(shape_of(b.infer(op, {{"x", one(b.f16({1, 768, 1, 256}))}, {"y", one(b.f16({1, 1, 1, 256}))}})),
              (Shape{1, 768, 1, 256}))
        << op;
  }
  EXPECT_EQ(shape_of(b.infer("add", {{"x", one(b.f16({3, 1, 5}))}, {"y", one(b.f16({4, 1}))}})), (Shape{3, 4, 5}));
  EXPECT_EQ(shape_of(b.infer("mul", {{"x", one(b.f16({2, 3}))}, {"y", one(b.f(DT::kFp16, 0.5))}})), (Shape{2, 3}));
  EXPECT_EQ(shape_of(b.infer("mul", {{"x", one(b.f(DT::kFp16, 0.5))}, {"y", one(b.f16({2, 3}))}})), (Shape{2, 3}));
}

TEST(Elementwise, ShapesThatDoNotBroadcast) {
  OpBench b;
  auto r = b.infer("add", {{"x", one(b.f16({1, 768, 1, 256}))}, {"y", one(b.f16({1, 512, 1, 256}))}}, 12, 4);
  expect_error(r.status(), {"add 'op_under_test'", "[1, 768, 1, 256] and [1, 512, 1, 256]", "do not broadcast"}, 12, 4);
}

TEST(Elementwise, DtypesMustMatch) {
  OpBench b;
  auto r = b.infer("mul", {{"x", one(b.f16({2}))}, {"y", one(b.t(DT::kFp32, {2}))}}, 8, 8);
  expect_error(r.status(), {"argument 'y'", "dtype fp32 does not match x's fp16"}, 8, 8);
}

TEST(Elementwise, SelectBroadcastsAllThree) {
  OpBench b;
  auto r = b.infer("select", {{"cond", one(b.t(DT::kBool, {1, 1, 4, 4}))}, {"a", one(b.f16({1, 2, 4, 4}))},
                              {"b", one(b.f(DT::kFp16, -65504))}});
  EXPECT_EQ(shape_of(r), (Shape{1, 2, 4, 4}));
  auto bad = b.infer("select", {{"cond", one(b.f16({4}))}, {"a", one(b.f16({4}))}, {"b", one(b.f16({4}))}}, 2, 2);
  expect_error(bad.status(), {"argument 'cond'", "dtype fp16; expected bool"}, 2, 2);
}

// --- activations -----------------------------------------------------------------------------

TEST(Activation, UnaryOpsKeepType) {
  OpBench b;
  for (const char* op : {"sigmoid", "tanh", "relu", "silu", "exp", "sqrt", "log", "rsqrt", "inverse", "gelu", "softmax"}) {
    EXPECT_EQ(single(b.infer(op, {{"x", one(b.t(DT::kFp32, {2, 3}))}})), (TensorType{DT::kFp32, {2, 3}})) << op;
  }
  EXPECT_EQ(shape_of(b.infer("rsqrt", {{"x", one(b.f16({4}))}, {"epsilon", one(b.f(DT::kFp16, 1e-5))}})), (Shape{4}));
  EXPECT_EQ(shape_of(b.infer("gelu", {{"x", one(b.f16({4}))}, {"mode", one(b.s("TANH_APPROXIMATION"))}})), (Shape{4}));
  EXPECT_EQ(shape_of(b.infer("clip", {{"x", one(b.f16({4}))}, {"alpha", one(b.f(DT::kFp16, 0))},
                                      {"beta", one(b.f(DT::kFp16, 6))}})),
            (Shape{4}));
  EXPECT_EQ(shape_of(b.infer("softmax", {{"x", one(b.f16({1, 12, 256, 256}))}, {"axis", one(b.i(-1))}})),
            (Shape{1, 12, 256, 256}));
}

TEST(Activation, IntegerInputRejected) {
  OpBench b;
  expect_error(b.infer("sigmoid", {{"x", one(b.t(DT::kInt32, {4}))}}, 3, 3).status(),
               {"argument 'x'", "dtype int32; expected fp16, fp32 or bf16"}, 3, 3);
}

TEST(Activation, GeluModeChecked) {
  OpBench b;
  expect_error(b.infer("gelu", {{"x", one(b.f16({4}))}, {"mode", one(b.s("FAST"))}}, 9, 1).status(),
               {"argument 'mode'", "'FAST' is not one of EXACT"}, 9, 1);
}

TEST(Activation, SoftmaxAxisOutOfRange) {
  OpBench b;
  expect_error(b.infer("softmax", {{"x", one(b.f16({1, 2, 3, 4}))}, {"axis", one(b.i(4))}}, 10, 2).status(),
               {"argument 'axis'", "axis 4 out of range for rank 4"}, 10, 2);
}

TEST(Activation, EpsilonMustMatchDtypeAndBeScalar) {
  OpBench b;
  expect_error(b.infer("log", {{"x", one(b.f16({4}))}, {"epsilon", one(b.f(DT::kFp32, 1e-4))}}, 1, 4).status(),
               {"argument 'epsilon'", "does not match x's fp16"}, 1, 4);
}

TEST(Activation, ClipBoundsOrdered) {
  OpBench b;
  auto r = b.infer("clip", {{"x", one(b.f16({4}))}, {"alpha", one(b.f(DT::kFp16, 2))}, {"beta", one(b.f(DT::kFp16, 1))}}, 4, 4);
  expect_error(r.status(), {"argument 'beta'", "below alpha"}, 4, 4);
}

// --- conv, matmul, linear --------------------------------------------------------------------

TEST(Conv, OneByOneLinearLayer) {
  OpBench b;
  auto r = b.infer("conv", {{"x", one(b.f16({1, 768, 1, 256}))}, {"weight", one(b.f16({2048, 768, 1, 1}))},
                            {"pad_type", one(b.s("valid"))}, {"strides", one(b.ints({1, 1}))},
                            {"pad", one(b.ints({0, 0, 0, 0}))}, {"dilations", one(b.ints({1, 1}))}, {"groups", one(b.i(1))}});
  EXPECT_EQ(single(r), (TensorType{DT::kFp16, {1, 2048, 1, 256}}));
}

TEST(Conv, StridesPaddingDilationGroups) {
  OpBench b;
  // 3x3, stride 2, valid: floor((32 - 3) / 2) + 1 = 15.
  EXPECT_EQ(shape_of(b.infer("conv", {{"x", one(b.f16({2, 8, 32, 32}))}, {"weight", one(b.f16({16, 8, 3, 3}))},
                                      {"strides", one(b.ints({2, 2}))}})),
            (Shape{2, 16, 15, 15}));
  // same: ceil(33 / 2) = 17.
  EXPECT_EQ(shape_of(b.infer("conv", {{"x", one(b.f16({1, 8, 33, 10}))}, {"weight", one(b.f16({4, 8, 3, 3}))},
                                      {"strides", one(b.ints({2, 1}))}, {"pad_type", one(b.s("same"))}})),
            (Shape{1, 4, 17, 10}));
  // custom pad 1/2 on H and 0/0 on W, dilation 2: kernel 5; H = 10 + 3 - 5 + 1 = 9; W = 10 - 5 + 1 = 6.
  EXPECT_EQ(shape_of(b.infer("conv", {{"x", one(b.f16({1, 4, 10, 10}))}, {"weight", one(b.f16({4, 4, 3, 3}))},
                                      {"pad_type", one(b.s("custom"))}, {"pad", one(b.ints({1, 2, 0, 0}))},
                                      {"dilations", one(b.ints({2, 2}))}})),
            (Shape{1, 4, 9, 6}));
  // depthwise: groups = Cin, weight [Cout, 1, k].
  EXPECT_EQ(shape_of(b.infer("conv", {{"x", one(b.f16({1, 6, 20}))}, {"weight", one(b.f16({12, 1, 5}))},
                                      {"groups", one(b.i(6))}})),
            (Shape{1, 12, 16}));
  // with bias.
  EXPECT_EQ(shape_of(b.infer("conv", {{"x", one(b.f16({1, 6, 1, 4}))}, {"weight", one(b.f16({3, 6, 1, 1}))},
                                      {"bias", one(b.f16({3}))}})),
            (Shape{1, 3, 1, 4}));
}

TEST(Conv, ChannelMismatchNamesTheRule) {
  OpBench b;
  auto r = b.infer("conv", {{"x", one(b.f16({1, 512, 1, 256}))}, {"weight", one(b.f16({768, 768, 1, 1}))}}, 14, 5);
  expect_error(r.status(),
               {"conv 'op_under_test'", "argument 'weight'",
                "weight has 768 input channels per group but x has 512 channels (groups = 1)"},
               14, 5);
}

TEST(Conv, GroupsMustDivideChannels) {
  OpBench b;
  auto r = b.infer("conv", {{"x", one(b.f16({1, 6, 1, 4}))}, {"weight", one(b.f16({4, 1, 1, 1}))}, {"groups", one(b.i(4))}}, 2, 9);
  expect_error(r.status(), {"argument 'groups'", "not divisible by groups = 4"}, 2, 9);
}

TEST(Conv, BadPadTypeStridesAndKernel) {
  OpBench b;
  Value* x = b.f16({1, 4, 8, 8});
  Value* w = b.f16({4, 4, 3, 3});
  expect_error(b.infer("conv", {{"x", one(x)}, {"weight", one(w)}, {"pad_type", one(b.s("full"))}}, 1, 1).status(),
               {"argument 'pad_type'", "'full' is not one of valid"}, 1, 1);
  expect_error(b.infer("conv", {{"x", one(x)}, {"weight", one(w)}, {"strides", one(b.ints({1, 1, 1}))}}, 1, 2).status(),
               {"argument 'strides'", "has 3 values; expected 2"}, 1, 2);
  expect_error(b.infer("conv", {{"x", one(x)}, {"weight", one(b.f16({4, 4, 9, 3}))}}, 1, 3).status(),
               {"dilated kernel size 9 exceeds padded input size 8"}, 1, 3);
  expect_error(b.infer("conv", {{"x", one(x)}, {"weight", one(w)}, {"bias", one(b.f16({5}))}}, 1, 4).status(),
               {"argument 'bias'", "must be [4]"}, 1, 4);
}

TEST(Matmul, TransposesAndBatchBroadcast) {
  OpBench b;
  // Q @ K^T: [1, 12, 256, 64] x [1, 12, 256, 64]^T -> [1, 12, 256, 256].
  EXPECT_EQ(shape_of(b.infer("matmul", {{"x", one(b.f16({1, 12, 256, 64}))}, {"y", one(b.f16({1, 12, 256, 64}))},
                                        {"transpose_x", one(b.b(false))}, {"transpose_y", one(b.b(true))}})),
            (Shape{1, 12, 256, 256}));
  EXPECT_EQ(shape_of(b.infer("matmul", {{"x", one(b.f16({64, 8}))}, {"y", one(b.f16({64, 5}))},
                                        {"transpose_x", one(b.b(true))}})),
            (Shape{8, 5}));
  EXPECT_EQ(shape_of(b.infer("matmul", {{"x", one(b.f16({10, 4, 3}))}, {"y", one(b.f16({5, 1, 3, 2}))}})),
            (Shape{5, 10, 4, 2}));
}

TEST(Matmul, RankOneRules) {
  OpBench b;
  EXPECT_EQ(shape_of(b.infer("matmul", {{"x", one(b.f16({4}))}, {"y", one(b.f16({10, 4, 3}))}})), (Shape{10, 3}));
  EXPECT_EQ(shape_of(b.infer("matmul", {{"x", one(b.f16({10, 3, 4}))}, {"y", one(b.f16({4}))}})), (Shape{10, 3}));
  EXPECT_EQ(shape_of(b.infer("matmul", {{"x", one(b.f16({4}))}, {"y", one(b.f16({4}))}})), (Shape{}));
  expect_error(b.infer("matmul", {{"x", one(b.f16({4}))}, {"y", one(b.f16({4, 2}))}, {"transpose_x", one(b.b(true))}}, 3, 1)
                   .status(),
               {"argument 'transpose_x'", "x is rank 1"}, 3, 1);
}

TEST(Matmul, InnerDimensionMismatch) {
  OpBench b;
  auto r = b.infer("matmul", {{"x", one(b.f16({1, 12, 256, 64}))}, {"y", one(b.f16({1, 12, 32, 256}))}}, 21, 7);
  expect_error(r.status(), {"x's inner dimension 64 vs y's 32"}, 21, 7);
  auto batch = b.infer("matmul", {{"x", one(b.f16({2, 3, 4}))}, {"y", one(b.f16({3, 4, 5}))}}, 22, 7);
  expect_error(batch.status(), {"batch dimensions", "do not broadcast"}, 22, 7);
}

TEST(Linear, LastDimensionContracted) {
  OpBench b;
  EXPECT_EQ(shape_of(b.infer("linear", {{"x", one(b.f16({2, 7, 16}))}, {"weight", one(b.f16({32, 16}))},
                                        {"bias", one(b.f16({32}))}})),
            (Shape{2, 7, 32}));
  expect_error(b.infer("linear", {{"x", one(b.f16({2, 15}))}, {"weight", one(b.f16({32, 16}))}}, 5, 5).status(),
               {"takes 16 input features but x's last dimension is 15"}, 5, 5);
}

// --- reductions ------------------------------------------------------------------------------

TEST(Reduce, AxesKeepDimsAndNegativeAxes) {
  OpBench b;
  Value* x = b.f16({1, 768, 1, 256});
  EXPECT_EQ(shape_of(b.infer("reduce_sum", {{"x", one(x)}, {"axes", one(b.ints({1}))}, {"keep_dims", one(b.b(true))}})),
            (Shape{1, 1, 1, 256}));
  EXPECT_EQ(shape_of(b.infer("reduce_mean", {{"x", one(x)}, {"axes", one(b.ints({-1, 1}))}})), (Shape{1, 1}));
  EXPECT_EQ(shape_of(b.infer("reduce_max", {{"x", one(x)}})), (Shape{}));
  EXPECT_EQ(shape_of(b.infer("reduce_min", {{"x", one(x)}, {"keep_dims", one(b.b(true))}})), (Shape{1, 1, 1, 1}));
}

TEST(Reduce, BadAxes) {
  OpBench b;
  Value* x = b.f16({2, 3});
  expect_error(b.infer("reduce_sum", {{"x", one(x)}, {"axes", one(b.ints({2}))}}, 6, 1).status(),
               {"axis 2 out of range for rank 2"}, 6, 1);
  expect_error(b.infer("reduce_sum", {{"x", one(x)}, {"axes", one(b.ints({1, -1}))}}, 6, 2).status(),
               {"axis -1 repeated in [1, -1]"}, 6, 2);
}

// --- shape ops -------------------------------------------------------------------------------

TEST(Reshape, MinusOneAndZero) {
  OpBench b;
  Value* x = b.f16({1, 768, 1, 256});
  EXPECT_EQ(shape_of(b.infer("reshape", {{"x", one(x)}, {"shape", one(b.ints({1, 12, 64, 256}))}})), (Shape{1, 12, 64, 256}));
  EXPECT_EQ(shape_of(b.infer("reshape", {{"x", one(x)}, {"shape", one(b.ints({1, 12, -1, 256}))}})), (Shape{1, 12, 64, 256}));
  EXPECT_EQ(shape_of(b.infer("reshape", {{"x", one(x)}, {"shape", one(b.ints({0, 12, -1, 0}))}})), (Shape{1, 12, 64, 256}));
  // iOS17+: zeros count from the right; past x's rank they become 1.
  EXPECT_EQ(shape_of(b.infer("reshape", {{"x", one(b.f16({2, 50}))}, {"shape", one(b.ints({1, 0, -1, 0}))}})),
            (Shape{1, 1, 2, 50}));
}

TEST(Reshape, ElementCountMustMatch) {
  OpBench b;
  Value* x = b.f16({1, 768, 1, 256});
  expect_error(b.infer("reshape", {{"x", one(x)}, {"shape", one(b.ints({1, 12, 64, 255}))}}, 30, 1).status(),
               {"cannot reshape x [1, 768, 1, 256] (196608 elements) to [1, 12, 64, 255] (195840 elements)"}, 30, 1);
  expect_error(b.infer("reshape", {{"x", one(x)}, {"shape", one(b.ints({-1, -1}))}}, 30, 2).status(), {"more than one -1"}, 30, 2);
  expect_error(b.infer("reshape", {{"x", one(x)}, {"shape", one(b.ints({7, -1}))}}, 30, 3).status(), {"cannot infer -1"}, 30, 3);
}

TEST(Transpose, PermutesAndChecks) {
  OpBench b;
  Value* x = b.f16({1, 12, 64, 256});
  EXPECT_EQ(shape_of(b.infer("transpose", {{"x", one(x)}, {"perm", one(b.ints({0, 1, 3, 2}))}})), (Shape{1, 12, 256, 64}));
  expect_error(b.infer("transpose", {{"x", one(x)}, {"perm", one(b.ints({0, 1, 1, 3}))}}, 11, 4).status(),
               {"perm [0, 1, 1, 3] is not a permutation of 0..3"}, 11, 4);
  expect_error(b.infer("transpose", {{"x", one(x)}, {"perm", one(b.ints({0, 1, 2}))}}, 11, 5).status(),
               {"perm [0, 1, 2] is not a permutation of 0..3"}, 11, 5);
}

TEST(Concat, AxisSumAndInterleave) {
  OpBench b;
  Value* a = b.f16({1, 768, 1, 256});
  Value* c = b.f16({1, 2048, 1, 256});
  EXPECT_EQ(shape_of(b.infer("concat", {{"values", OpBench::tuple({a, c, a})}, {"axis", one(b.i(1))},
                                        {"interleave", one(b.b(false))}})),
            (Shape{1, 3584, 1, 256}));
  EXPECT_EQ(shape_of(b.infer("concat", {{"values", OpBench::tuple({a, a})}, {"axis", one(b.i(-1))}, {"interleave", one(b.b(true))}})),
            (Shape{1, 768, 1, 512}));
  expect_error(b.infer("concat", {{"values", OpBench::tuple({a, c})}, {"axis", one(b.i(1))}, {"interleave", one(b.b(true))}}, 3, 3)
                   .status(),
               {"values[1] has shape [1, 2048, 1, 256]", "all shapes must be equal with interleave = true"}, 3, 3);
}

TEST(Concat, OtherDimensionsMustMatch) {
  OpBench b;
  auto r = b.infer("concat", {{"values", OpBench::tuple({b.f16({1, 4, 1, 8}), b.f16({1, 4, 1, 9})})}, {"axis", one(b.i(1))}}, 17, 2);
  expect_error(r.status(), {"values[1] has shape [1, 4, 1, 9] but values[0] has [1, 4, 1, 8]", "except axis 1"}, 17, 2);
  auto dt = b.infer("concat", {{"values", OpBench::tuple({b.f16({2}), b.t(DT::kFp32, {2})})}, {"axis", one(b.i(0))}}, 17, 3);
  expect_error(dt.status(), {"does not match values[0]'s fp16"}, 17, 3);
}

TEST(Split, EvenAndSizes) {
  OpBench b;
  Value* x = b.f16({1, 96, 1, 8});
  auto even = b.infer("split", {{"x", one(x)}, {"num_splits", one(b.i(3))}, {"axis", one(b.i(1))}});
  ASSERT_TRUE(even.ok()) << even.error().to_string();
  ASSERT_EQ(even->size(), 3u);
  for (const auto& t : *even) EXPECT_EQ(t.shape, (Shape{1, 32, 1, 8}));
  auto sizes = b.infer("split", {{"x", one(x)}, {"split_sizes", one(b.ints({64, 32}))}, {"axis", one(b.i(-3))}});
  ASSERT_TRUE(sizes.ok()) << sizes.error().to_string();
  ASSERT_EQ(sizes->size(), 2u);
  EXPECT_EQ((*sizes)[0].shape, (Shape{1, 64, 1, 8}));
  EXPECT_EQ((*sizes)[1].shape, (Shape{1, 32, 1, 8}));
  expect_error(b.infer("split", {{"x", one(x)}, {"num_splits", one(b.i(5))}, {"axis", one(b.i(1))}}, 2, 2).status(),
               {"num_splits 5 does not divide the split dimension 96"}, 2, 2);
  expect_error(b.infer("split", {{"x", one(x)}, {"split_sizes", one(b.ints({64, 16}))}, {"axis", one(b.i(1))}}, 2, 3).status(),
               {"do not add up to the split dimension 96"}, 2, 3);
  expect_error(b.infer("split", {{"x", one(x)}, {"axis", one(b.i(1))}}, 2, 4).status(), {"one of num_splits or split_sizes"}, 2, 4);
}

TEST(SliceBySize, MinusOneToTheEnd) {
  OpBench b;
  Value* x = b.f16({1, 3584, 1, 256});
  EXPECT_EQ(shape_of(b.infer("slice_by_size", {{"x", one(x)}, {"begin", one(b.ints({0, 768, 0, 0}))},
                                               {"size", one(b.ints({1, 2048, 1, 256}))}})),
            (Shape{1, 2048, 1, 256}));
  EXPECT_EQ(shape_of(b.infer("slice_by_size", {{"x", one(x)}, {"begin", one(b.ints({0, 768, 0, 10}))},
                                               {"size", one(b.ints({-1, -1, 1, -1}))}})),
            (Shape{1, 2816, 1, 246}));
  expect_error(b.infer("slice_by_size", {{"x", one(x)}, {"begin", one(b.ints({0, 3000, 0, 0}))},
                                         {"size", one(b.ints({1, 768, 1, 256}))}}, 40, 1)
                   .status(),
               {"argument 'size'", "does not fit in x [1, 3584, 1, 256] at axis 1"}, 40, 1);
  expect_error(b.infer("slice_by_size", {{"x", one(x)}, {"begin", one(b.ints({0, 0}))}, {"size", one(b.ints({1, 1}))}}, 40, 2)
                   .status(),
               {"argument 'begin'", "expected 4 values"}, 40, 2);
}

TEST(SliceByIndex, PythonSliceSemantics) {
  OpBench b;
  Value* x = b.f16({4, 10, 6});
  // x[1:3, ::2, -1] with the last axis squeezed.
  auto r = b.infer("slice_by_index", {{"x", one(x)}, {"begin", one(b.ints({1, 0, -1}))}, {"end", one(b.ints({3, 0, 0}))},
                                      {"stride", one(b.ints({1, 2, 1}))}, {"begin_mask", one(b.bools({false, true, false}))},
                                      {"end_mask", one(b.bools({false, true, false}))},
                                      {"squeeze_mask", one(b.bools({false, false, true}))}});
  EXPECT_EQ(shape_of(r), (Shape{2, 5}));
  // Negative stride and clamping: x[::-1, 8:100, -4:-1].
  auto rev = b.infer("slice_by_index", {{"x", one(x)}, {"begin", one(b.ints({0, 8, -4}))}, {"end", one(b.ints({0, 100, -1}))},
                                        {"stride", one(b.ints({-1, 1, 1}))}, {"begin_mask", one(b.bools({true, false, false}))},
                                        {"end_mask", one(b.bools({true, false, false}))}});
  EXPECT_EQ(shape_of(rev), (Shape{4, 2, 3}));
  expect_error(b.infer("slice_by_index", {{"x", one(x)}, {"begin", one(b.ints({0, 5, 0}))}, {"end", one(b.ints({4, 5, 6}))}}, 8, 2)
                   .status(),
               {"empty slice 5:5:1 at axis 1"}, 8, 2);
  expect_error(b.infer("slice_by_index", {{"x", one(x)}, {"begin", one(b.ints({0, 0}))}, {"end", one(b.ints({4, 5, 6}))}}, 8, 3)
                   .status(),
               {"argument 'begin'", "has 2 values; x has rank 3"}, 8, 3);
}

TEST(ShapeOps, TileExpandDimsSqueezeGather) {
  OpBench b;
  EXPECT_EQ(shape_of(b.infer("tile", {{"x", one(b.f16({1, 2, 3}))}, {"reps", one(b.ints({4, 1, 2}))}})), (Shape{4, 2, 6}));
  EXPECT_EQ(shape_of(b.infer("expand_dims", {{"x", one(b.f16({768, 256}))}, {"axes", one(b.ints({0, -2}))}})),
            (Shape{1, 768, 1, 256}));
  EXPECT_EQ(shape_of(b.infer("squeeze", {{"x", one(b.f16({1, 768, 1, 256}))}})), (Shape{768, 256}));
  EXPECT_EQ(shape_of(b.infer("squeeze", {{"x", one(b.f16({1, 768, 1, 256}))}, {"axes", one(b.ints({-2}))}})),
            (Shape{1, 768, 256}));
  // Embedding lookup: x [V, D], indices [1, S] -> [1, S, D].
  EXPECT_EQ(shape_of(b.infer("gather", {{"x", one(b.f16({32000, 768}))}, {"indices", one(b.t(DT::kInt32, {1, 256}))},
                                        {"axis", one(b.i(0))}})),
            (Shape{1, 256, 768}));
  EXPECT_EQ(shape_of(b.infer("gather", {{"x", one(b.f16({2, 5, 3}))}, {"indices", one(b.t(DT::kInt32, {4}))},
                                        {"axis", one(b.i(-2))}})),
            (Shape{2, 4, 3}));
}

TEST(ShapeOps, SqueezeExpandTileGatherErrors) {
  OpBench b;
  expect_error(b.infer("squeeze", {{"x", one(b.f16({1, 5}))}, {"axes", one(b.ints({1}))}}, 1, 1).status(),
               {"axis 1 of x [1, 5] has size 5, not 1"}, 1, 1);
  expect_error(b.infer("expand_dims", {{"x", one(b.f16({3}))}, {"axes", one(b.ints({3}))}}, 1, 2).status(),
               {"axis 3 out of range for rank 2"}, 1, 2);
  expect_error(b.infer("tile", {{"x", one(b.f16({3}))}, {"reps", one(b.ints({2, 2}))}}, 1, 3).status(),
               {"has 2 values; x has rank 1"}, 1, 3);
  expect_error(b.infer("gather", {{"x", one(b.f16({3, 4}))}, {"indices", one(b.f16({2}))}}, 1, 4).status(),
               {"argument 'indices'", "dtype fp16"}, 1, 4);
}

// --- layer_norm, cast, const -----------------------------------------------------------------

TEST(LayerNorm, GammaShapedLikeNormalisedAxes) {
  OpBench b;
  Value* x = b.f16({2, 7, 64});
  EXPECT_EQ(shape_of(b.infer("layer_norm", {{"x", one(x)}, {"axes", one(b.ints({-1}))}, {"gamma", one(b.f16({64}))},
                                            {"beta", one(b.f16({64}))}, {"epsilon", one(b.f(DT::kFp16, 1e-5))}})),
            (Shape{2, 7, 64}));
  expect_error(b.infer("layer_norm", {{"x", one(x)}, {"axes", one(b.ints({-1}))}, {"gamma", one(b.f16({7}))}}, 3, 6).status(),
               {"argument 'gamma'", "shape [7] must equal the normalised dimensions [64]"}, 3, 6);
}

TEST(Cast, ChangesDtypeOnly) {
  OpBench b;
  EXPECT_EQ(single(b.infer("cast", {{"x", one(b.t(DT::kFp32, {1, 8}))}, {"dtype", one(b.s("fp16"))}})),
            (TensorType{DT::kFp16, {1, 8}}));
  expect_error(b.infer("cast", {{"x", one(b.f16({1}))}, {"dtype", one(b.s("float17"))}}, 2, 8).status(),
               {"'float17' is not a numeric or bool dtype"}, 2, 8);
}

TEST(Const, TypeFromVal) {
  Op op;
  op.type = "const";
  op.loc = Location::text("t.mil", 5, 5);
  Value out;
  out.constant = Constant::float_tensor(DT::kFp16, {2, 2}, {1, 2, 3, 4});
  op.outputs.push_back(&out);
  auto r = infer_op(op);
  EXPECT_EQ(single(r), (TensorType{DT::kFp16, {2, 2}}));
  out.constant->data.resize(3);
  expect_error(infer_op(op).status(), {"has 3 bytes of data for type tensor<fp16, [2, 2]>"}, 5, 5);
  out.constant.reset();
  expect_error(infer_op(op).status(), {"const has no value"}, 5, 5);
}

// --- quantization ----------------------------------------------------------------------------

TEST(Quantize, PerTensorAndPerAxis) {
  OpBench b;
  Value* x = b.f16({4, 8});
  auto q = b.infer("quantize", {{"input", one(x)}, {"scale", one(b.f(DT::kFp16, 0.1))},
                                {"zero_point", one(b.c(Constant::scalar_int(DT::kInt8, 0)))},
                                {"output_dtype", one(b.s("int8"))}});
  EXPECT_EQ(single(q), (TensorType{DT::kInt8, {4, 8}}));
  auto dq = b.infer("dequantize", {{"input", one(b.t(DT::kUint8, {4, 8}))},
                                   {"scale", one(b.c(Constant::float_tensor(DT::kFp32, {4}, {1, 2, 3, 4})))},
                                   {"axis", one(b.i(0))}});
  EXPECT_EQ(single(dq), (TensorType{DT::kFp32, {4, 8}}));
  auto cq = b.infer("constexpr_affine_dequantize",
                    {{"quantized_data", one(b.c(Constant::int_tensor(DT::kInt8, {1, 2, 3, 4, 5, 6})))},
                     {"zero_point", one(b.c(Constant::scalar_int(DT::kInt8, 0)))},
                     {"scale", one(b.f(DT::kFp16, 0.5))},
                     {"axis", one(b.i(0))}});
  EXPECT_EQ(single(cq), (TensorType{DT::kFp16, {6}}));
}

TEST(Quantize, ScaleLengthAndDtype) {
  OpBench b;
  auto r = b.infer("dequantize", {{"input", one(b.t(DT::kInt8, {4, 8}))},
                                  {"scale", one(b.c(Constant::float_tensor(DT::kFp16, {3}, {1, 2, 3})))},
                                  {"axis", one(b.i(1))}},
                   9, 9);
  expect_error(r.status(), {"argument 'scale'", "has 3 values but the data has 8 along axis 1"}, 9, 9);
  auto q = b.infer("quantize", {{"input", one(b.f16({4}))}, {"scale", one(b.f(DT::kFp16, 1))}, {"output_dtype", one(b.s("int4"))}}, 9, 10);
  expect_error(q.status(), {"'int4' is not int8 or uint8"}, 9, 10);
  auto zp = b.infer("quantize", {{"input", one(b.f16({4}))}, {"scale", one(b.f(DT::kFp16, 1))},
                                 {"zero_point", one(b.c(Constant::scalar_int(DT::kUint8, 0)))}, {"output_dtype", one(b.s("int8"))}},
                    9, 11);
  expect_error(zp.status(), {"argument 'zero_point'", "dtype uint8 does not match output_dtype's int8"}, 9, 11);
}

}  // namespace
}  // namespace ane::mil
