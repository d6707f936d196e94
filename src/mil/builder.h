// The typed MIL Builder: how every MIL generator makes programs. Each op method adds one op
// whose output types come from the op's shape rule (ops.h), so no caller writes a result
// type by hand; finish() runs the verifier and hands over the Program.
//
//   Builder b("main", "ios18");
//   Value* x = b.input("x", {DType::kFp16, {1, 768, 1, 256}});   // [1, C, 1, S]
//   Value* w = b.const_blob("wq", {DType::kFp16, {768, 768, 1, 1}}, "@model_path/weights/wq.bin", 64);
//   Value* q = b.named("q").conv(x, w);                           // [1, 768, 1, 256]
//   b.output(q);
//   Expected<std::unique_ptr<Program>> p = b.finish();
//
// Errors: the Builder records the first error (a bad shape, an unknown op, a duplicate
// name) and keeps going in a failed state: every later op method returns a placeholder
// Value* that is safe to pass on, and adds nothing. status() tells the error at any time;
// finish() returns it. So generator code reads straight, with one check at the end.
//
// Names: `named("q")` names the next op's output (multi-output ops: q_0, q_1, ...), or the
// next const_tensor/const_blob; the small const_* helpers take their name as an argument. A
// name already in use is an error. Unnamed outputs get unique names from the op type (conv_0).
// Constant arguments (axes, perm, pad_type, ...) become named `const` ops, as Core ML
// writes them; identical ones are shared.
//
// Ownership: the Builder owns the Program until finish(); Value* pointers stay valid for the
// Program's lifetime. Not copyable.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "mil/ir.h"

namespace ane::mil {

// One argument of Builder::op: a value, or a tuple of values (concat's `values`).
struct OpArg {
  OpArg(Value* v) : values{v} {}  // NOLINT: implicit, so `{"x", a}` reads well
  static OpArg tuple(std::vector<Value*> vs) {
    OpArg a(nullptr);
    a.values = std::move(vs);
    a.is_tuple = true;
    return a;
  }
  std::vector<Value*> values;
  bool is_tuple = false;
};
using OpArgs = std::vector<std::pair<std::string, OpArg>>;

// conv's parameters; empty lists take MIL's defaults (1s, zeros) for x's spatial rank. All
// are emitted as consts, as the original system writes them.
struct ConvOptions {
  std::string pad_type = "valid";  // valid | same | same_lower | custom
  std::vector<int64_t> strides;    // [spatial]
  std::vector<int64_t> pad;        // [2 * spatial]: begin/end per dimension (pad_type custom)
  std::vector<int64_t> dilations;  // [spatial]
  int64_t groups = 1;
  Value* bias = nullptr;           // [Cout] or none
};

// slice_by_index: x[begin:end:stride] per axis; empty lists are omitted (MIL defaults).
struct SliceByIndexOptions {
  std::vector<int64_t> begin = {}, end = {}, stride = {};
  std::vector<bool> begin_mask = {}, end_mask = {}, squeeze_mask = {};
};

class Builder {
 public:
  explicit Builder(std::string function_name = "main", std::string opset = "ios18");
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;
  ~Builder();

  // --- state --------------------------------------------------------------------------
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  // The program so far (for inspection in tests); null after finish().
  const Program* program() const { return program_.get(); }

  // Names the next op's output. Returns *this: `b.named("q").conv(x, w)`.
  Builder& named(std::string name);

  // --- signature ----------------------------------------------------------------------
  Value* input(std::string name, TensorType type);  // a function parameter, in order
  void output(Value* v);                            // appends a function output

  // --- constants (name "" = generated) -------------------------------------------------
  Value* const_tensor(std::string name, Constant c);
  // A BLOBFILE weight: `offset` is the blob's metadata record; data comes from resolve_weights.
  Value* const_blob(std::string name, TensorType type, std::string path, uint64_t offset);
  // Small parameter constants; unnamed ones with equal content are shared.
  Value* const_scalar(DType dtype, double v, std::string name = "");  // fp16/fp32/bf16
  Value* const_int(int64_t v, std::string name = "");                 // int32 scalar
  Value* const_ints(const std::vector<int64_t>& v, std::string name = "");  // int32 [n]
  Value* const_bool(bool v, std::string name = "");
  Value* const_bools(const std::vector<bool>& v, std::string name = "");
  Value* const_string(std::string v, std::string name = "");

  // --- linear algebra -----------------------------------------------------------------
  Value* conv(Value* x, Value* weight, const ConvOptions& options = {});  // x [N, Cin, *d], w [Cout, Cin/g, *k]
  Value* matmul(Value* x, Value* y, bool transpose_x = false, bool transpose_y = false);
  Value* linear(Value* x, Value* weight, Value* bias = nullptr);  // weight [Dout, Din]

  // --- elementwise (NumPy broadcasting; a double operand becomes a scalar of x's dtype) --
  Value* add(Value* x, Value* y);
  Value* sub(Value* x, Value* y);
  Value* mul(Value* x, Value* y);
  Value* real_div(Value* x, Value* y);
  Value* pow(Value* x, Value* y);
  Value* maximum(Value* x, Value* y);
  Value* minimum(Value* x, Value* y);
  Value* add(Value* x, double y);
  Value* sub(Value* x, double y);
  Value* mul(Value* x, double y);
  Value* real_div(Value* x, double y);
  Value* pow(Value* x, double y);
  Value* maximum(Value* x, double y);
  Value* minimum(Value* x, double y);
  Value* select(Value* cond, Value* a, Value* b);

  // --- activations and unary math ------------------------------------------------------
  Value* sigmoid(Value* x);
  Value* tanh(Value* x);
  Value* relu(Value* x);
  Value* silu(Value* x);
  Value* exp(Value* x);
  Value* sqrt(Value* x);
  Value* gelu(Value* x, std::string mode = "EXACT");  // EXACT | TANH_APPROXIMATION | SIGMOID_APPROXIMATION
  Value* log(Value* x, std::optional<double> epsilon = std::nullopt);      // MIL default 1e-45
  Value* rsqrt(Value* x, std::optional<double> epsilon = std::nullopt);    // MIL default 1e-12
  Value* inverse(Value* x, std::optional<double> epsilon = std::nullopt);  // MIL default 1e-4
  Value* clip(Value* x, double alpha, double beta);
  Value* softmax(Value* x, int64_t axis = -1);

  // --- reductions (axes empty = every axis) ---------------------------------------------
  Value* reduce_sum(Value* x, const std::vector<int64_t>& axes, bool keep_dims = false);
  Value* reduce_mean(Value* x, const std::vector<int64_t>& axes, bool keep_dims = false);
  Value* reduce_max(Value* x, const std::vector<int64_t>& axes, bool keep_dims = false);
  Value* reduce_min(Value* x, const std::vector<int64_t>& axes, bool keep_dims = false);

  // --- shape ----------------------------------------------------------------------------
  Value* reshape(Value* x, const std::vector<int64_t>& shape);  // -1 infers one dim, 0 copies
  Value* transpose(Value* x, const std::vector<int64_t>& perm);
  Value* concat(int64_t axis, const std::vector<Value*>& values, bool interleave = false);
  std::vector<Value*> split(Value* x, int64_t axis, int64_t num_splits);
  std::vector<Value*> split_sizes(Value* x, int64_t axis, const std::vector<int64_t>& sizes);
  Value* slice_by_size(Value* x, const std::vector<int64_t>& begin, const std::vector<int64_t>& size);
  Value* slice_by_index(Value* x, const SliceByIndexOptions& options);
  Value* tile(Value* x, const std::vector<int64_t>& reps);
  Value* expand_dims(Value* x, const std::vector<int64_t>& axes);
  Value* squeeze(Value* x, const std::vector<int64_t>& axes = {});  // empty: every size-1 axis
  Value* gather(Value* x, Value* indices, int64_t axis = 0);

  // --- normalisation, dtype, quantization -----------------------------------------------
  Value* layer_norm(Value* x, const std::vector<int64_t>& axes, Value* gamma = nullptr, Value* beta = nullptr,
                    double epsilon = 1e-5);
  Value* cast(Value* x, DType dtype);
  Value* quantize(Value* x, Value* scale, Value* zero_point, DType output_dtype,
                  std::optional<int64_t> axis = std::nullopt);
  Value* dequantize(Value* x, Value* scale, Value* zero_point, std::optional<int64_t> axis = std::nullopt);
  Value* constexpr_affine_dequantize(Value* quantized_data, Value* zero_point, Value* scale, int64_t axis);

  // --- any op ---------------------------------------------------------------------------
  // Adds op `type` and returns its first output (op) or all outputs (op_multi). In the failed
  // state op_multi returns `expected_outputs` placeholders.
  Value* op(std::string type, OpArgs args);
  std::vector<Value*> op_multi(std::string type, OpArgs args, size_t expected_outputs = 1);

  // Verifies and returns the Program; the first recorded error instead, if any.
  Expected<std::unique_ptr<Program>> finish();

 private:
  void fail(Error e);
  bool live(std::initializer_list<const Value*> values);
  std::string claim_name(const std::string& name);
  std::string unique_name(const std::string& base);
  std::string op_name(const std::string& type);
  Value* add_const(std::string name, Constant c);
  Value* param(std::string_view hint, Constant c, std::string name);
  Value* scalar_like(Value* x, double v);
  bool usable(const OpArgs& args);
  Value* unary(std::string type, Value* x);
  Value* binary(std::string type, Value* x, Value* y);
  Value* unary_epsilon(std::string type, Value* x, std::optional<double> epsilon);
  Value* reduce(std::string type, Value* x, const std::vector<int64_t>& axes, bool keep_dims);

  std::unique_ptr<Program> program_;
  Function* fn_ = nullptr;
  Status status_;
  std::unique_ptr<Value> placeholder_;       // returned after an error
  std::optional<std::string> pending_name_;  // from named()
  std::set<std::string> used_names_;
  std::map<std::string, Value*> shared_params_;  // content key -> const value
  std::map<std::string, size_t> next_suffix_;   // base name -> next free _N
};

}  // namespace ane::mil
