#include "mil/builder.h"

#include <algorithm>

#include "mil/ops.h"
#include "mil/verifier.h"

namespace ane::mil {
namespace {

// Content key of a parameter constant, for sharing equal ones.
std::string constant_key(const Constant& c) {
  std::string key = c.type.to_string() + "|";
  key.append(reinterpret_cast<const char*>(c.data.data()), c.data.size());
  for (const std::string& s : c.strings) key += "|" + std::to_string(s.size()) + ":" + s;
  return key;
}

std::vector<int64_t> filled(const std::vector<int64_t>& given, size_t n, int64_t value) {
  return given.empty() ? std::vector<int64_t>(n, value) : given;
}

}  // namespace

Builder::Builder(std::string function_name, std::string opset)
    : program_(std::make_unique<Program>()), placeholder_(std::make_unique<Value>()) {
  fn_ = program_->add_function(std::move(function_name), std::move(opset));
  placeholder_->name = "<builder error>";
}

Builder::~Builder() = default;

// --- state and names ---------------------------------------------------------------------

void Builder::fail(Error e) {
  if (ok()) status_ = std::move(e);
}

// False (recording why) when the builder has failed or finished, or a value is missing.
bool Builder::live(std::initializer_list<const Value*> values) {
  if (!ok()) return false;
  if (!fn_) {
    fail(invalid_argument("Builder used after finish()"));
    return false;
  }
  for (const Value* v : values) {
    if (!v) {
      fail(invalid_argument("Builder: null Value* passed as an op argument"));
      return false;
    }
  }
  return true;
}

Builder& Builder::named(std::string name) {
  pending_name_ = std::move(name);
  return *this;
}

// A caller-chosen name: must be new.
std::string Builder::claim_name(const std::string& name) {
  if (!used_names_.insert(name).second) fail(invalid_argument("Builder: name '" + name + "' is already defined"));
  return name;
}

// `base_N` with the first free N.
std::string Builder::unique_name(const std::string& base) {
  size_t& n = next_suffix_[base];
  std::string name;
  do {
    name = base + "_" + std::to_string(n++);
  } while (used_names_.count(name));
  used_names_.insert(name);
  return name;
}

// The next op's name: the one from named(), or a generated one.
std::string Builder::op_name(const std::string& type) {
  if (!pending_name_) return unique_name(type);
  std::string name = std::move(*pending_name_);
  pending_name_.reset();
  return claim_name(name);
}

// --- signature ---------------------------------------------------------------------------

Value* Builder::input(std::string name, TensorType type) {
  if (!live({})) return placeholder_.get();
  Value* v = fn_->add_value(claim_name(name), std::move(type), ValueKind::kParam);
  fn_->inputs.push_back(v);
  return v;
}

void Builder::output(Value* v) {
  if (live({v})) fn_->outputs.push_back(v);
}

// --- constants ---------------------------------------------------------------------------

Value* Builder::add_const(std::string name, Constant c) {
  auto op = std::make_unique<Op>();
  op->type = "const";
  op->attributes.push_back({"name", Constant::scalar_string(name)});
  Value* v = fn_->add_value(std::move(name), c.type, ValueKind::kOpResult);
  v->producer = op.get();
  v->constant = std::move(c);
  op->outputs.push_back(v);
  fn_->ops.push_back(std::move(op));
  return v;
}

Value* Builder::const_tensor(std::string name, Constant c) {
  if (!live({})) return placeholder_.get();
  const std::string n = name.empty() ? op_name("const") : claim_name(name);
  return ok() ? add_const(n, std::move(c)) : placeholder_.get();
}

Value* Builder::const_blob(std::string name, TensorType type, std::string path, uint64_t offset) {
  Constant c;
  c.type = std::move(type);
  c.blob = BlobRef{std::move(path), offset};
  return const_tensor(std::move(name), std::move(c));
}

// A parameter constant: named exactly when `name` is given, else shared by content.
Value* Builder::param(std::string_view hint, Constant c, std::string name) {
  if (!live({})) return placeholder_.get();
  if (!name.empty()) {
    const std::string n = claim_name(name);
    return ok() ? add_const(n, std::move(c)) : placeholder_.get();
  }
  const std::string key = constant_key(c);
  auto it = shared_params_.find(key);
  if (it != shared_params_.end()) return it->second;
  Value* v = add_const(unique_name(std::string(hint)), std::move(c));
  shared_params_.emplace(key, v);
  return v;
}

Value* Builder::const_scalar(DType dtype, double v, std::string name) {
  return param("const", Constant::scalar_float(dtype, v), std::move(name));
}
Value* Builder::const_int(int64_t v, std::string name) {
  return param("const", Constant::scalar_int(DType::kInt32, v), std::move(name));
}
Value* Builder::const_ints(const std::vector<int64_t>& v, std::string name) {
  return param("const", Constant::int_tensor(DType::kInt32, v), std::move(name));
}
Value* Builder::const_bool(bool v, std::string name) { return param("const", Constant::scalar_bool(v), std::move(name)); }
Value* Builder::const_bools(const std::vector<bool>& v, std::string name) {
  return param("const", Constant::bool_tensor(v), std::move(name));
}
Value* Builder::const_string(std::string v, std::string name) {
  return param("const", Constant::scalar_string(std::move(v)), std::move(name));
}

Value* Builder::scalar_like(Value* x, double v) {
  if (!live({x})) return placeholder_.get();
  return param("const", Constant::scalar_float(x->type.dtype, v), "");
}

// --- generic op --------------------------------------------------------------------------

bool Builder::usable(const OpArgs& args) {
  std::vector<const Value*> all;
  for (const auto& [key, a] : args) all.insert(all.end(), a.values.begin(), a.values.end());
  bool good = live({});
  for (const Value* v : all) good = good && live({v});
  return good;
}

std::vector<Value*> Builder::op_multi(std::string type, OpArgs args, size_t expected_outputs) {
  std::vector<Value*> placeholders(std::max<size_t>(expected_outputs, 1), placeholder_.get());
  if (!usable(args)) return placeholders;
  auto op = std::make_unique<Op>();
  op->type = std::move(type);
  for (auto& [key, a] : args) op->args.push_back({key, Argument{std::move(a.values), a.is_tuple}});
  const std::string name = op_name(op->type);
  if (!ok()) return placeholders;
  op->attributes.push_back({"name", Constant::scalar_string(name)});
  Expected<std::vector<TensorType>> types = infer_op(*op);
  if (!types.ok()) {
    fail(types.error());
    return placeholders;
  }
  for (size_t i = 0; i < types->size(); ++i) {
    const std::string out_name = types->size() == 1 ? name : claim_name(name + "_" + std::to_string(i));
    Value* v = fn_->add_value(out_name, (*types)[i], ValueKind::kOpResult);
    v->producer = op.get();
    op->outputs.push_back(v);
  }
  if (!ok()) return placeholders;
  fn_->ops.push_back(std::move(op));
  return fn_->ops.back()->outputs;
}

Value* Builder::op(std::string type, OpArgs args) { return op_multi(std::move(type), std::move(args)).front(); }

Expected<std::unique_ptr<Program>> Builder::finish() {
  if (!program_) return invalid_argument("Builder::finish() called twice");
  if (!ok()) return status_.error();
  if (fn_->outputs.empty()) return invalid_argument("Builder: function '" + fn_->name + "' has no outputs; call output()");
  ANE_RETURN_IF_ERROR(verify(*program_));
  fn_ = nullptr;
  return std::move(program_);
}

// --- linear algebra ----------------------------------------------------------------------

Value* Builder::conv(Value* x, Value* weight, const ConvOptions& o) {
  if (!live({x, weight})) return placeholder_.get();
  const size_t spatial = x->type.rank() > 2 ? static_cast<size_t>(x->type.rank() - 2) : 0;
  OpArgs args = {
      {"x", x},
      {"weight", weight},
      {"strides", param("strides", Constant::int_tensor(DType::kInt32, filled(o.strides, spatial, 1)), "")},
      {"pad_type", param("pad_type", Constant::scalar_string(o.pad_type), "")},
      {"pad", param("pad", Constant::int_tensor(DType::kInt32, filled(o.pad, 2 * spatial, 0)), "")},
      {"dilations", param("dilations", Constant::int_tensor(DType::kInt32, filled(o.dilations, spatial, 1)), "")},
      {"groups", param("groups", Constant::scalar_int(DType::kInt32, o.groups), "")},
  };
  if (o.bias) args.push_back({"bias", o.bias});
  return op("conv", std::move(args));
}

Value* Builder::matmul(Value* x, Value* y, bool transpose_x, bool transpose_y) {
  return op("matmul", {{"x", x},
                       {"y", y},
                       {"transpose_x", param("transpose_x", Constant::scalar_bool(transpose_x), "")},
                       {"transpose_y", param("transpose_y", Constant::scalar_bool(transpose_y), "")}});
}

Value* Builder::linear(Value* x, Value* weight, Value* bias) {
  OpArgs args = {{"x", x}, {"weight", weight}};
  if (bias) args.push_back({"bias", bias});
  return op("linear", std::move(args));
}

// --- elementwise -------------------------------------------------------------------------

Value* Builder::binary(std::string type, Value* x, Value* y) { return op(std::move(type), {{"x", x}, {"y", y}}); }

Value* Builder::add(Value* x, Value* y) { return binary("add", x, y); }
Value* Builder::sub(Value* x, Value* y) { return binary("sub", x, y); }
Value* Builder::mul(Value* x, Value* y) { return binary("mul", x, y); }
Value* Builder::real_div(Value* x, Value* y) { return binary("real_div", x, y); }
Value* Builder::pow(Value* x, Value* y) { return binary("pow", x, y); }
Value* Builder::maximum(Value* x, Value* y) { return binary("maximum", x, y); }
Value* Builder::minimum(Value* x, Value* y) { return binary("minimum", x, y); }
Value* Builder::add(Value* x, double y) { return binary("add", x, scalar_like(x, y)); }
Value* Builder::sub(Value* x, double y) { return binary("sub", x, scalar_like(x, y)); }
Value* Builder::mul(Value* x, double y) { return binary("mul", x, scalar_like(x, y)); }
Value* Builder::real_div(Value* x, double y) { return binary("real_div", x, scalar_like(x, y)); }
Value* Builder::pow(Value* x, double y) { return binary("pow", x, scalar_like(x, y)); }
Value* Builder::maximum(Value* x, double y) { return binary("maximum", x, scalar_like(x, y)); }
Value* Builder::minimum(Value* x, double y) { return binary("minimum", x, scalar_like(x, y)); }

Value* Builder::select(Value* cond, Value* a, Value* b) { return op("select", {{"cond", cond}, {"a", a}, {"b", b}}); }

// --- activations and unary math ----------------------------------------------------------

Value* Builder::unary(std::string type, Value* x) { return op(std::move(type), {{"x", x}}); }

Value* Builder::unary_epsilon(std::string type, Value* x, std::optional<double> epsilon) {
  OpArgs args = {{"x", x}};
  if (epsilon) args.push_back({"epsilon", scalar_like(x, *epsilon)});
  return op(std::move(type), std::move(args));
}

Value* Builder::sigmoid(Value* x) { return unary("sigmoid", x); }
Value* Builder::tanh(Value* x) { return unary("tanh", x); }
Value* Builder::relu(Value* x) { return unary("relu", x); }
Value* Builder::silu(Value* x) { return unary("silu", x); }
Value* Builder::exp(Value* x) { return unary("exp", x); }
Value* Builder::sqrt(Value* x) { return unary("sqrt", x); }
Value* Builder::log(Value* x, std::optional<double> epsilon) { return unary_epsilon("log", x, epsilon); }
Value* Builder::rsqrt(Value* x, std::optional<double> epsilon) { return unary_epsilon("rsqrt", x, epsilon); }
Value* Builder::inverse(Value* x, std::optional<double> epsilon) { return unary_epsilon("inverse", x, epsilon); }

Value* Builder::gelu(Value* x, std::string mode) {
  return op("gelu", {{"x", x}, {"mode", param("mode", Constant::scalar_string(std::move(mode)), "")}});
}

Value* Builder::clip(Value* x, double alpha, double beta) {
  return op("clip", {{"x", x}, {"alpha", scalar_like(x, alpha)}, {"beta", scalar_like(x, beta)}});
}

Value* Builder::softmax(Value* x, int64_t axis) {
  return op("softmax", {{"x", x}, {"axis", param("axis", Constant::scalar_int(DType::kInt32, axis), "")}});
}

// --- reductions --------------------------------------------------------------------------

Value* Builder::reduce(std::string type, Value* x, const std::vector<int64_t>& axes, bool keep_dims) {
  OpArgs args = {{"x", x}};
  if (!axes.empty()) args.push_back({"axes", param("axes", Constant::int_tensor(DType::kInt32, axes), "")});
  args.push_back({"keep_dims", param("keep_dims", Constant::scalar_bool(keep_dims), "")});
  return op(std::move(type), std::move(args));
}

Value* Builder::reduce_sum(Value* x, const std::vector<int64_t>& axes, bool keep_dims) {
  return reduce("reduce_sum", x, axes, keep_dims);
}
Value* Builder::reduce_mean(Value* x, const std::vector<int64_t>& axes, bool keep_dims) {
  return reduce("reduce_mean", x, axes, keep_dims);
}
Value* Builder::reduce_max(Value* x, const std::vector<int64_t>& axes, bool keep_dims) {
  return reduce("reduce_max", x, axes, keep_dims);
}
Value* Builder::reduce_min(Value* x, const std::vector<int64_t>& axes, bool keep_dims) {
  return reduce("reduce_min", x, axes, keep_dims);
}

// --- shape -------------------------------------------------------------------------------

Value* Builder::reshape(Value* x, const std::vector<int64_t>& shape) {
  return op("reshape", {{"x", x}, {"shape", param("shape", Constant::int_tensor(DType::kInt32, shape), "")}});
}

Value* Builder::transpose(Value* x, const std::vector<int64_t>& perm) {
  return op("transpose", {{"x", x}, {"perm", param("perm", Constant::int_tensor(DType::kInt32, perm), "")}});
}

Value* Builder::concat(int64_t axis, const std::vector<Value*>& values, bool interleave) {
  return op("concat", {{"values", OpArg::tuple(values)},
                       {"axis", param("axis", Constant::scalar_int(DType::kInt32, axis), "")},
                       {"interleave", param("interleave", Constant::scalar_bool(interleave), "")}});
}

std::vector<Value*> Builder::split(Value* x, int64_t axis, int64_t num_splits) {
  return op_multi("split",
                  {{"x", x},
                   {"num_splits", param("num_splits", Constant::scalar_int(DType::kInt32, num_splits), "")},
                   {"axis", param("axis", Constant::scalar_int(DType::kInt32, axis), "")}},
                  num_splits > 0 ? static_cast<size_t>(num_splits) : 1);
}

std::vector<Value*> Builder::split_sizes(Value* x, int64_t axis, const std::vector<int64_t>& sizes) {
  return op_multi("split",
                  {{"x", x},
                   {"split_sizes", param("split_sizes", Constant::int_tensor(DType::kInt32, sizes), "")},
                   {"axis", param("axis", Constant::scalar_int(DType::kInt32, axis), "")}},
                  sizes.size());
}

Value* Builder::slice_by_size(Value* x, const std::vector<int64_t>& begin, const std::vector<int64_t>& size) {
  return op("slice_by_size", {{"x", x},
                              {"begin", param("begin", Constant::int_tensor(DType::kInt32, begin), "")},
                              {"size", param("size", Constant::int_tensor(DType::kInt32, size), "")}});
}

Value* Builder::slice_by_index(Value* x, const SliceByIndexOptions& o) {
  OpArgs args = {{"x", x},
                 {"begin", param("begin", Constant::int_tensor(DType::kInt32, o.begin), "")},
                 {"end", param("end", Constant::int_tensor(DType::kInt32, o.end), "")}};
  if (!o.stride.empty()) args.push_back({"stride", param("stride", Constant::int_tensor(DType::kInt32, o.stride), "")});
  const std::pair<const char*, const std::vector<bool>*> masks[] = {
      {"begin_mask", &o.begin_mask}, {"end_mask", &o.end_mask}, {"squeeze_mask", &o.squeeze_mask}};
  for (const auto& [name, mask] : masks) {
    if (!mask->empty()) args.push_back({name, param(name, Constant::bool_tensor(*mask), "")});
  }
  return op("slice_by_index", std::move(args));
}

Value* Builder::tile(Value* x, const std::vector<int64_t>& reps) {
  return op("tile", {{"x", x}, {"reps", param("reps", Constant::int_tensor(DType::kInt32, reps), "")}});
}

Value* Builder::expand_dims(Value* x, const std::vector<int64_t>& axes) {
  return op("expand_dims", {{"x", x}, {"axes", param("axes", Constant::int_tensor(DType::kInt32, axes), "")}});
}

Value* Builder::squeeze(Value* x, const std::vector<int64_t>& axes) {
  OpArgs args = {{"x", x}};
  if (!axes.empty()) args.push_back({"axes", param("axes", Constant::int_tensor(DType::kInt32, axes), "")});
  return op("squeeze", std::move(args));
}

Value* Builder::gather(Value* x, Value* indices, int64_t axis) {
  return op("gather",
            {{"x", x}, {"indices", indices}, {"axis", param("axis", Constant::scalar_int(DType::kInt32, axis), "")}});
}

// --- normalisation, dtype, quantization --------------------------------------------------

Value* Builder::layer_norm(Value* x, const std::vector<int64_t>& axes, Value* gamma, Value* beta, double epsilon) {
  OpArgs args = {{"x", x}};
  if (!axes.empty()) args.push_back({"axes", param("axes", Constant::int_tensor(DType::kInt32, axes), "")});
  if (gamma) args.push_back({"gamma", gamma});
  if (beta) args.push_back({"beta", beta});
  args.push_back({"epsilon", scalar_like(x, epsilon)});
  return op("layer_norm", std::move(args));
}

Value* Builder::cast(Value* x, DType dtype) {
  return op("cast", {{"x", x}, {"dtype", param("dtype", Constant::scalar_string(std::string(dtype_name(dtype))), "")}});
}

Value* Builder::quantize(Value* x, Value* scale, Value* zero_point, DType output_dtype, std::optional<int64_t> axis) {
  OpArgs args = {{"input", x},
                 {"scale", scale},
                 {"output_dtype", param("output_dtype", Constant::scalar_string(std::string(dtype_name(output_dtype))), "")}};
  if (zero_point) args.push_back({"zero_point", zero_point});
  if (axis) args.push_back({"axis", param("axis", Constant::scalar_int(DType::kInt32, *axis), "")});
  return op("quantize", std::move(args));
}

Value* Builder::dequantize(Value* x, Value* scale, Value* zero_point, std::optional<int64_t> axis) {
  OpArgs args = {{"input", x}, {"scale", scale}};
  if (zero_point) args.push_back({"zero_point", zero_point});
  if (axis) args.push_back({"axis", param("axis", Constant::scalar_int(DType::kInt32, *axis), "")});
  return op("dequantize", std::move(args));
}

Value* Builder::constexpr_affine_dequantize(Value* quantized_data, Value* zero_point, Value* scale, int64_t axis) {
  return op("constexpr_affine_dequantize",
            {{"quantized_data", quantized_data},
             {"zero_point", zero_point},
             {"scale", scale},
             {"axis", param("axis", Constant::scalar_int(DType::kInt32, axis), "")}});
}

}  // namespace ane::mil
