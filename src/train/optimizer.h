// The optimizer side of a step: learning-rate schedule, gradient clipping by global norm,
// dynamic loss scaling, and AdamW over a whole model (ModelWeights doubles as the gradient
// and moment store, so every tensor is named and shaped the same way everywhere).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "core/fp16.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "formats/model_weights.h"

namespace ane::train {

// Linear warmup from lr / warmup to lr over `warmup` steps, then cosine decay to min_lr at
// `total` steps (and min_lr after). Steps count optimizer updates from 0.
struct LrSchedule {
  double lr = 3e-4;
  double min_lr = 3e-5;
  int64_t warmup = 0;
  int64_t total = 1;
  double at(int64_t step) const;
};

struct AdamWConfig {
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double weight_decay = 0.1;  // decoupled; applied to matrices only (norm scales are not decayed)
};

// An fp16 copy of one weight tensor (found by its fp32 data) that AdamW::step keeps current:
// the dynamic pipeline's weight surfaces, written in the update's own pass.
struct HalfCopy {
  const float* source;
  std::span<half_bits> halves;
};

// Adam moments for every tensor of a model, and the step count for bias correction.
class AdamW {
 public:
  AdamW() = default;  // no moments: for a trainer that only evaluates
  static Expected<AdamW> create(const ModelConfig& config, AdamWConfig options, ThreadPool* pool = nullptr);
  // One update of every tensor with gradient grad_scale * g: t += 1, then
  // w -= lr * (m_hat / (sqrt(v_hat) + eps) + wd * w). Runs over `pool` (tensors split into
  // chunks); the gradients are only read. Tensors with an entry in `copies` are also
  // written there in fp16 (an error when a copy's size differs from its tensor's).
  Status step(ModelWeights& weights, const ModelWeights& grads, double lr, float grad_scale, ThreadPool& pool,
              std::span<const HalfCopy> copies = {});

  int64_t t() const { return t_; }
  void set_t(int64_t t) { t_ = t; }
  ModelWeights& m() { return m_; }
  ModelWeights& v() { return v_; }
  const ModelWeights& m() const { return m_; }
  const ModelWeights& v() const { return v_; }
  const AdamWConfig& options() const { return options_; }

 private:
  AdamWConfig options_;
  ModelWeights m_, v_;
  int64_t t_ = 0;
};

// sqrt of the sum of squares of every gradient (accumulated in double, over `pool`). known[t],
// where set, is tensor t's sum of squares already (from the GEMM that wrote it): that tensor
// is not read again. The result does not depend on the pool's size.
double global_norm(const ModelWeights& grads, ThreadPool& pool, std::span<const std::optional<double>> known = {});
// Sets every gradient to zero (over `pool`).
void zero_all(ModelWeights& grads, ThreadPool& pool);

// Loss scaling for gradients that pass through fp16 surfaces: the loss gradient is multiplied
// by scale() so small gradients stay above fp16's subnormal range. Dynamic mode: a step whose
// gradients overflow is skipped and the scale halved; after `growth_interval` clean steps it
// doubles. Fixed mode never changes the scale.
class LossScaler {
 public:
  LossScaler(double initial, bool dynamic, int64_t growth_interval = 500)
      : scale_(initial), dynamic_(dynamic), growth_interval_(growth_interval) {}
  double scale() const { return scale_; }
  // Records a step's outcome; returns true when the step may be applied (finite gradients).
  bool update(bool finite);
  int64_t clean_steps() const { return clean_steps_; }
  void restore(double scale, int64_t clean_steps) { scale_ = scale, clean_steps_ = clean_steps; }

 private:
  double scale_;
  bool dynamic_;
  int64_t growth_interval_;
  int64_t clean_steps_ = 0;
};

}  // namespace ane::train
