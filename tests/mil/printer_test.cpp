// MIL printer: the canonical text, literal spellings, bit-exact float round trips and
// print(parse(print(p))) == print(p) on programs covering every construct.
#include "mil/printer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "core/fp16.h"
#include "mil/parser.h"
#include "mil_test_programs.h"

namespace ane::mil {
namespace {

std::unique_ptr<Program> parse_ok(std::string_view text) {
  auto r = parse_program(text, "test.mil");
  EXPECT_TRUE(r.ok()) << r.error().to_string() << "\n" << text;
  return r.ok() ? std::move(r).value() : nullptr;
}

// print(parse(print(p))) == print(p), for p parsed from `text`.
void expect_round_trip(std::string_view text) {
  auto p = parse_ok(text);
  ASSERT_TRUE(p);
  const std::string once = print_program(*p);
  auto q = parse_ok(once);
  ASSERT_TRUE(q);
  EXPECT_EQ(print_program(*q), once);
}

TEST(MilPrinter, RoundTripsOriginalStyleKernel) { expect_round_trip(testing::kOriginalStyleSdpa); }
TEST(MilPrinter, RoundTripsVerboseOlderTarget) { expect_round_trip(testing::kVerboseOlderTarget); }
TEST(MilPrinter, RoundTripsEveryConstruct) { expect_round_trip(testing::kEveryConstruct); }

TEST(MilPrinter, OriginalStyleKernelPrintsAsWritten) {
  // The original's style is the canonical style: the text comes back unchanged.
  auto p = parse_ok(testing::kOriginalStyleSdpa);
  ASSERT_TRUE(p);
  EXPECT_EQ(print_program(*p), testing::kOriginalStyleSdpa);
}

TEST(MilPrinter, CanonicalText) {
  auto p = parse_ok(R"(program(1.3)
[buildInfo = dict<tensor<string, []>, tensor<string, []>>({{"k", "v"}})]
{ func main<ios18>(tensor<fp16, [1, 2]> x, int32 n) {
  tensor<fp16, [1, 2]> a, tensor<fp16, [1, 2]> b = split(x = x, num_splits = tensor<int32, []>(2), axis = n);
  tensor<fp16, [2, 2]> c = concat(values = (a, b), axis = int32(0))[name = tensor<string, []>("c")];
  tensor<fp32, [2, 2]> m = const()[val = tensor<fp32, [2, 2]>([1, 2.5, 0x1p-24, -0])];
} -> (c, m); })");
  ASSERT_TRUE(p);
  EXPECT_EQ(print_program(*p), R"(program(1.3)
[buildInfo = dict<string, string>({{"k", "v"}})]
{
    func main<ios18>(tensor<fp16, [1, 2]> x, int32 n) {
        tensor<fp16, [1, 2]> a, tensor<fp16, [1, 2]> b = split(x = x, num_splits = int32(2), axis = n);
        tensor<fp16, [2, 2]> c = concat(values = (a, b), axis = int32(0))[name = string("c")];
        tensor<fp32, [2, 2]> m = const()[val = tensor<fp32, [2, 2]>([[1.0, 2.5], [5.9604645e-08, -0.0]])];
    } -> (c, m);
}
)");
}

TEST(MilPrinter, SeveralFunctionsAreSeparatedByABlankLine) {
  auto p = parse_ok("program(1.3) { func a<ios18>(fp16 x) { } -> (x); func b<ios17>() { } -> (); }");
  ASSERT_TRUE(p);
  EXPECT_EQ(print_program(*p),
            "program(1.3)\n{\n    func a<ios18>(fp16 x) {\n    } -> (x);\n\n    func b<ios17>() {\n    } -> ();\n}\n");
}

TEST(MilPrinter, ScalarLiterals) {
  EXPECT_EQ(print_constant(Constant::scalar_float(DType::kFp16, 0.5)), "fp16(0.5)");
  EXPECT_EQ(print_constant(Constant::scalar_float(DType::kFp32, 1.0)), "fp32(1.0)");
  EXPECT_EQ(print_constant(Constant::scalar_float(DType::kFp16, 0.1)), "fp16(0.099975586)");
  EXPECT_EQ(print_constant(Constant::scalar_float(DType::kFp32, -1e20)), "fp32(-1e+20)");
  EXPECT_EQ(print_constant(Constant::scalar_float(DType::kFp32, -INFINITY)), "fp32(-inf)");
  EXPECT_EQ(print_constant(Constant::scalar_float(DType::kFp16, NAN)), "fp16(nan)");
  EXPECT_EQ(print_constant(Constant::scalar_int(DType::kInt32, -1)), "int32(-1)");
  EXPECT_EQ(print_constant(Constant::scalar_int(DType::kUint64, -1)), "uint64(18446744073709551615)");
  EXPECT_EQ(print_constant(Constant::scalar_bool(true)), "bool(true)");
  EXPECT_EQ(print_constant(Constant::scalar_string("valid")), "string(\"valid\")");
  EXPECT_EQ(print_constant(Constant::scalar_string("q\"\\\n\x7f")), "string(\"q\\\"\\\\\\n\\x7f\")");
}

TEST(MilPrinter, TensorLiterals) {
  EXPECT_EQ(print_constant(Constant::int_tensor(DType::kInt32, {0, 1, 3, 2})), "tensor<int32, [4]>([0, 1, 3, 2])");
  EXPECT_EQ(print_constant(Constant::float_tensor(DType::kFp32, {2, 2}, {1, 2, 3, 4})),
            "tensor<fp32, [2, 2]>([[1.0, 2.0], [3.0, 4.0]])");
  EXPECT_EQ(print_constant(Constant::bool_tensor({true, false})), "tensor<bool, [2]>([true, false])");
  EXPECT_EQ(print_constant(Constant::int_tensor(DType::kInt32, {})), "tensor<int32, [0]>([])");
  Constant empty2d = Constant::float_tensor(DType::kFp16, {2, 0}, {});
  EXPECT_EQ(print_constant(empty2d), "tensor<fp16, [2, 0]>([[], []])");
  Constant w;
  w.type = {DType::kFp16, {768, 768, 1, 1}};
  w.blob = BlobRef{"@model_path/weights/wq.bin", 64};
  EXPECT_EQ(print_constant(w),
            "tensor<fp16, [768, 768, 1, 1]>(BLOBFILE(path = string(\"@model_path/weights/wq.bin\"), offset = uint64(64)))");
  w.type.shape.clear();
  EXPECT_EQ(print_constant(w), "tensor<fp16, []>(BLOBFILE(path = string(\"@model_path/weights/wq.bin\"), offset = uint64(64)))");
}

// The constant in `tensor<T, [n]> c = const()[val = LITERAL]` after parsing.
Constant reparse_constant(const Constant& c) {
  const std::string text = "program(1.3) { func main<ios18>() { " + c.type.to_string() + " c = const()[val = " +
                           print_constant(c) + "]; } -> (c); }";
  auto p = parse_program(text, "c.mil");
  EXPECT_TRUE(p.ok()) << p.error().to_string();
  return p.ok() ? *p.value()->functions[0]->values[0]->constant : Constant{};
}

TEST(MilPrinter, EveryHalfRoundTripsBitExactly) {
  std::vector<float> values;
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = half_to_float(static_cast<half_bits>(h));
    if (!std::isnan(f)) values.push_back(f);
  }
  const Constant c = Constant::float_tensor(DType::kFp16, {static_cast<int64_t>(values.size())}, values);
  EXPECT_EQ(reparse_constant(c).data, c.data);
}

TEST(MilPrinter, RandomFloatsRoundTripBitExactly) {
  std::mt19937 rng(1234);
  std::vector<float> values;
  while (values.size() < 100000) {
    const uint32_t bits = static_cast<uint32_t>(rng());
    float f;
    std::memcpy(&f, &bits, 4);
    if (!std::isnan(f)) values.push_back(f);
  }
  const Constant c = Constant::float_tensor(DType::kFp32, {static_cast<int64_t>(values.size())}, values);
  EXPECT_EQ(reparse_constant(c).data, c.data);
  const Constant b = Constant::float_tensor(DType::kBf16, {static_cast<int64_t>(values.size())}, values);
  EXPECT_EQ(reparse_constant(b).data, b.data);
}

TEST(MilPrinter, IntegerExtremesRoundTrip) {
  for (DType d : {DType::kInt8, DType::kUint8, DType::kInt16, DType::kUint16, DType::kInt32, DType::kUint32, DType::kInt64,
                  DType::kUint64}) {
    const Constant c = Constant::int_tensor(d, {0, -1, INT64_MIN, INT64_MAX, 1});
    EXPECT_EQ(reparse_constant(c), c) << dtype_name(d);
  }
}

TEST(MilPrinter, StringsWithEveryByteRoundTrip) {
  std::string all;
  for (int b = 1; b < 256; ++b) all += static_cast<char>(b);
  Constant c = Constant::scalar_string(all + std::string(1, '\0'));
  EXPECT_EQ(reparse_constant(c), c);
}

// A program built through the IR API (as the builder will) prints and parses back.
TEST(MilPrinter, ProgramBuiltInCode) {
  Program p;
  p.build_info = {{"source", "openane"}};
  Function* f = p.add_function("main", "ios18");
  Value* x = f->add_value("x", {DType::kFp16, {1, 4, 1, 8}}, ValueKind::kParam);
  f->inputs.push_back(x);
  Op* c = f->add_op("const");
  c->attributes.emplace_back("name", Constant::scalar_string("ax"));
  Value* ax = f->add_value("ax", {DType::kInt32, {}}, ValueKind::kOpResult);
  ax->constant = Constant::scalar_int(DType::kInt32, 1);
  ax->producer = c;
  c->outputs.push_back(ax);
  Op* sm = f->add_op("softmax");
  Value* lit = f->add_value("lit", {DType::kFp16, {}}, ValueKind::kLiteral);
  lit->constant = Constant::scalar_float(DType::kFp16, 2.0);
  sm->args.emplace_back("axis", Argument{{ax}, false});
  sm->args.emplace_back("x", Argument{{x}, false});
  sm->args.emplace_back("scale", Argument{{lit}, false});
  Value* y = f->add_value("y", {DType::kFp16, {1, 4, 1, 8}}, ValueKind::kOpResult);
  y->producer = sm;
  sm->outputs.push_back(y);
  f->outputs.push_back(y);
  const std::string text = print_program(p);
  EXPECT_EQ(text, R"(program(1.3)
[buildInfo = dict<string, string>({{"source", "openane"}})]
{
    func main<ios18>(tensor<fp16, [1, 4, 1, 8]> x) {
        int32 ax = const()[name = string("ax"), val = int32(1)];
        tensor<fp16, [1, 4, 1, 8]> y = softmax(axis = ax, x = x, scale = fp16(2.0));
    } -> (y);
}
)");
  expect_round_trip(text);
}

}  // namespace
}  // namespace ane::mil
