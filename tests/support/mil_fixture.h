// Test helper: builds small MIL functions directly as IR (the typed Builder and the parser
// are other layers' work), every output type written by hand, as the verifier would.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mil/ir.h"

namespace ane::testing {

inline mil::TensorType fp32(std::vector<int64_t> shape) { return {mil::DType::kFp32, std::move(shape)}; }
inline mil::TensorType fp16(std::vector<int64_t> shape) { return {mil::DType::kFp16, std::move(shape)}; }
inline mil::TensorType i32(std::vector<int64_t> shape) { return {mil::DType::kInt32, std::move(shape)}; }

// One argument: a single value or a tuple.
struct Arg {
  std::string name;
  std::vector<mil::Value*> values;
  bool tuple = false;
  Arg(std::string n, mil::Value* v) : name(std::move(n)), values{v} {}
  Arg(std::string n, std::vector<mil::Value*> vs, bool is_tuple) : name(std::move(n)), values(std::move(vs)), tuple(is_tuple) {}
};

class FnBuilder {
 public:
  explicit FnBuilder(std::string fn_name = "main") : program_(std::make_unique<mil::Program>()) {
    program_->source_name = "test.mil";
    fn_ = program_->add_function(std::move(fn_name), "ios18");
  }

  mil::Value* param(const std::string& name, mil::TensorType t) {
    mil::Value* v = fn_->add_value(name, std::move(t), mil::ValueKind::kParam);
    fn_->inputs.push_back(v);
    return v;
  }

  // An inline literal argument (`axis = int32(1)`).
  mil::Value* lit(mil::Constant c) {
    mil::Value* v = fn_->add_value("lit" + std::to_string(counter_++), c.type, mil::ValueKind::kLiteral);
    v->constant = std::move(c);
    return v;
  }
  mil::Value* int_lit(int64_t x) { return lit(mil::Constant::scalar_int(mil::DType::kInt32, x)); }
  mil::Value* ints_lit(const std::vector<int64_t>& xs) { return lit(mil::Constant::int_tensor(mil::DType::kInt32, xs)); }
  mil::Value* float_lit(double x) { return lit(mil::Constant::scalar_float(mil::DType::kFp32, x)); }
  mil::Value* bool_lit(bool b) { return lit(mil::Constant::scalar_bool(b)); }
  mil::Value* bools_lit(const std::vector<bool>& bs) { return lit(mil::Constant::bool_tensor(bs)); }
  mil::Value* string_lit(const std::string& s) { return lit(mil::Constant::scalar_string(s)); }
  mil::Value* tensor_lit(mil::TensorType t, const std::vector<float>& values) {
    return lit(mil::Constant::float_tensor(t.dtype, t.shape, values));
  }

  // A `const` op whose output carries the value (as the parser leaves it).
  mil::Value* constant(const std::string& name, mil::Constant c) {
    mil::Op* op = fn_->add_op("const", Location::text("test.mil", ++line_, 1));
    mil::Value* v = fn_->add_value(name, c.type, mil::ValueKind::kOpResult);
    v->constant = std::move(c);
    v->producer = op;
    op->outputs.push_back(v);
    return v;
  }

  // An op with one or more outputs of the given types, located at the next line.
  std::vector<mil::Value*> ops(const std::string& type, std::vector<Arg> args, std::vector<mil::TensorType> outs) {
    mil::Op* op = fn_->add_op(type, Location::text("test.mil", ++line_, 1));
    for (auto& a : args) op->args.push_back({a.name, mil::Argument{a.values, a.tuple}});
    std::vector<mil::Value*> results;
    for (auto& t : outs) {
      mil::Value* v = fn_->add_value(type + "_" + std::to_string(counter_++), std::move(t), mil::ValueKind::kOpResult);
      v->producer = op;
      op->outputs.push_back(v);
      results.push_back(v);
    }
    return results;
  }
  mil::Value* op(const std::string& type, std::vector<Arg> args, mil::TensorType out) {
    return ops(type, std::move(args), {std::move(out)}).front();
  }

  void returns(std::vector<mil::Value*> outs) { fn_->outputs = std::move(outs); }
  mil::Function& fn() { return *fn_; }
  std::unique_ptr<mil::Program> finish() { return std::move(program_); }
  int line() const { return line_; }

 private:
  std::unique_ptr<mil::Program> program_;
  mil::Function* fn_ = nullptr;
  int counter_ = 0;
  int line_ = 1;
};

}  // namespace ane::testing
