// The verifier on programs built straight in the IR with source locations: each rule broken
// once, the message and its line:col checked.
#include "mil/verifier.h"

#include <gtest/gtest.h>

#include "mil/builder.h"
#include "mil_test_util.h"

namespace ane::mil {
namespace {

using testing::expect_error;

// A function under construction: each statement gets the next line, column 5.
class Fn {
 public:
  Fn() {
    program_.source_name = "model.mil";
    fn_ = program_.add_function("main", "ios18");
    fn_->loc = Location::text("", 2, 1);
  }
  Value* input(std::string name, TensorType t) {
    Value* v = fn_->add_value(std::move(name), std::move(t), ValueKind::kParam, Location::text("", 2, 20));
    fn_->inputs.push_back(v);
    return v;
  }
  // `type` op with args and declared outputs, at line `line`.
  std::vector<Value*> op(std::string type, std::vector<std::pair<std::string, Argument>> args,
                         std::vector<std::pair<std::string, TensorType>> outs, int line) {
    Op* o = fn_->add_op(std::move(type), Location::text("", line, 5));
    o->args = std::move(args);
    o->attributes.push_back({"name", Constant::scalar_string(outs.empty() ? "anon" : outs.front().first)});
    for (auto& [name, t] : outs) {
      Value* v = fn_->add_value(name, t, ValueKind::kOpResult, o->loc);
      v->producer = o;
      o->outputs.push_back(v);
    }
    return o->outputs;
  }
  Value* konst(std::string name, Constant c, int line) {
    Op* o = fn_->add_op("const", Location::text("", line, 5));
    o->attributes.push_back({"name", Constant::scalar_string(name)});
    Value* v = fn_->add_value(std::move(name), c.type, ValueKind::kOpResult, o->loc);
    v->producer = o;
    v->constant = std::move(c);
    o->outputs.push_back(v);
    return v;
  }
  Value* literal(Constant c) {
    Value* v = fn_->add_value("lit" + std::to_string(fn_->values.size()), c.type, ValueKind::kLiteral);
    v->constant = std::move(c);
    return v;
  }
  void output(Value* v) { fn_->outputs.push_back(v); }
  Status verify() const { return mil::verify(program_); }
  Program& program() { return program_; }

 private:
  Program program_;
  Function* fn_;
};

Argument arg(Value* v) { return Argument{{v}, false}; }
const TensorType kX{DType::kFp16, {1, 768, 1, 256}};

TEST(Verifier, AcceptsAWellTypedFunction) {
  Fn f;
  Value* x = f.input("x", kX);
  Value* axes = f.konst("axes", Constant::int_tensor(DType::kInt32, {1}), 3);
  Value* s = f.op("reduce_sum", {{"x", arg(x)}, {"axes", arg(axes)}, {"keep_dims", arg(f.literal(Constant::scalar_bool(true)))}},
                  {{"s", {DType::kFp16, {1, 1, 1, 256}}}}, 4)[0];
  Value* y = f.op("mul", {{"x", arg(x)}, {"y", arg(s)}}, {{"y", kX}}, 5)[0];
  f.output(y);
  EXPECT_TRUE(f.verify().ok()) << f.verify().to_string();
}

TEST(Verifier, UnknownOpAtItsLocation) {
  Fn f;
  Value* x = f.input("x", kX);
  f.output(f.op("foo", {{"x", arg(x)}}, {{"y", kX}}, 9)[0]);
  Status s = f.verify();
  expect_error(s, {"unknown op 'foo'"}, 9, 5);
  EXPECT_EQ(s.error().where().file, "model.mil");
  EXPECT_EQ(s.error().to_string().rfind("model.mil:9:5: ", 0), 0u) << s.error().to_string();
}

TEST(Verifier, DeclaredTypeDiffersFromInferred) {
  Fn f;
  Value* x = f.input("x", kX);
  f.output(f.op("relu", {{"x", arg(x)}}, {{"r", {DType::kFp16, {1, 768, 1, 255}}}}, 6)[0]);
  expect_error(f.verify(),
               {"relu 'r'", "output 'r' is declared as tensor<fp16, [1, 768, 1, 255]> but inferred as tensor<fp16, [1, 768, 1, 256]>"},
               6, 5);
}

TEST(Verifier, OutputCountDiffers) {
  Fn f;
  Value* x = f.input("x", kX);
  Value* n = f.literal(Constant::scalar_int(DType::kInt32, 2));
  Value* a = f.literal(Constant::scalar_int(DType::kInt32, 1));
  f.output(f.op("split", {{"x", arg(x)}, {"num_splits", arg(n)}, {"axis", arg(a)}}, {{"p", {DType::kFp16, {1, 384, 1, 256}}}}, 8)[0]);
  expect_error(f.verify(), {"split 'p'", "declares 1 output(s) but produces 2"}, 8, 5);
}

TEST(Verifier, ArgumentRuleErrorsCarryTheOpLocation) {
  Fn f;
  Value* x = f.input("x", kX);
  Constant blob;
  blob.type = {DType::kFp16, {768, 512, 1, 1}};
  blob.blob = BlobRef{"@model_path/weights/w.bin", 64};
  Value* w = f.konst("w", blob, 3);
  f.output(f.op("conv", {{"x", arg(x)}, {"weight", arg(w)}}, {{"q", kX}}, 12)[0]);
  expect_error(f.verify(), {"conv 'q': argument 'weight': weight has 512 input channels per group but x has 768 channels"}, 12, 5);
}

TEST(Verifier, NonConstantAxes) {
  Fn f;
  Value* x = f.input("x", kX);
  Value* axes = f.input("axes", {DType::kInt32, {1}});
  f.output(f.op("reduce_sum", {{"x", arg(x)}, {"axes", arg(axes)}}, {{"s", kX}}, 4)[0]);
  expect_error(f.verify(), {"reduce_sum 's': argument 'axes': must be a compile-time constant, but 'axes' is computed at run time"},
               4, 5);
}

TEST(Verifier, UseBeforeDefinition) {
  Fn f;
  Value* x = f.input("x", kX);
  Value* later = nullptr;
  Op* first = nullptr;
  {
    auto outs = f.op("add", {{"x", arg(x)}, {"y", arg(x)}}, {{"a", kX}}, 3);
    first = outs[0]->producer;
    later = f.op("relu", {{"x", arg(x)}}, {{"r", kX}}, 4)[0];
  }
  first->args[1].second.values[0] = later;
  f.output(later);
  expect_error(f.verify(), {"add 'a': argument 'y': value 'r' is used before it is defined"}, 3, 5);
}

TEST(Verifier, ValueDefinedTwice) {
  Fn f;
  Value* x = f.input("x", kX);
  f.op("relu", {{"x", arg(x)}}, {{"r", kX}}, 3);
  f.output(f.op("relu", {{"x", arg(x)}}, {{"r", kX}}, 4)[0]);
  expect_error(f.verify(), {"value 'r' is defined twice"}, 4, 5);
}

TEST(Verifier, InputsAndOutputsMustBeNumericTensors) {
  {
    Fn f;
    Value* s = f.input("flag", {DType::kBool, {4}});
    f.output(s);
    expect_error(f.verify(), {"input 'flag' has type tensor<bool, [4]>", "tensors of a numeric dtype"}, 2, 20);
  }
  {
    Fn f;
    Value* x = f.input("x", kX);
    Value* s = f.op("reduce_sum", {{"x", arg(x)}}, {{"total", {DType::kFp16, {}}}}, 5)[0];
    f.output(s);
    expect_error(f.verify(), {"output 'total' has type fp16"}, 5, 5);
  }
}

TEST(Verifier, OutputsMustBeDefined) {
  Fn f;
  f.input("x", kX);
  Value* stray = f.literal(Constant::float_tensor(DType::kFp16, {1}, {1.0f}));
  f.output(stray);
  expect_error(f.verify(), {"output '" + stray->name + "' is not defined"}, 2, 1);
  Fn g;
  g.input("x", kX);
  expect_error(g.verify(), {"function 'main' has no outputs"}, 2, 1);
}

TEST(Verifier, MissingArgumentAndUnknownArgument) {
  Fn f;
  Value* x = f.input("x", kX);
  f.output(f.op("matmul", {{"x", arg(x)}}, {{"m", kX}}, 7)[0]);
  expect_error(f.verify(), {"matmul 'm': argument 'y': missing required argument"}, 7, 5);
  Fn g;
  Value* gx = g.input("x", kX);
  g.output(g.op("sigmoid", {{"x", arg(gx)}, {"beta", arg(gx)}}, {{"s", kX}}, 8)[0]);
  expect_error(g.verify(), {"sigmoid 's': argument 'beta': unknown argument"}, 8, 5);
}

TEST(Verifier, BuilderOutputVerifies) {
  Builder b;
  Value* x = b.input("x", kX);
  b.output(b.softmax(x, 1));
  auto p = b.finish();
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_TRUE(verify(**p).ok());
  // Breaking a declared type after the fact is caught.
  (*p)->functions[0]->outputs[0]->type.shape[3] = 7;
  EXPECT_FALSE(verify(**p).ok());
}

}  // namespace
}  // namespace ane::mil
