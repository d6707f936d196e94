#include "mil/ir.h"

#include <cstring>

#include "core/fp16.h"

namespace ane::mil {
namespace {

template <typename T>
void append(std::vector<uint8_t>& out, T v) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

void append_float(std::vector<uint8_t>& out, DType dtype, double v) {
  switch (dtype) {
    case DType::kFp16: append<uint16_t>(out, float_to_half(static_cast<float>(v))); break;
    case DType::kBf16: append<uint16_t>(out, float_to_bf16(static_cast<float>(v))); break;
    default: append<float>(out, static_cast<float>(v)); break;
  }
}

void append_int(std::vector<uint8_t>& out, DType dtype, int64_t v) {
  switch (dtype) {
    case DType::kInt8: append<int8_t>(out, static_cast<int8_t>(v)); break;
    case DType::kUint8: append<uint8_t>(out, static_cast<uint8_t>(v)); break;
    case DType::kInt16: append<int16_t>(out, static_cast<int16_t>(v)); break;
    case DType::kUint16: append<uint16_t>(out, static_cast<uint16_t>(v)); break;
    case DType::kInt32: append<int32_t>(out, static_cast<int32_t>(v)); break;
    case DType::kUint32: append<uint32_t>(out, static_cast<uint32_t>(v)); break;
    case DType::kInt64: append<int64_t>(out, v); break;
    case DType::kUint64: append<uint64_t>(out, static_cast<uint64_t>(v)); break;
    case DType::kBool: append<uint8_t>(out, v ? 1 : 0); break;
    default: append_float(out, dtype, static_cast<double>(v)); break;
  }
}

}  // namespace

Constant Constant::scalar_float(DType dtype, double v) {
  Constant c;
  c.type = {dtype, {}};
  append_float(c.data, dtype, v);
  return c;
}

Constant Constant::scalar_int(DType dtype, int64_t v) {
  Constant c;
  c.type = {dtype, {}};
  append_int(c.data, dtype, v);
  return c;
}

Constant Constant::scalar_bool(bool v) { return scalar_int(DType::kBool, v ? 1 : 0); }

Constant Constant::scalar_string(std::string v) {
  Constant c;
  c.type = {DType::kString, {}};
  c.strings.push_back(std::move(v));
  return c;
}

Constant Constant::int_tensor(DType dtype, const std::vector<int64_t>& values) {
  Constant c;
  c.type = {dtype, {static_cast<int64_t>(values.size())}};
  for (int64_t v : values) append_int(c.data, dtype, v);
  return c;
}

Constant Constant::bool_tensor(const std::vector<bool>& values) {
  Constant c;
  c.type = {DType::kBool, {static_cast<int64_t>(values.size())}};
  for (bool v : values) append<uint8_t>(c.data, v ? 1 : 0);
  return c;
}

Constant Constant::float_tensor(DType dtype, std::vector<int64_t> shape, const std::vector<float>& values) {
  Constant c;
  c.type = {dtype, std::move(shape)};
  c.data.reserve(values.size() * dtype_size(dtype));
  for (float v : values) append_float(c.data, dtype, v);
  return c;
}

double Constant::element_as_double(int64_t i) const {
  return load_element(data.data() + static_cast<size_t>(i) * dtype_size(type.dtype), type.dtype);
}

int64_t Constant::element_as_int(int64_t i) const {
  return load_element_int(data.data() + static_cast<size_t>(i) * dtype_size(type.dtype), type.dtype);
}

std::vector<int64_t> Constant::to_ints() const {
  std::vector<int64_t> out(static_cast<size_t>(type.num_elements()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = element_as_int(static_cast<int64_t>(i));
  return out;
}

std::vector<float> Constant::to_floats() const {
  std::vector<float> out(static_cast<size_t>(type.num_elements()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(element_as_double(static_cast<int64_t>(i)));
  return out;
}

const Argument* Op::arg(std::string_view key) const {
  for (const auto& [k, a] : args) {
    if (k == key) return &a;
  }
  return nullptr;
}

Value* Op::arg_value(std::string_view key) const {
  const Argument* a = arg(key);
  return a ? a->single() : nullptr;
}

const Constant* Op::attribute(std::string_view key) const {
  for (const auto& [k, c] : attributes) {
    if (k == key) return &c;
  }
  return nullptr;
}

std::string Op::display_name() const {
  const Constant* n = attribute("name");
  if (n && n->type.dtype == DType::kString && !n->strings.empty()) return n->strings.front();
  return outputs.empty() ? type : outputs.front()->name;
}

Value* Function::add_value(std::string value_name, TensorType type, ValueKind kind, Location where) {
  auto v = std::make_unique<Value>();
  v->name = std::move(value_name);
  v->type = std::move(type);
  v->kind = kind;
  v->loc = std::move(where);
  values.push_back(std::move(v));
  return values.back().get();
}

Op* Function::add_op(std::string op_type, Location where) {
  auto op = std::make_unique<Op>();
  op->type = std::move(op_type);
  op->loc = std::move(where);
  ops.push_back(std::move(op));
  return ops.back().get();
}

Value* Function::find_value(std::string_view value_name) const {
  for (const auto& v : values) {
    if (v->name == value_name) return v.get();
  }
  return nullptr;
}

Function* Program::find_function(std::string_view fn_name) const {
  for (const auto& f : functions) {
    if (f->name == fn_name) return f.get();
  }
  return nullptr;
}

Function* Program::add_function(std::string fn_name, std::string opset) {
  auto f = std::make_unique<Function>();
  f->name = std::move(fn_name);
  f->opset = std::move(opset);
  functions.push_back(std::move(f));
  return functions.back().get();
}

}  // namespace ane::mil
