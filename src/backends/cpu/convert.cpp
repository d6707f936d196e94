// Cast family and the dtype rounding every step's outputs get: values of integer dtype
// truncate toward zero and saturate, bool values become 0/1 (as the reference keeps them),
// and float values round to fp16/bf16 where asked (cast; every op in fp16 mode).
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "backends/cpu/plan.h"
#include "backends/ref/lowering.h"

namespace ane::cpu {
namespace {

float round_to_bf16(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  if (std::isnan(f)) return f;
  b = (b + 0x7FFFu + ((b >> 16) & 1u)) & 0xFFFF0000u;  // nearest, ties to even; overflow gives inf
  std::memcpy(&f, &b, sizeof f);
  return f;
}

template <typename T>
void saturate_to(float* x, int64_t n) {
  const auto lo = static_cast<double>(std::numeric_limits<T>::min());
  const auto hi = static_cast<double>(std::numeric_limits<T>::max());
  for (int64_t i = 0; i < n; ++i) {
    const double v = std::isnan(x[i]) ? 0.0 : std::trunc(static_cast<double>(x[i]));
    x[i] = static_cast<float>(std::min(std::max(v, lo), hi));
  }
}

Expected<StepFn> lower_cast(const mil::Op& op, LowerCtx& ctx) {
  const mil::Value* x = ctx.arg(op, "x");
  const mil::Value* y = op.outputs[0];
  const float* xp = ctx.data(x);
  float* yp = ctx.mutable_data(y);
  const int64_t n = y->type.num_elements();
  const mil::DType to = y->type.dtype;
  return StepFn([=] {
    if (xp != yp) std::memcpy(yp, xp, static_cast<size_t>(n) * sizeof(float));
    round_to_dtype(yp, n, to, true);
    return Status();
  });
}

constexpr FamilyEntry kCastOps[] = {{"cast", lower_cast}};

}  // namespace

void round_to_dtype(float* x, int64_t n, mil::DType dtype, bool round_floats) {
  switch (dtype) {
    case mil::DType::kFp16:
      if (round_floats) kernels().round_fp16(x, n);
      return;
    case mil::DType::kBf16:
      if (round_floats) {
        for (int64_t i = 0; i < n; ++i) x[i] = round_to_bf16(x[i]);
      }
      return;
    case mil::DType::kFp32:
    case mil::DType::kString: return;
    case mil::DType::kBool:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] != 0.0f ? 1.0f : 0.0f;
      return;
    case mil::DType::kInt8: return saturate_to<int8_t>(x, n);
    case mil::DType::kUint8: return saturate_to<uint8_t>(x, n);
    case mil::DType::kInt16: return saturate_to<int16_t>(x, n);
    case mil::DType::kUint16: return saturate_to<uint16_t>(x, n);
    case mil::DType::kInt32: return saturate_to<int32_t>(x, n);
    case mil::DType::kUint32: return saturate_to<uint32_t>(x, n);
    case mil::DType::kInt64: return saturate_to<int64_t>(x, n);
    case mil::DType::kUint64: return saturate_to<uint64_t>(x, n);
  }
}

std::span<const FamilyEntry> cast_ops() { return kCastOps; }

}  // namespace ane::cpu
