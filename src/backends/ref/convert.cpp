#include "backends/ref/convert.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "core/fp16.h"

namespace ane::ref {
namespace {

using mil::DType;

// Rounds |v| to a binary float format with `mantissa_bits` stored fraction bits, minimum
// normal exponent `min_exp` and largest finite value `max_finite`, ties to even.
double round_to_binary(double v, int mantissa_bits, int min_exp, double max_finite) {
  if (!std::isfinite(v) || v == 0.0) return v;
  const double a = std::fabs(v);
  int e = std::ilogb(a);                      // a in [2^e, 2^(e+1))
  if (e < min_exp) e = min_exp;               // subnormal range: fixed quantum
  const double quantum = std::ldexp(1.0, e - mantissa_bits);
  double r = std::nearbyint(a / quantum) * quantum;  // default rounding mode: nearest even
  // The overflow threshold is max_finite + half an ulp; at or above it the value is inf.
  const double half_ulp_above_max = max_finite + std::ldexp(1.0, std::ilogb(max_finite) - mantissa_bits - 1);
  if (a >= half_ulp_above_max) r = std::numeric_limits<double>::infinity();
  else if (r > max_finite) r = max_finite;
  return std::copysign(r, v);
}

template <typename Int>
double saturate_to(double v) {
  if (std::isnan(v)) return 0.0;
  const double t = std::trunc(v);
  const double lo = static_cast<double>(std::numeric_limits<Int>::min());
  const double hi = static_cast<double>(std::numeric_limits<Int>::max());
  if (t <= lo) return lo;
  if (t >= hi) return hi;
  return t;
}

// Truncated, in-range values convert exactly; the bounds catch 2^63 and friends.
template <typename Int>
Int saturating_cast(double v) {
  if (std::isnan(v)) return 0;
  if (v <= static_cast<double>(std::numeric_limits<Int>::min())) return std::numeric_limits<Int>::min();
  if (v >= static_cast<double>(std::numeric_limits<Int>::max())) return std::numeric_limits<Int>::max();
  return static_cast<Int>(v);
}

template <typename T>
void store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

double decode_one(const uint8_t* p, DType dtype) { return mil::load_element(p, dtype); }

// `v` has already been through round_to_dtype, so every store below is exact.
void encode_one(double v, DType dtype, uint8_t* p) {
  switch (dtype) {
    case DType::kFp16: store<uint16_t>(p, float_to_half(static_cast<float>(v))); break;
    case DType::kBf16: store<uint16_t>(p, float_to_bf16(static_cast<float>(v))); break;
    case DType::kFp32: store<float>(p, static_cast<float>(v)); break;
    case DType::kInt8: store<int8_t>(p, saturating_cast<int8_t>(v)); break;
    case DType::kUint8: store<uint8_t>(p, saturating_cast<uint8_t>(v)); break;
    case DType::kInt16: store<int16_t>(p, saturating_cast<int16_t>(v)); break;
    case DType::kUint16: store<uint16_t>(p, saturating_cast<uint16_t>(v)); break;
    case DType::kInt32: store<int32_t>(p, saturating_cast<int32_t>(v)); break;
    case DType::kUint32: store<uint32_t>(p, saturating_cast<uint32_t>(v)); break;
    case DType::kInt64: store<int64_t>(p, saturating_cast<int64_t>(v)); break;
    case DType::kUint64: store<uint64_t>(p, saturating_cast<uint64_t>(v)); break;
    case DType::kBool: store<uint8_t>(p, v != 0.0 ? 1 : 0); break;
    case DType::kString: break;
  }
}

Status check_size(size_t bytes, size_t n, DType dtype, const char* what) {
  if (dtype == DType::kString) {
    return Error(ErrorCode::kUnsupported, std::string(what) + ": string tensors have no byte layout");
  }
  if (bytes != n * mil::dtype_size(dtype)) {
    return Error(ErrorCode::kInternal, std::string(what) + ": " + std::to_string(bytes) + " bytes for " +
                                           std::to_string(n) + " " + std::string(mil::dtype_name(dtype)) +
                                           " elements");
  }
  return {};
}

}  // namespace

double round_to_dtype(double v, DType dtype) {
  switch (dtype) {
    case DType::kFp16: return round_to_binary(v, 10, -14, 65504.0);
    case DType::kBf16: return round_to_binary(v, 7, -126, std::ldexp(255.0, 120));  // 0x7F7F
    case DType::kFp32: return static_cast<double>(static_cast<float>(v));
    case DType::kInt8: return saturate_to<int8_t>(v);
    case DType::kUint8: return saturate_to<uint8_t>(v);
    case DType::kInt16: return saturate_to<int16_t>(v);
    case DType::kUint16: return saturate_to<uint16_t>(v);
    case DType::kInt32: return saturate_to<int32_t>(v);
    case DType::kUint32: return saturate_to<uint32_t>(v);
    case DType::kInt64: return saturate_to<int64_t>(v);
    case DType::kUint64: return saturate_to<uint64_t>(v);
    case DType::kBool: return v != 0.0 ? 1.0 : 0.0;
    case DType::kString: return v;
  }
  return v;
}

Status decode(std::span<const uint8_t> bytes, DType dtype, std::span<double> out) {
  ANE_RETURN_IF_ERROR(check_size(bytes.size(), out.size(), dtype, "decode"));
  const size_t step = mil::dtype_size(dtype);
  for (size_t i = 0; i < out.size(); ++i) out[i] = decode_one(bytes.data() + i * step, dtype);
  return {};
}

Status encode(std::span<const double> values, DType dtype, std::span<uint8_t> bytes) {
  ANE_RETURN_IF_ERROR(check_size(bytes.size(), values.size(), dtype, "encode"));
  const size_t step = mil::dtype_size(dtype);
  for (size_t i = 0; i < values.size(); ++i) encode_one(round_to_dtype(values[i], dtype), dtype, bytes.data() + i * step);
  return {};
}

}  // namespace ane::ref
