// Test helpers: ops built straight in the IR (with a source location), so op rules and the
// verifier can be tested without the parser.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mil/ir.h"
#include "mil/ops.h"

namespace ane::mil::testing {

using Shape = std::vector<int64_t>;

// Owns loose values; infer() runs infer_op on one op located at line:col of "t.mil".
class OpBench {
 public:
  Value* t(DType dtype, Shape shape) { return add({dtype, std::move(shape)}, std::nullopt); }
  Value* f16(Shape shape) { return t(DType::kFp16, std::move(shape)); }
  Value* c(Constant k) {
    TensorType type = k.type;
    return add(std::move(type), std::move(k));
  }
  Value* ints(const std::vector<int64_t>& v) { return c(Constant::int_tensor(DType::kInt32, v)); }
  Value* i(int64_t v) { return c(Constant::scalar_int(DType::kInt32, v)); }
  Value* b(bool v) { return c(Constant::scalar_bool(v)); }
  Value* bools(const std::vector<bool>& v) { return c(Constant::bool_tensor(v)); }
  Value* s(std::string v) { return c(Constant::scalar_string(std::move(v))); }
  Value* f(DType dtype, double v) { return c(Constant::scalar_float(dtype, v)); }

  static Argument tuple(std::vector<Value*> vs) { return Argument{std::move(vs), true}; }

  Expected<std::vector<TensorType>> infer(std::string type, std::vector<std::pair<std::string, Argument>> args,
                                          int line = 7, int col = 3) {
    op_ = std::make_unique<Op>();
    op_->type = std::move(type);
    op_->args = std::move(args);
    op_->loc = Location::text("t.mil", line, col);
    op_->attributes.push_back({"name", Constant::scalar_string("op_under_test")});
    return infer_op(*op_);
  }

 private:
  Value* add(TensorType type, std::optional<Constant> k) {
    auto v = std::make_unique<Value>();
    v->name = std::to_string(values_.size());
    v->name.insert(v->name.begin(), 'v');  // not "v" + ...: GCC 12 warns falsely (-Wrestrict) on that
    v->type = std::move(type);
    v->kind = k ? ValueKind::kLiteral : ValueKind::kParam;
    v->constant = std::move(k);
    values_.push_back(std::move(v));
    return values_.back().get();
  }

  std::vector<std::unique_ptr<Value>> values_;
  std::unique_ptr<Op> op_;
};

// A single argument from one value (so `{"x", a}` works in braces).
inline Argument one(Value* v) { return Argument{{v}, false}; }

// Checks an error: its message contains every fragment and it is located at line:col.
inline void expect_error(const Status& s, std::initializer_list<std::string> fragments, int line, int col) {
  ASSERT_FALSE(s.ok()) << "expected an error";
  for (const std::string& f : fragments) {
    EXPECT_NE(s.error().message().find(f), std::string::npos) << "missing '" << f << "' in: " << s.error().to_string();
  }
  EXPECT_EQ(s.error().where().line, line) << s.error().to_string();
  EXPECT_EQ(s.error().where().col, col) << s.error().to_string();
}

}  // namespace ane::mil::testing
