// Test helpers: fp16-rounded random weights shared by kernels and reference, running a
// generated kernel through the Engine, and relative-error measures.
#pragma once

#include <cmath>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/fp16.h"
#include "mil/parser.h"
#include "mil/printer.h"
#include "models/kernel_program.h"
#include "reference_transformer.h"
#include "runtime/engine.h"

namespace ane::testing {

using reference::Vec;

inline void round_fp16(Vec& v) {
  for (double& x : v) x = round_to_half(static_cast<float>(x));
}
inline std::vector<float> to_float(const Vec& v) { return std::vector<float>(v.begin(), v.end()); }
inline Vec to_double(const std::vector<float>& v) { return Vec(v.begin(), v.end()); }

inline Vec random_acts(size_t n, uint64_t seed, double sd = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(0.0, sd);
  Vec v(n);
  for (double& x : v) x = d(rng);
  round_fp16(v);
  return v;
}

// One layer (and model-level tensors) with fp16-representable values, as double (for the
// reference) and float (viewed by WeightViews).
struct TestWeights {
  reference::Layer layer;
  Vec embedding, rms_final;
  std::vector<std::vector<float>> store;
  models::WeightViews views;

  TestWeights(const ModelConfig& c, uint64_t seed) : layer(reference::random_layer(c, seed)) {
    reference::Model m = reference::random_model(ModelConfig{c}, seed + 7);
    embedding = m.embedding;
    rms_final = m.rms_final;
    for (Vec* p : layer.params()) round_fp16(*p);
    round_fp16(embedding);
    round_fp16(rms_final);
    bind();
  }
  void bind() {
    store.clear();
    store.reserve(16);
    auto view = [&](const Vec& v) {
      store.push_back(to_float(v));
      return std::span<const float>(store.back());
    };
    reference::Layer& l = layer;
    views = {view(l.rms_att), view(l.wq), view(l.wk), view(l.wv), view(l.wo), view(l.rms_ffn), view(l.w1),
             view(l.w2), view(l.w3), view(l.q_norm), view(l.k_norm), view(rms_final), view(embedding)};
  }
};

// max |got - want| / max |want| over want.size() values of got starting at `offset` elements.
inline double rel_err(const std::vector<float>& got, size_t offset, const Vec& want) {
  double err = 0, scale = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    err = std::max(err, std::abs(static_cast<double>(got[offset + i]) - want[i]));
    scale = std::max(scale, std::abs(want[i]));
  }
  return err / std::max(scale, 1e-30);
}
inline double rel_err(const Vec& got, const Vec& want) { return rel_err(to_float(got), 0, want); }

// Checks print -> parse -> print of the kernel's program.
inline void expect_round_trip(const models::KernelProgram& k) {
  const std::string text = k.text();
  auto parsed = mil::parse_program(text, k.name + ".mil");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(mil::print_program(**parsed), text) << k.name;
}

inline std::unique_ptr<Engine> make_engine() {
  auto e = Engine::create(EngineOptions{.compile_budget = 0});
  EXPECT_TRUE(e.ok());
  return std::move(e).value();
}

// A compiled one-input one-output fp16 kernel with its layout.
struct RunnableKernel {
  std::unique_ptr<Kernel> kernel;
  models::KernelLayout layout;

  // Writes `weights` once (streamed kernels); activations are written per run.
  Status set_weights(const models::WeightViews& weights) {
    return models::write_streamed_weights(layout, weights, *kernel);
  }
  // Writes the activations back to back from channel 0, runs, returns the output [C_out, S].
  std::vector<float> run(const std::vector<const Vec*>& acts) {
    auto surface = kernel->input(0);
    const std::span<half_bits> in_halves = models::halves_of(*surface);
    int64_t ch = 0;
    for (const Vec* a : acts) {
      const std::vector<float> f = to_float(*a);
      Status s = models::write_channels(in_halves, layout.input, ch, f, layout.seq);
      EXPECT_TRUE(s.ok()) << s.to_string();
      ch += static_cast<int64_t>(a->size()) / layout.seq;
    }
    Status s = kernel->run();
    EXPECT_TRUE(s.ok()) << layout.name << ": " << s.to_string();
    auto o = kernel->output(0);
    std::vector<float> out_f(static_cast<size_t>(layout.output.shape[1] * layout.seq));
    Status r = models::read_channels(models::halves_of(std::as_const(*o)), layout.output, 0,
                                     out_f, layout.seq);
    EXPECT_TRUE(r.ok()) << r.to_string();
    return out_f;
  }
};

inline RunnableKernel compile_checked(Engine& engine, Expected<models::KernelProgram> program,
                                      const models::WeightViews* weights) {
  EXPECT_TRUE(program.ok()) << program.error().to_string();
  RunnableKernel r;
  if (!program.ok()) return r;
  expect_round_trip(*program);
  r.layout = program->layout();
  auto k = models::compile_kernel(engine, std::move(program).value());
  EXPECT_TRUE(k.ok()) << k.error().to_string();
  if (!k.ok()) return r;
  r.kernel = std::move(k).value();
  if (weights != nullptr && !r.layout.streamed.empty()) {
    Status s = r.set_weights(*weights);
    EXPECT_TRUE(s.ok()) << s.to_string();
  }
  return r;
}

inline ModelConfig tiny_config() {
  auto c = model_preset("tiny");
  EXPECT_TRUE(c.ok());
  return c.ok() ? *c : ModelConfig{};
}
// GQA with head_dim independent of dim / n_heads, and Qwen3's q/k norm.
inline ModelConfig tiny_qk_config() {
  ModelConfig c = tiny_config();
  c.name = "tiny-qk";
  c.head_dim = 24;
  c.qk_norm = true;
  c.rope_theta = 1e6;
  c.norm_eps = 1e-6;
  return c;
}

}  // namespace ane::testing
