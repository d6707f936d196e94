// The step engine: one model's weights, gradients and Adam state, the fused layer kernels of
// either pipeline, and the CPU work between them, in the original's step structure:
//   forward:  embedding (CPU) -> per layer attention and FFN kernels with taps -> final
//             RMSNorm and classifier (CPU, sgemm) -> cross-entropy (CPU);
//   backward: classifier and final-norm gradients (CPU) -> per layer, in reverse, the
//             ffn_backward, sdpa_backward1/2 and qkv_backward kernels for dx, with the weight
//             gradients as GEMMs on the taps and RMSNorm backward on the CPU -> embedding;
//   update:   after `accum` micro-steps, unscale, clip by global norm, AdamW, reload weights.
// The residual stream and every gradient accumulator stay fp32; kernels see fp16 surfaces, so
// the loss gradient is multiplied by a loss scale (dynamic by default) on the way in.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/fp16.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "formats/checkpoint.h"
#include "formats/model_weights.h"
#include "runtime/engine.h"
#include "train/kernel_set.h"
#include "train/optimizer.h"

namespace ane::train {

struct TrainerOptions {
  Pipeline pipeline = Pipeline::kDynamic;
  int threads = 0;              // GEMMs and CPU ops; 0 = physical cores
  LrSchedule schedule;
  AdamWConfig adamw;
  double clip = 1.0;            // max global gradient norm; 0 = no clipping
  double loss_scale = 1024.0;   // initial (dynamic) or fixed loss scale
  bool dynamic_loss_scale = true;
  double residual_scale = 1.0;  // x + a * f(x) for both residual branches
  // loss() only: no gradients or Adam moments (three quarters of a training state's memory),
  // for evaluation; accumulate() and restore_state() are errors.
  bool evaluate_only = false;
};

// What one optimizer step did.
struct StepReport {
  int64_t step = 0;        // optimizer steps done, this one included
  double lr = 0;
  double grad_norm = 0;    // before clipping, unscaled; inf/nan when the step overflowed
  double loss_scale = 0;   // the scale the step's gradients were computed with
  bool applied = false;    // false: gradients overflowed, weights unchanged
  bool kernels_stale = false;  // static pipeline: the compile budget ran out reloading weights
};

// Milliseconds spent, by kind, since the trainer was made.
struct TrainerTimes {
  double kernels = 0;    // running fused kernels
  double cpu = 0;        // CPU ops and weight-gradient GEMMs between kernels
  double classifier = 0; // final norm, classifier GEMMs and cross-entropy
  double optimizer = 0;  // clip + AdamW
  double compile = 0;    // compiling kernels (static pipeline reloads)
  double streaming = 0;  // converting weights into the dynamic pipeline's fp16 surfaces (load/resume; AdamW writes them after updates)
};

class Trainer {
 public:
  // Takes the initial weights; compiles the kernels (static: with these weights baked in).
  static Expected<std::unique_ptr<Trainer>> create(Engine& engine, ModelWeights weights, TrainerOptions options);
  ~Trainer();

  // Forward and backward on one window of seq_len + 1 tokens (inputs window[0, S), targets
  // window[1, S]); gradients accumulate. Returns the window's mean cross-entropy.
  Expected<double> accumulate(std::span<const uint16_t> window);
  // Forward only: the window's mean cross-entropy.
  Expected<double> loss(std::span<const uint16_t> window);
  // Applies the gradients accumulated since the last step (averaged over those windows).
  Expected<StepReport> step();

  // The state a checkpoint holds: views of every tensor ("model.*", "adam.m.*", "adam.v.*";
  // "model.*" alone when it only evaluates; valid while the trainer lives and does not step)
  // and meta (model, step, adam_t, loss scale); restore_state() reads a checkpoint of them
  // back and reloads the kernels.
  std::vector<TensorView> state_tensors() const;
  nlohmann::json state_meta() const;
  Status restore_state(const Checkpoint& ckpt);

  const ModelConfig& config() const { return weights_.config; }
  const ModelWeights& weights() const { return weights_; }
  // The gradients accumulated since the last step (or restore): each tensor holds loss_scale
  // x the sum over those windows of the gradient of the window's mean cross-entropy,
  // loss_scale being loss_scaler().scale() (it changes only in step()). Meaningful only after
  // accumulate(): between a step and the next window the GEMM-written tensors keep the last
  // step's values (the next window's first GEMM overwrites them instead of adding to zeros).
  const ModelWeights& gradients() const { return grads_; }
  const AdamW& adam() const { return adam_; }
  int64_t steps_done() const { return steps_done_; }
  const LossScaler& loss_scaler() const { return scaler_; }
  const TrainerOptions& options() const { return options_; }
  KernelSet& kernels() { return *kernels_; }
  TrainerTimes times() const;

  // FLOPs of one window's forward + backward as the kernels and GEMMs compute them.
  double flops_per_window() const;

 private:
  struct Buffers;
  Trainer(Engine& engine, ModelWeights weights, TrainerOptions options, AdamW adam, ModelWeights grads);

  Status forward(std::span<const uint16_t> tokens);
  // out = x + residual_scale * kernel(x) for one layer's attention or FFN kernel, which writes
  // its output (the taps) into `taps`.
  Status residual_branch(LayerKernel kind, int layer, const std::vector<float>& x, std::shared_ptr<Surface> taps,
                         std::vector<float>& out);
  Expected<double> classifier_loss(std::span<const uint16_t> targets, bool backward);
  Status backward(std::span<const uint16_t> tokens);
  Status layer_backward(int layer, std::vector<float>& dy);
  Expected<Kernel*> run_kernel(LayerKernel kind, int layer);
  // 0 for a step's first window: the weight-gradient GEMMs overwrite their tensors, which
  // saves zeroing them after every step (a pass over every matrix gradient); 1 afterwards.
  float gemm_gradient_beta() const;
  // Zeroes the gradients that are sums rather than GEMM outputs (norm scales; the embedding
  // when the classifier is not shared), after an applied step.
  void zero_summed_gradients();
  // Where the GEMM writing gradient g reports g's sum of squares (marking it known).
  double* squares_of(const std::vector<float>& g);
  Status check_window(std::span<const uint16_t> window) const;

  Engine& engine_;
  ModelWeights weights_;
  TrainerOptions options_;
  AdamW adam_;
  ModelWeights grads_;
  LossScaler scaler_;
  // The engine's pool when it has options.threads threads (kernels and the CPU work between
  // them then share warm threads), else one of the trainer's own.
  std::shared_ptr<ThreadPool> pool_owner_;
  ThreadPool& pool_;
  std::unique_ptr<KernelSet> kernels_;
  std::unique_ptr<Buffers> buf_;
  int64_t steps_done_ = 0;
  int micro_steps_ = 0;  // windows accumulated since the last step
  // Per gradient tensor (grads_.tensors() order): its sum of squares as the GEMM that wrote it
  // last reported it, so the step's norm need not read it again; unset for the others.
  std::vector<std::optional<double>> grad_squares_;
  std::unordered_map<const float*, size_t> grad_index_;  // a gradient's data -> its index
  TrainerTimes times_;
};

}  // namespace ane::train
