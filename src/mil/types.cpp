#include "mil/types.h"

#include <array>
#include <cstring>

#include "core/fp16.h"

namespace ane::mil {
namespace {

struct DTypeInfo {
  DType type;
  std::string_view name;
  size_t size;
};

constexpr std::array<DTypeInfo, 13> kDTypes = {{
    {DType::kFp16, "fp16", 2},
    {DType::kFp32, "fp32", 4},
    {DType::kBf16, "bf16", 2},
    {DType::kInt8, "int8", 1},
    {DType::kUint8, "uint8", 1},
    {DType::kInt16, "int16", 2},
    {DType::kUint16, "uint16", 2},
    {DType::kInt32, "int32", 4},
    {DType::kUint32, "uint32", 4},
    {DType::kInt64, "int64", 8},
    {DType::kUint64, "uint64", 8},
    {DType::kBool, "bool", 1},
    {DType::kString, "string", 0},
}};

}  // namespace

std::string_view dtype_name(DType t) { return kDTypes[static_cast<size_t>(t)].name; }
size_t dtype_size(DType t) { return kDTypes[static_cast<size_t>(t)].size; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& info : kDTypes) {
    if (info.name == name) return info.type;
  }
  return std::nullopt;
}

namespace {
template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
}  // namespace

double load_element(const uint8_t* p, DType dtype) {
  switch (dtype) {
    case DType::kFp16: return half_to_float(load<uint16_t>(p));
    case DType::kBf16: return bf16_to_float(load<uint16_t>(p));
    case DType::kFp32: return load<float>(p);
    case DType::kInt8: return load<int8_t>(p);
    case DType::kUint8: return load<uint8_t>(p);
    case DType::kInt16: return load<int16_t>(p);
    case DType::kUint16: return load<uint16_t>(p);
    case DType::kInt32: return load<int32_t>(p);
    case DType::kUint32: return load<uint32_t>(p);
    case DType::kInt64: return static_cast<double>(load<int64_t>(p));
    case DType::kUint64: return static_cast<double>(load<uint64_t>(p));
    case DType::kBool: return load<uint8_t>(p) != 0 ? 1.0 : 0.0;
    case DType::kString: return 0.0;
  }
  return 0.0;
}

int64_t load_element_int(const uint8_t* p, DType dtype) {
  switch (dtype) {
    case DType::kInt64: return load<int64_t>(p);
    case DType::kUint64: return static_cast<int64_t>(load<uint64_t>(p));
    default: return static_cast<int64_t>(load_element(p, dtype));
  }
}

bool is_float(DType t) { return t == DType::kFp16 || t == DType::kFp32 || t == DType::kBf16; }
bool is_integer(DType t) { return !is_float(t) && t != DType::kBool && t != DType::kString; }

int64_t TensorType::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string TensorType::to_string() const {
  if (is_scalar()) return std::string(dtype_name(dtype));
  std::string s = "tensor<" + std::string(dtype_name(dtype)) + ", [";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]>";
}

}  // namespace ane::mil
