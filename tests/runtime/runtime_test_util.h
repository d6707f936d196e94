// Small programs for the runtime tests.
#pragma once

#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "../support/mil_fixture.h"
#include "core/fp16.h"
#include "runtime/engine.h"

namespace ane::testing {

// main(x: fp16[1, c, 1, s]) -> (x * k + b): one fp16 surface in, one out.
inline std::unique_ptr<mil::Program> affine_program(int64_t c, int64_t s, double k, double b) {
  FnBuilder fb;
  auto* x = fb.param("x", fp16({1, c, 1, s}));
  auto* m = fb.op("mul", {{"x", x}, {"y", fb.lit(mil::Constant::scalar_float(mil::DType::kFp16, k))}}, fp16({1, c, 1, s}));
  auto* y = fb.op("add", {{"x", m}, {"y", fb.lit(mil::Constant::scalar_float(mil::DType::kFp16, b))}}, fp16({1, c, 1, s}));
  fb.returns({y});
  return fb.finish();
}

// main(x: fp16[1, c, 1, s]) -> (softmax(x * k, axis 1) + x): its softmax keeps an
// intermediate in the arena.
inline std::unique_ptr<mil::Program> softmax_residual_program(int64_t c, int64_t s, double k) {
  FnBuilder fb;
  auto* x = fb.param("x", fp16({1, c, 1, s}));
  auto* m = fb.op("mul", {{"x", x}, {"y", fb.lit(mil::Constant::scalar_float(mil::DType::kFp16, k))}}, fp16({1, c, 1, s}));
  auto* p = fb.op("softmax", {{"x", m}, {"axis", fb.int_lit(1)}}, fp16({1, c, 1, s}));
  auto* y = fb.op("add", {{"x", p}, {"y", x}}, fp16({1, c, 1, s}));
  fb.returns({y});
  return fb.finish();
}

inline std::vector<uint8_t> halves(const std::vector<float>& values) {
  std::vector<uint8_t> out(values.size() * 2);
  for (size_t i = 0; i < values.size(); ++i) {
    const half_bits h = float_to_half(values[i]);
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
  return out;
}

inline std::vector<float> floats_of_halves(std::span<const uint8_t> bytes) {
  std::vector<float> out(bytes.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    half_bits h;
    std::memcpy(&h, bytes.data() + 2 * i, 2);
    out[i] = half_to_float(h);
  }
  return out;
}

inline std::unique_ptr<Engine> make_engine(int budget = 100) {
  EngineOptions o;
  o.compile_budget = budget;
  auto e = Engine::create(o);
  return e.ok() ? std::move(*e) : nullptr;
}

}  // namespace ane::testing
