// The interpreter and its glue: unsupported ops, constants, casts, output dtypes,
// quantisation, and the run-time contract.
#include "backends/ref/ref_backend.h"

#include <gtest/gtest.h>

#include <cmath>

#include "../support/mil_fixture.h"
#include "backends/ref/quantize.h"
#include "ref_test_util.h"

namespace ane {
namespace {

using testing::FnBuilder;
using testing::fp16;
using testing::fp32;

TEST(RefBackend, UnsupportedOpNamesTypeAndLine) {
  FnBuilder b;
  auto* x = b.param("x", fp32({2}));
  b.returns({b.op("frobnicate", {{"x", x}}, fp32({2}))});
  auto backend = make_reference_backend();
  EXPECT_FALSE(backend->supports_op(*b.fn().ops.back()));
  auto exe = backend->compile(b.fn(), {});
  ASSERT_FALSE(exe.ok());
  EXPECT_EQ(exe.error().code(), ErrorCode::kUnsupported);
  EXPECT_NE(exe.error().message().find("frobnicate"), std::string::npos);
  EXPECT_EQ(exe.error().where().line, b.line());
  EXPECT_NE(exe.error().to_string().find("test.mil:" + std::to_string(b.line())), std::string::npos);
}

TEST(RefBackend, SupportsEveryImplementedFamily) {
  FnBuilder b;
  auto backend = make_reference_backend();
  for (const char* type : {"add", "mul", "select", "softmax", "layer_norm", "gelu", "conv", "matmul", "linear",
                           "reduce_sum", "reshape", "concat", "slice_by_index", "gather", "const", "cast", "quantize",
                           "constexpr_affine_dequantize", "rsqrt", "clip"}) {
    mil::Op op;
    op.type = type;
    EXPECT_TRUE(backend->supports_op(op)) << type;
  }
}

TEST(RefBackend, ConstantsCastAndFp16OutputRounding) {
  FnBuilder b;
  auto* x = b.param("x", fp16({3}));
  auto* k = b.constant("k", mil::Constant::float_tensor(mil::DType::kFp32, {3}, {0.1f, 1000.0f, -2.5f}));
  auto* xf = b.op("cast", {{"x", x}, {"dtype", b.string_lit("fp32")}}, fp32({3}));
  auto* sum = b.op("mul", {{"x", xf}, {"y", k}}, fp32({3}));
  auto* h = b.op("cast", {{"x", sum}, {"dtype", b.string_lit("fp16")}}, fp16({3}));
  auto* i = b.op("cast", {{"x", sum}, {"dtype", b.string_lit("int32")}}, testing::i32({3}));
  b.returns({sum, h, i});
  auto out = testing::run_ref(b.fn(), {{3.0, 70.0, 1.5}});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  const double k0 = static_cast<float>(0.1f);
  EXPECT_EQ((*out)[0][0], static_cast<float>(3.0 * k0));
  EXPECT_EQ((*out)[0][1], 70000.0);
  EXPECT_EQ((*out)[1][1], INFINITY);  // fp16 overflow
  EXPECT_EQ((*out)[1][2], -3.75);
  EXPECT_EQ((*out)[2], (std::vector<double>{0, 70000, -3}));  // truncation toward zero
}

TEST(RefBackend, ConstantWithoutDataIsAnError) {
  FnBuilder b;
  auto* x = b.param("x", fp32({2}));
  mil::Constant blob;
  blob.type = fp32({2});
  blob.blob = mil::BlobRef{"@model_path/weights/w.bin", 64};
  auto* w = b.constant("w", blob);
  b.returns({b.op("add", {{"x", x}, {"y", w}}, fp32({2}))});
  auto out = testing::run_ref(b.fn(), {{1, 2}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message().find("'w'"), std::string::npos) << out.error().to_string();
}

TEST(RefBackend, QuantizeRoundsHalfToEvenAndSaturates) {
  ref::DTensor x(fp32({6}), {0.5, 1.5, 2.5, -0.5, 1000, -1000});
  ref::DTensor scale(fp32({}), {1.0});
  ref::DTensor zp(mil::TensorType{mil::DType::kInt8, {}}, {3});
  ref::DTensor y(mil::TensorType{mil::DType::kInt8, {6}});
  ref::quantize(x, scale, &zp, 0, mil::DType::kInt8, y);
  EXPECT_EQ(y.data, (std::vector<double>{3, 5, 5, 3, 127, -128}));
}

TEST(RefBackend, PerAxisDequantizeAndConstexprAtCompileTime) {
  FnBuilder b;
  auto* x = b.param("x", fp32({2, 3}));
  auto* q = b.lit(mil::Constant{mil::TensorType{mil::DType::kInt8, {2, 3}}, {1, 2, 3, 0xFF, 0xFE, 0}, {}, {}});
  auto* w = b.op("constexpr_affine_dequantize",
                 {{"quantized_data", q}, {"zero_point", b.lit(mil::Constant::int_tensor(mil::DType::kInt8, {1, -1}))},
                  {"scale", b.lit(mil::Constant::float_tensor(mil::DType::kFp32, {2}, {0.5f, 2.0f}))},
                  {"axis", b.int_lit(0)}},
                 fp32({2, 3}));
  b.returns({b.op("add", {{"x", x}, {"y", w}}, fp32({2, 3}))});
  auto out = testing::run_ref(b.fn(), {{0, 0, 0, 10, 10, 10}});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  // Row 0: (q - 1) * 0.5; row 1: (q + 1) * 2 with q = -1, -2, 0.
  EXPECT_EQ((*out)[0], (std::vector<double>{0, 0.5, 1, 10, 8, 12}));
}

TEST(RefBackend, QuantizeDequantizeRoundTripThroughBackend) {
  FnBuilder b;
  auto* x = b.param("x", fp32({4}));
  auto* q = b.op("quantize", {{"input", x}, {"scale", b.float_lit(0.25)},
                              {"zero_point", b.lit(mil::Constant::scalar_int(mil::DType::kUint8, 128))},
                              {"output_dtype", b.string_lit("uint8")}},
                 mil::TensorType{mil::DType::kUint8, {4}});
  auto* d = b.op("dequantize", {{"input", q}, {"scale", b.float_lit(0.25)},
                                {"zero_point", b.lit(mil::Constant::scalar_int(mil::DType::kUint8, 128))}},
                 fp32({4}));
  b.returns({q, d});
  auto out = testing::run_ref(b.fn(), {{1.0, -0.3, 100.0, 0.125}});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ((*out)[0], (std::vector<double>{132, 127, 255, 128}));
  EXPECT_EQ((*out)[1], (std::vector<double>{1.0, -0.25, 31.75, 0.0}));
}

TEST(RefBackend, RunChecksBufferCountsAndSizes) {
  FnBuilder b;
  auto* x = b.param("x", fp32({2}));
  b.returns({b.op("relu", {{"x", x}}, fp32({2}))});
  auto exe = make_reference_backend()->compile(b.fn(), {});
  ASSERT_TRUE(exe.ok());
  std::vector<uint8_t> in(8), out(4);
  std::vector<std::span<const uint8_t>> ins{in};
  std::vector<std::span<uint8_t>> outs{out};
  EXPECT_FALSE((*exe)->run(IoBuffers{ins, outs}).ok());  // output too small
  EXPECT_FALSE((*exe)->run(IoBuffers{{}, outs}).ok());   // missing input
}

TEST(RefBackend, ExecutableOutlivesTheFunction) {
  std::unique_ptr<Executable> exe;
  {
    FnBuilder b;
    auto* x = b.param("x", fp32({2}));
    auto* k = b.constant("k", mil::Constant::float_tensor(mil::DType::kFp32, {2}, {1, 2}));
    b.returns({b.op("add", {{"x", x}, {"y", k}}, fp32({2}))});
    auto compiled = make_reference_backend()->compile(b.fn(), {});
    ASSERT_TRUE(compiled.ok());
    exe = std::move(*compiled);
  }  // program and backend gone
  const float in[2] = {10, 20};
  float out[2] = {};
  std::vector<std::span<const uint8_t>> ins{std::span(reinterpret_cast<const uint8_t*>(in), 8)};
  std::vector<std::span<uint8_t>> outs{std::span(reinterpret_cast<uint8_t*>(out), 8)};
  ASSERT_TRUE(exe->run(IoBuffers{ins, outs}).ok());
  EXPECT_EQ(out[0], 11);
  EXPECT_EQ(out[1], 22);
}

}  // namespace
}  // namespace ane
