// MIL text parser: every construct real files contain, the values it stores, and one test per
// syntax or semantic error checking the message and its exact line:col.
#include "mil/parser.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <string>

#include "core/fp16.h"
#include "mil/printer.h"
#include "mil_test_programs.h"

namespace ane::mil {
namespace {

std::unique_ptr<Program> parse_ok(std::string_view text) {
  auto r = parse_program(text, "test.mil");
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? std::move(r).value() : nullptr;
}

const Op* op_named(const Function& f, std::string_view name) {
  for (const auto& op : f.ops) {
    if (op->display_name() == name) return op.get();
  }
  return nullptr;
}

const Constant& const_of(const Function& f, std::string_view value_name) {
  const Value* v = f.find_value(value_name);
  EXPECT_NE(v, nullptr) << value_name;
  EXPECT_TRUE(v && v->constant) << value_name;
  return *v->constant;
}

TEST(MilParser, OriginalStyleKernelStructure) {
  auto p = parse_ok(testing::kOriginalStyleSdpa);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->version, "1.3");
  EXPECT_EQ(p->source_name, "test.mil");
  ASSERT_EQ(p->build_info.size(), 4u);
  EXPECT_EQ(p->build_info[0], std::make_pair(std::string("coremlc-component-MIL"), std::string("3510.2.1")));
  EXPECT_EQ(p->build_info[2].second, "");
  ASSERT_EQ(p->functions.size(), 1u);
  const Function& f = *p->functions[0];
  EXPECT_EQ(f.name, "main");
  EXPECT_EQ(f.opset, "ios18");
  ASSERT_EQ(f.inputs.size(), 1u);
  EXPECT_EQ(f.inputs[0]->kind, ValueKind::kParam);
  EXPECT_EQ(f.inputs[0]->type, (TensorType{DType::kFp32, {1, 64, 1, 16}}));
  ASSERT_EQ(f.outputs.size(), 1u);
  EXPECT_EQ(f.outputs[0]->name, "y");

  EXPECT_EQ(const_of(f, "pt"), Constant::scalar_string("valid"));
  EXPECT_EQ(const_of(f, "st").to_ints(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(const_of(f, "pd").to_ints(), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(const_of(f, "gr"), Constant::scalar_int(DType::kInt32, 1));
  EXPECT_EQ(const_of(f, "sax"), Constant::scalar_int(DType::kInt32, -1));
  EXPECT_EQ(const_of(f, "nhalf"), Constant::scalar_float(DType::kFp16, -0.5));
  EXPECT_EQ(const_of(f, "tx"), Constant::scalar_bool(false));

  const Constant& wq = const_of(f, "Wq");
  ASSERT_TRUE(wq.blob.has_value());
  EXPECT_EQ(wq.blob->path, "@model_path/weights/wq.bin");
  EXPECT_EQ(wq.blob->offset, 64u);
  EXPECT_TRUE(wq.data.empty());
  EXPECT_EQ(wq.type, (TensorType{DType::kFp16, {64, 64, 1, 1}}));

  const Op* conv = op_named(f, "q_proj");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->type, "conv");
  EXPECT_EQ(conv->args.size(), 7u);
  EXPECT_EQ(conv->arg_value("weight"), f.find_value("Wq"));
  EXPECT_EQ(conv->outputs[0]->producer, conv);
  EXPECT_EQ(conv->loc.line, 15);
  EXPECT_EQ(conv->loc.col, 9);

  const Op* mm = op_named(f, "sc1");
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(mm->args[0].first, "transpose_x");
  EXPECT_EQ(mm->arg_value("y"), f.find_value("kt"));

  const Op* cat = op_named(f, "taps");
  ASSERT_NE(cat, nullptr);
  const Argument* values = cat->arg("values");
  ASSERT_NE(values, nullptr);
  EXPECT_TRUE(values->is_tuple);
  ASSERT_EQ(values->values.size(), 4u);
  EXPECT_EQ(values->values[1]->name, "hi");

  const Op* w = f.find_value("Wq")->producer;
  EXPECT_EQ(w->type, "const");
  EXPECT_EQ(w->attribute("val"), nullptr) << "a const's value lives in its result";
  ASSERT_NE(w->attribute("name"), nullptr);
}

TEST(MilParser, VerboseOlderTargetMatchesShortForm) {
  auto verbose = parse_ok(testing::kVerboseOlderTarget);
  auto short_form = parse_ok(testing::kVerboseOlderTargetShort);
  ASSERT_TRUE(verbose && short_form);
  EXPECT_EQ(verbose->version, "1.0");
  EXPECT_EQ(verbose->functions[0]->opset, "ios16");
  EXPECT_EQ(verbose->build_info, short_form->build_info);
  EXPECT_EQ(print_program(*verbose), print_program(*short_form));
  const Function& f = *verbose->functions[0];
  EXPECT_EQ(const_of(f, "dt"), Constant::scalar_string("fp16"));
  EXPECT_EQ(const_of(f, "kd"), Constant::scalar_bool(true));
  EXPECT_EQ(f.find_value("ax")->type, (TensorType{DType::kInt32, {}}));
}

TEST(MilParser, HexFloatsAreExact) {
  auto p = parse_ok(testing::kVerboseOlderTarget);
  ASSERT_TRUE(p);
  const Function& f = *p->functions[0];
  const Constant& eps = const_of(f, "eps");
  uint16_t bits = 0;
  std::memcpy(&bits, eps.data.data(), 2);
  EXPECT_EQ(bits, 0x0001) << "0x1p-24 is the smallest fp16 subnormal";
  EXPECT_EQ(const_of(f, "big").element_as_double(0), -12.0);
}

TEST(MilParser, EveryConstruct) {
  auto p = parse_ok(testing::kEveryConstruct);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->functions.size(), 2u);
  EXPECT_TRUE(p->build_info.empty());
  const Function& f = *p->functions[0];
  ASSERT_EQ(f.inputs.size(), 3u);
  EXPECT_EQ(f.inputs[1]->type, (TensorType{DType::kFp32, {}}));

  const Op* split = op_named(f, "split");
  ASSERT_NE(split, nullptr);
  ASSERT_EQ(split->outputs.size(), 2u);
  EXPECT_EQ(split->outputs[1]->name, "b");
  const Value* axis = split->arg_value("axis");
  ASSERT_NE(axis, nullptr);
  EXPECT_EQ(axis->kind, ValueKind::kLiteral);
  EXPECT_EQ(axis->name, "literal_6_83");
  EXPECT_EQ(*axis->constant, Constant::scalar_int(DType::kInt32, 1));

  const Op* add = f.find_value("d")->producer;
  EXPECT_TRUE(add->attributes.empty());
  EXPECT_EQ(add->arg_value("y")->constant->element_as_double(0), static_cast<double>(round_to_half(0.1f)));

  EXPECT_EQ(const_of(f, "m").to_floats(), (std::vector<float>{1.5f, -2.0f, 3e-3f, 3.0f}));
  EXPECT_EQ(const_of(f, "flat").type.shape, (std::vector<int64_t>{2, 3}));
  const std::vector<float> special = const_of(f, "special").to_floats();
  EXPECT_TRUE(std::isinf(special[0]) && special[0] > 0);
  EXPECT_TRUE(std::isinf(special[1]) && special[1] < 0);
  EXPECT_TRUE(std::isnan(special[2]));
  EXPECT_TRUE(special[3] == 0.0f && std::signbit(special[3]));
  EXPECT_EQ(const_of(f, "b16").to_floats(), (std::vector<float>{1.0f, 3.140625f}));
  EXPECT_EQ(const_of(f, "i8").to_ints(), (std::vector<int64_t>{-128, 127}));
  EXPECT_EQ(const_of(f, "u32").to_ints(), (std::vector<int64_t>{4294967295}));
  EXPECT_EQ(const_of(f, "i64").to_ints(), (std::vector<int64_t>{INT64_MIN, INT64_MAX}));
  EXPECT_EQ(static_cast<uint64_t>(const_of(f, "u64").element_as_int(0)), UINT64_MAX);
  EXPECT_EQ(const_of(f, "bs").to_ints(), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(const_of(f, "strs").strings, (std::vector<std::string>{"a\"b", "tab\there", "\x01\\"}));
  EXPECT_EQ(const_of(f, "none").type.num_elements(), 0);
  EXPECT_TRUE(const_of(f, "none").has_data());

  const Op* g = op_named(f, "g");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->arg_value("custom")->constant->strings.front(), "odd name");
  ASSERT_NE(g->attribute("note"), nullptr);
  ASSERT_TRUE(g->attribute("weights")->blob.has_value());
  EXPECT_EQ(g->attribute("weights")->blob->path, "w.bin");

  ASSERT_EQ(f.outputs.size(), 3u);
  EXPECT_EQ(f.outputs[1]->name, "a");
  EXPECT_EQ(p->functions[1]->name, "second");
  EXPECT_EQ(p->functions[1]->opset, "ios17");
  EXPECT_TRUE(p->functions[1]->inputs.empty());
}

TEST(MilParser, Fp16LiteralsAreRoundedToHalf) {
  auto p = parse_ok(R"(program(1.3) { func main<ios18>() {
    tensor<fp16, [3]> c = const()[val = tensor<fp16, [3]>([0.1, 65504, 1e-8])];
  } -> (c); })");
  ASSERT_TRUE(p);
  const std::vector<float> v = p->functions[0]->values[0]->constant->to_floats();
  EXPECT_EQ(v, (std::vector<float>{round_to_half(0.1f), 65504.0f, 0.0f}));
}

TEST(MilParser, LiteralsInTuplesAndUtf8Strings) {
  auto p = parse_ok(R"(program(1.3) { func main<ios18>(tensor<fp16, [1, 2]> x) {
    tensor<fp16, [2, 2]> c = concat(axis = int32(0), values = (x, tensor<fp16, [1, 2]>([0.5, -1])))[name = string("h\xc3\xa9 é")];
  } -> (c); })");
  ASSERT_TRUE(p);
  const Function& f = *p->functions[0];
  const Argument* values = f.ops[0]->arg("values");
  ASSERT_NE(values, nullptr);
  ASSERT_EQ(values->values.size(), 2u);
  EXPECT_EQ(values->values[0], f.inputs[0]);
  const Value* lit = values->values[1];
  EXPECT_EQ(lit->kind, ValueKind::kLiteral);
  EXPECT_EQ(lit->loc.line, 2);
  EXPECT_EQ(lit->loc.col, 67);
  EXPECT_EQ(lit->constant->to_floats(), (std::vector<float>{0.5f, -1.0f}));
  EXPECT_EQ(f.ops[0]->display_name(), "h\xc3\xa9 \xc3\xa9");
}

TEST(MilParser, VersionWithoutFractionAndOtherOpsets) {
  auto p = parse_ok("program(1)\n{\n func main<CoreML8>(fp16 x) {\n } -> (x);\n}\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->version, "1");
  EXPECT_EQ(p->functions[0]->opset, "CoreML8");
  EXPECT_EQ(p->functions[0]->outputs[0], p->functions[0]->inputs[0]);
}

TEST(MilParser, OptionalSpacesDoNotMatter) {
  const char* spaced = R"(program(1.3)
{
    func main<ios18>(tensor<fp16, [1, 4]> x) {
        tensor<int32, [2]> sh = const()[name = string("sh"), val = tensor<int32, [2]>([4, 1])];
        tensor<fp16, [4, 1]> r = reshape(shape = sh, x = x)[name = string("r")];
        tensor<fp16, [8, 1]> c = concat(axis = int32(0), interleave = bool(false), values = (r, r))[name = string("c")];
    } -> (c);
}
)";
  const char* tight =
      "program(1.3){func main<ios18>(tensor<fp16,[1,4]>x){tensor<int32,[2]>sh=const()[name=string(\"sh\"),val=tensor<int32,[2]>([4,1])];"
      "tensor<fp16,[4,1]>r=reshape(shape=sh,x=x)[name=string(\"r\")];"
      "tensor<fp16,[8,1]>c=concat(axis=int32(0),interleave=bool(false),values=(r,r))[name=string(\"c\")];}->(c);}";
  auto a = parse_ok(spaced);
  auto b = parse_ok(tight);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(print_program(*a), print_program(*b));
}

TEST(MilParser, ResultHoldsNoViewsIntoTheText) {
  std::string text = testing::kOriginalStyleSdpa;
  auto p = parse_ok(text);
  ASSERT_TRUE(p);
  const std::string before = print_program(*p);
  std::fill(text.begin(), text.end(), '#');
  EXPECT_EQ(print_program(*p), before);
}

// A program of about 1 MB: a chain of adds with inline literals and consts.
std::string big_program(int statements) {
  std::string s = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 768, 1, 256]> x0) {\n";
  for (int i = 1; i <= statements; ++i) {
    const std::string n = std::to_string(i), prev = std::to_string(i - 1);
    s.append("        fp16 c").append(n).append(" = const()[name = string(\"c").append(n).append("\"), val = fp16(0.5)];\n");
    s.append("        tensor<fp16, [1, 768, 1, 256]> x").append(n).append(" = add(x = x").append(prev);
    s.append(", y = c").append(n).append(")[name = string(\"x").append(n).append("\")];\n");
  }
  return s.append("    } -> (x").append(std::to_string(statements)).append(");\n}\n");
}

TEST(MilParser, LargeProgramParsesQuickly) {
  const std::string text = big_program(6000);
  ASSERT_GT(text.size(), 900000u);
  const auto t0 = std::chrono::steady_clock::now();
  auto p = parse_ok(text);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->functions[0]->ops.size(), 12000u);
  // A generous bound (sanitizer builds are slow): it only catches quadratic behaviour.
  EXPECT_LT(ms, 5000.0);
}

// ---- errors: each with its exact line:col and the key part of its message ----

struct ErrorCase {
  const char* name;
  std::string text;
  int line;
  int col;
  const char* message;
};

std::ostream& operator<<(std::ostream& os, const ErrorCase& c) { return os << c.name; }

// Wraps statement lines in a program; the first body line is line 4 and its 4-space indent
// puts its first token at column 5.
std::string in_main(const std::string& body, const std::string& outputs = "x") {
  return "program(1.3)\n{\n  func main<ios18>(tensor<fp16, [1, 4]> x) {\n" + body + "  } -> (" + outputs + ");\n}\n";
}

class MilParserError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(MilParserError, ReportsLocationAndMessage) {
  const ErrorCase& c = GetParam();
  auto r = parse_program(c.text, "bad.mil");
  ASSERT_FALSE(r.ok()) << "parsed:\n" << c.text;
  const Error& e = r.error();
  EXPECT_EQ(e.code(), ErrorCode::kParse);
  EXPECT_EQ(e.where().file, "bad.mil");
  EXPECT_EQ(e.where().line, c.line) << e.to_string();
  EXPECT_EQ(e.where().col, c.col) << e.to_string();
  EXPECT_NE(e.message().find(c.message), std::string::npos) << e.to_string();
}

std::string deep_list(int depth) {
  return in_main("    tensor<int32, [1]> a = const()[val = tensor<int32, [1]>(" + std::string(depth, '[') + "1" +
                 std::string(depth, ']') + ")];\n");
}

const ErrorCase kErrorCases[] = {
    {"EmptyInput", "", 1, 1, "expected 'program', found end of input"},
    {"OnlyComment", "// nothing\n", 2, 1, "expected 'program', found end of input"},
    {"BadVersion", "program(abc)\n{}", 1, 9, "expected a program version such as 1.3, found 'abc'"},
    {"VersionWithLetters", "program(1.3x)\n{}", 1, 9, "invalid program version '1.3x'"},
    {"MissingBody", "program(1.3)\n", 2, 1, "expected '{' to start the program body, found end of input"},
    {"NoFunction", "program(1.3)\n{\n}\n", 3, 1, "expected 'func', found '}'"},
    {"UnknownProgramAttribute", "program(1.3)\n[foo = dict<string, string>({})]\n{}", 2, 2, "unknown program attribute 'foo'"},
    {"BuildInfoNotStrings", "program(1.3)\n[buildInfo = dict<string, int32>({})]\n{}", 2, 14, "buildInfo must be a dict<string, string>"},
    {"BuildInfoDuplicateKey", "program(1.3)\n[buildInfo = dict<string, string>({{\"a\", \"1\"}, {\"a\", \"2\"}})]\n{}", 2, 49,
     "duplicate buildInfo key '\"a\"'"},
    {"UnterminatedString", in_main("    string s = const()[val = string(\"abc];\n"), 4, 37, "unterminated string literal"},
    {"InvalidEscape", in_main("    string s = const()[val = string(\"a\\qb\")];\n"), 4, 39, "invalid escape sequence"},
    {"UnexpectedByte", in_main("    fp16 a = add(x = x, y = \xc3\xa9);\n"), 4, 29, "unexpected byte 0xc3"},
    {"UnexpectedCharacter", in_main("    fp16 a = add(x = x, y = $x);\n"), 4, 29, "unexpected character '$'"},
    {"MissingSemicolon", in_main("    fp16 a = const()[val = fp16(1.0)]\n    fp16 b = const()[val = fp16(2.0)];\n"), 5, 5,
     "expected ';' after the statement, found 'fp16'"},
    {"MissingEquals", in_main("    fp16 a const()[val = fp16(1.0)];\n"), 4, 12, "expected '=' after the op's results, found 'const'"},
    {"MissingCloseParen", in_main("    tensor<fp16, [1, 4]> a = add(x = x, y = x;\n"), 4, 46, "expected ')' after the argument list, found ';'"},
    {"BadTensorType", in_main("    tensor<fp16 [1]> a = add(x = x, y = x);\n"), 4, 17, "expected ',' after the tensor dtype, found '['"},
    {"NotAType", in_main("    foo a = add(x = x, y = x);\n"), 4, 5, "expected a type (a dtype or tensor<...>), found 'foo'"},
    {"UnknownDtype", in_main("    tensor<fp12, [1]> a = add(x = x, y = x);\n"), 4, 12, "unknown dtype 'fp12'"},
    {"NegativeDimension", in_main("    tensor<fp16, [1, -4]> a = add(x = x, y = x);\n"), 4, 22, "must not be negative"},
    {"NonIntegerDimension", in_main("    tensor<fp16, [1, 2.5]> a = add(x = x, y = x);\n"), 4, 22, "invalid dimension '2.5'"},
    {"ZeroDimensionInput", "program(1.3)\n{\n  func main<ios18>(tensor<fp16, [1, 0]> x) {\n  } -> (x);\n}\n", 3, 41,
     "function input 'x' has a zero dimension"},
    {"TooManyElements", in_main("    tensor<fp16, [65536, 65536, 65536, 65536]> a = add(x = x, y = x);\n"), 4, 40, "more than 2^48 elements"},
    {"WrongElementCount", in_main("    tensor<int32, [4]> a = const()[val = tensor<int32, [4]>([1, 2, 3])];\n"), 4, 61,
     "has 3 elements, expected 4"},
    {"NestedShapeMismatch", in_main("    tensor<int32, [2, 3]> a = const()[val = tensor<int32, [2, 3]>([[1, 2], [3, 4], [5, 6]])];\n"), 4, 67,
     "nested list has shape [3, 2] but the type is tensor<int32, [2, 3]>"},
    {"RaggedList", in_main("    tensor<int32, [2, 2]> a = const()[val = tensor<int32, [2, 2]>([[1, 2], [3]])];\n"), 4, 76, "ragged list"},
    {"MixedList", in_main("    tensor<int32, [2]> a = const()[val = tensor<int32, [2]>([1, [2]])];\n"), 4, 65, "mixes numbers and nested lists"},
    {"UnbalancedList", in_main("    tensor<int32, [2]> a = const()[val = tensor<int32, [2]>([1, 2)];\n"), 4, 66,
     "expected ',' or ']' in the element list, found ')'"},
    {"DeepNesting", deep_list(100), 4, 61 + 64, "nested deeper than 64 levels"},
    {"ScalarForTensor", in_main("    tensor<int32, [2]> a = const()[val = tensor<int32, [2]>(1)];\n"), 4, 61,
     "expected '[' to start the elements of tensor<int32, [2]>, found '1'"},
    {"ListForRankZero", in_main("    int32 a = const()[val = tensor<int32, []>([1])];\n"), 4, 47, "a rank-0 literal takes one value"},
    {"IntOutOfRange", in_main("    int8 a = const()[val = int8(128)];\n"), 4, 33, "integer 128 is out of range for int8"},
    {"NegativeUnsigned", in_main("    uint8 a = const()[val = uint8(-1)];\n"), 4, 35, "integer -1 is out of range for uint8"},
    {"Int64Overflow", in_main("    int64 a = const()[val = int64(9223372036854775808)];\n"), 4, 35, "out of range for int64"},
    {"FloatForInt", in_main("    int32 a = const()[val = int32(1.5)];\n"), 4, 35, "expected an integer for int32, found '1.5'"},
    {"Fp16Overflow", in_main("    fp16 a = const()[val = fp16(70000)];\n"), 4, 33, "out of range for fp16"},
    {"Fp32Overflow", in_main("    fp32 a = const()[val = fp32(1e39)];\n"), 4, 33, "out of range for fp32"},
    {"BadHexFloat", in_main("    fp16 a = const()[val = fp16(0x1.8q3)];\n"), 4, 33, "invalid hex float '0x1.8q3'"},
    {"BadDecimal", in_main("    fp32 a = const()[val = fp32(1.2.3)];\n"), 4, 33, "invalid number '1.2.3'"},
    {"BadBool", in_main("    bool a = const()[val = bool(1)];\n"), 4, 33, "expected 'true' or 'false' for bool, found '1'"},
    {"StringForInt", in_main("    int32 a = const()[val = int32(\"1\")];\n"), 4, 35, "expected an integer for int32"},
    {"UndefinedName", in_main("    tensor<fp16, [1, 4]> a = add(x = x, y = z);\n"), 4, 45, "undefined value 'z'"},
    {"UseBeforeDefinition",
     in_main("    tensor<fp16, [1, 4]> a = add(x = x, y = b);\n    tensor<fp16, [1, 4]> b = add(x = x, y = x);\n"), 4, 45,
     "undefined value 'b'"},
    {"SelfReference", in_main("    tensor<fp16, [1, 4]> a = add(x = x, y = a);\n"), 4, 45, "undefined value 'a'"},
    {"Redefinition", in_main("    fp16 a = const()[val = fp16(1.0)];\n    fp16 a = const()[val = fp16(2.0)];\n"), 5, 10,
     "redefinition of 'a' (first defined at 4:10)"},
    {"RedefinesInput", in_main("    fp16 x = const()[val = fp16(1.0)];\n"), 4, 10, "redefinition of 'x' (first defined at 3:41)"},
    {"DuplicateArgument", in_main("    tensor<fp16, [1, 4]> a = add(x = x, x = x);\n"), 4, 41, "duplicate argument 'x' to op 'add'"},
    {"DuplicateAttribute", in_main("    fp16 a = const()[name = string(\"a\"), name = string(\"b\"), val = fp16(1.0)];\n"), 4, 42,
     "duplicate attribute 'name'"},
    {"AttributeNotLiteral", in_main("    tensor<fp16, [1, 4]> a = add(x = x, y = x)[name = x];\n"), 4, 55,
     "expected a literal value for attribute 'name', found 'x'"},
    {"NestedTuple", in_main("    tensor<fp16, [2, 4]> a = concat(axis = int32(0), values = ((x, x)));\n"), 4, 64, "nested tuples are not supported"},
    {"ArgumentNotAValue", in_main("    tensor<fp16, [1, 4]> a = add(x = x, y = 1.0);\n"), 4, 45,
     "expected a value name, literal or tuple, found '1.0'"},
    {"ConstWithoutVal", in_main("    fp16 a = const()[name = string(\"a\")];\n"), 4, 5, "const 'a' has no 'val' attribute"},
    {"ConstTypeMismatch", in_main("    tensor<int32, [3]> a = const()[val = tensor<int32, [2]>([1, 2])];\n"), 4, 42,
     "value of type tensor<int32, [2]> does not match the declared type tensor<int32, [3]>"},
    {"ConstTwoResults", in_main("    fp16 a, fp16 b = const()[val = fp16(1.0)];\n"), 4, 5, "const must have exactly one result"},
    {"BlobMissingOffset",
     in_main("    tensor<fp16, [4]> w = const()[val = tensor<fp16, [4]>(BLOBFILE(path = string(\"w.bin\")))];\n"), 4, 90,
     "BLOBFILE is missing its 'offset' field"},
    {"BlobUnquotedPath",
     in_main("    tensor<fp16, [4]> w = const()[val = tensor<fp16, [4]>(BLOBFILE(path = \"w.bin\", offset = uint64(64)))];\n"), 4, 75,
     "expected a literal, found '\"w.bin\"'"},
    {"BlobOffsetType",
     in_main("    tensor<fp16, [4]> w = const()[val = tensor<fp16, [4]>(BLOBFILE(path = string(\"w\"), offset = int32(64)))];\n"), 4, 97,
     "BLOBFILE offset must be a uint64"},
    {"BlobUnknownField",
     in_main("    tensor<fp16, [4]> w = const()[val = tensor<fp16, [4]>(BLOBFILE(file = string(\"w\"), offset = uint64(64)))];\n"), 4, 68,
     "unknown BLOBFILE field 'file'"},
    {"NestedBlob",
     in_main("    tensor<fp16, [4]> w = const()[val = tensor<fp16, [4]>(BLOBFILE(path = tensor<string, []>(BLOBFILE(path = string(\"a\"), "
             "offset = uint64(0))), offset = uint64(64)))];\n"),
     4, 94, "BLOBFILE is not allowed here"},
    {"MissingFunctionOutput", in_main("", "x, nope"), 4, 12, "function output 'nope' is not defined in function 'main'"},
    {"MissingArrow", "program(1.3)\n{\n  func main<ios18>(fp16 x) {\n  } (x);\n}\n", 4, 5,
     "expected '->' and the function's outputs, found '('"},
    {"MissingOutputSemicolon", "program(1.3)\n{\n  func main<ios18>(fp16 x) {\n  } -> (x)\n}\n", 5, 1,
     "expected ';' after the function's outputs, found '}'"},
    {"MissingOpset", "program(1.3)\n{\n  func main(fp16 x) {\n  } -> (x);\n}\n", 3, 12, "expected '<' and an opset after the function name"},
    {"DuplicateFunction", "program(1.3)\n{\n  func f<ios18>(fp16 x) {\n  } -> (x);\n  func f<ios18>(fp16 y) {\n  } -> (y);\n}\n", 5, 8,
     "duplicate function 'f' (first defined at 3:8)"},
    {"UnclosedFunction", "program(1.3)\n{\n  func main<ios18>(fp16 x) {\n    fp16 a = const()[val = fp16(1.0)];\n", 5, 1,
     "expected '}' to close function 'main', found end of input"},
    {"GarbageAfterProgram", in_main("") + "extra", 6, 1, "expected end of input after the program, found 'extra'"},
};

INSTANTIATE_TEST_SUITE_P(Malformed, MilParserError, ::testing::ValuesIn(kErrorCases),
                         [](const ::testing::TestParamInfo<ErrorCase>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace ane::mil
