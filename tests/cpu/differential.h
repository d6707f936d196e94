// The differential harness: runs one MIL function on the reference backend and on the CPU
// backend with the same random inputs and compares every output, with a tolerance scaled by
// the output's largest magnitude (fp32 mode ~1e-5, fp16 mode ~1e-2).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/ref/convert.h"
#include "backends/ref/ref_backend.h"
#include "mil/builder.h"

namespace ane::testing {

using Values = std::vector<std::vector<double>>;

struct Io {
  std::vector<std::vector<uint8_t>> in, out;
  std::vector<std::span<const uint8_t>> in_spans;
  std::vector<std::span<uint8_t>> out_spans;

  Io(const mil::Function& fn, const Values& inputs) {
    for (size_t i = 0; i < fn.inputs.size(); ++i) {
      in.emplace_back(fn.inputs[i]->type.num_bytes());
      EXPECT_TRUE(ref::encode(inputs.at(i), fn.inputs[i]->type.dtype, in.back()).ok());
    }
    for (const mil::Value* v : fn.outputs) out.emplace_back(v->type.num_bytes());
    for (auto& b : in) in_spans.emplace_back(b);
    for (auto& b : out) out_spans.emplace_back(b);
  }
  IoBuffers buffers() const { return {in_spans, out_spans}; }
  Values decoded(const mil::Function& fn) const {
    Values outs;
    for (size_t j = 0; j < fn.outputs.size(); ++j) {
      outs.emplace_back(static_cast<size_t>(fn.outputs[j]->type.num_elements()));
      EXPECT_TRUE(ref::decode(out[j], fn.outputs[j]->type.dtype, outs.back()).ok());
    }
    return outs;
  }
};

inline Expected<Values> run_on(Backend& backend, const mil::Function& fn, const Values& inputs, Precision p,
                               int threads = 0) {
  auto exe = backend.compile(fn, CompileOptions{p, threads});
  if (!exe.ok()) return exe.error();
  Io io(fn, inputs);
  Status st = (*exe)->run(io.buffers());
  if (!st.ok()) return st.error();
  return io.decoded(fn);
}

// Random values for each input of fn in [lo, hi], integers for integer dtypes.
inline Values random_inputs(const mil::Function& fn, std::mt19937& rng, double lo = -2.0, double hi = 2.0) {
  Values v;
  std::uniform_real_distribution<double> dist(lo, hi);
  for (const mil::Value* in : fn.inputs) {
    std::vector<double> x(static_cast<size_t>(in->type.num_elements()));
    for (double& e : x) e = mil::is_float(in->type.dtype) ? dist(rng) : std::floor(dist(rng));
    v.push_back(std::move(x));
  }
  return v;
}

inline double tolerance(Precision p) { return p == Precision::kFp32 ? 2e-5 : 1.5e-2; }

// Compares the CPU backend against the reference on `inputs`, in precision p.
inline void expect_matches_reference(const mil::Function& fn, const Values& inputs, Precision p,
                                     const std::string& what, CpuBackendOptions options = {}) {
  auto ref_backend = make_reference_backend();
  auto cpu_backend = make_cpu_backend(options);
  auto want = run_on(*ref_backend, fn, inputs, Precision::kFp32);
  ASSERT_TRUE(want.ok()) << what << ": " << want.error().to_string();
  auto got = run_on(*cpu_backend, fn, inputs, p, 2);
  ASSERT_TRUE(got.ok()) << what << ": " << got.error().to_string();
  const double tol = tolerance(p);
  for (size_t j = 0; j < want->size(); ++j) {
    const auto& w = (*want)[j];
    const auto& g = (*got)[j];
    ASSERT_EQ(w.size(), g.size());
    double scale = 1.0;
    for (double e : w) {
      if (std::isfinite(e)) scale = std::max(scale, std::fabs(e));
    }
    for (size_t i = 0; i < w.size(); ++i) {
      if (std::isnan(w[i])) {
        ASSERT_TRUE(std::isnan(g[i])) << what << " output " << j << " element " << i;
        continue;
      }
      if (std::isinf(w[i])) {
        ASSERT_EQ(w[i], g[i]) << what << " output " << j << " element " << i;
        continue;
      }
      ASSERT_NEAR(g[i], w[i], tol * scale) << what << " output " << j << " element " << i << " (precision "
                                           << (p == Precision::kFp32 ? "fp32" : "fp16") << ")";
    }
  }
}

inline std::unique_ptr<mil::Program> finish(mil::Builder& b) {
  auto p = b.finish();
  EXPECT_TRUE(p.ok()) << p.error().to_string();
  return p.ok() ? std::move(*p) : nullptr;
}

}  // namespace ane::testing
