// MIL element types and tensor types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ane::mil {

enum class DType : uint8_t {
  kFp16,
  kFp32,
  kBf16,
  kInt8,
  kUint8,
  kInt16,
  kUint16,
  kInt32,
  kUint32,
  kInt64,
  kUint64,
  kBool,
  kString,
};

// MIL spelling: "fp16", "int32", "bool", ...
std::string_view dtype_name(DType t);
std::optional<DType> dtype_from_name(std::string_view name);
// Bytes per element (bool is one byte; string has no fixed size and returns 0).
size_t dtype_size(DType t);
bool is_float(DType t);    // fp16, fp32, bf16
bool is_integer(DType t);  // signed or unsigned integers (not bool)

// One element stored little-endian at `p` in `dtype`, as a double (bool -> 0/1; string -> 0),
// and as an exact int64 for integer dtypes (uint64 above INT64_MAX wraps).
double load_element(const uint8_t* p, DType dtype);
int64_t load_element_int(const uint8_t* p, DType dtype);

// A tensor type with a static shape. Rank 0 is a scalar, printed as its dtype alone
// (`fp16`) — the same type as the verbose spelling `tensor<fp16, []>`.
struct TensorType {
  DType dtype = DType::kFp32;
  std::vector<int64_t> shape;

  int rank() const { return static_cast<int>(shape.size()); }
  bool is_scalar() const { return shape.empty(); }
  int64_t num_elements() const;  // 1 for scalars
  size_t num_bytes() const { return static_cast<size_t>(num_elements()) * dtype_size(dtype); }
  std::string to_string() const;  // canonical MIL: `tensor<fp16, [1, 768, 1, 256]>` or `fp32`
  bool operator==(const TensorType&) const = default;
};

}  // namespace ane::mil
