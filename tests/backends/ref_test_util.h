// Helpers for the reference backend tests: random tensors and running a function.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "backends/ref/convert.h"
#include "backends/ref/ref_backend.h"
#include "backends/ref/tensor.h"
#include "mil/ir.h"

namespace ane::testing {

// Fixed seeds per test keep failures reproducible; the seed is in the test source.
inline ref::DTensor random_tensor(ref::Shape shape, std::mt19937& rng, double lo = -1.0, double hi = 1.0) {
  ref::DTensor t(mil::TensorType{mil::DType::kFp32, std::move(shape)});
  std::uniform_real_distribution<double> dist(lo, hi);
  for (double& v : t.data) v = dist(rng);
  return t;
}

inline std::vector<double> random_values(size_t n, std::mt19937& rng, double lo = -1.0, double hi = 1.0) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> out(n);
  for (double& v : out) v = dist(rng);
  return out;
}

// Compiles `fn` with the reference backend and runs it on `inputs` (one vector of values
// per parameter, encoded to the parameter's dtype); returns the outputs decoded to double.
inline Expected<std::vector<std::vector<double>>> run_ref(const mil::Function& fn,
                                                          const std::vector<std::vector<double>>& inputs) {
  auto backend = make_reference_backend();
  auto exe = backend->compile(fn, CompileOptions{});
  if (!exe.ok()) return exe.error();
  std::vector<std::vector<uint8_t>> in_bytes, out_bytes;
  std::vector<std::span<const uint8_t>> in_spans;
  std::vector<std::span<uint8_t>> out_spans;
  for (size_t i = 0; i < fn.inputs.size(); ++i) {
    in_bytes.emplace_back(fn.inputs[i]->type.num_bytes());
    Status st = ref::encode(inputs.at(i), fn.inputs[i]->type.dtype, in_bytes.back());
    if (!st.ok()) return st.error();
  }
  for (auto& b : in_bytes) in_spans.emplace_back(b);
  for (const mil::Value* v : fn.outputs) out_bytes.emplace_back(v->type.num_bytes());
  for (auto& b : out_bytes) out_spans.emplace_back(b);
  Status st = (*exe)->run(IoBuffers{in_spans, out_spans});
  if (!st.ok()) return st.error();
  std::vector<std::vector<double>> outs;
  for (size_t j = 0; j < fn.outputs.size(); ++j) {
    outs.emplace_back(static_cast<size_t>(fn.outputs[j]->type.num_elements()));
    Status d = ref::decode(out_bytes[j], fn.outputs[j]->type.dtype, outs.back());
    if (!d.ok()) return d.error();
  }
  return outs;
}

inline void expect_near_all(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], tol * (1.0 + std::abs(want[i]))) << "at element " << i;
  }
}

}  // namespace ane::testing
