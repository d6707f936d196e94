#include "mil/types.h"

#include <array>

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
