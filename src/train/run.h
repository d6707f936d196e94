// A whole training run: data, model initialisation or resumption, the step loop with
// evaluation, checkpoints (every N steps, at the end, on the best validation loss, keeping
// the last K) and JSON-lines metrics. What a person sees is left to a RunObserver (the CLI's
// console display); everything that must survive a restart is in the checkpoint.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "formats/model_weights.h"
#include "runtime/engine.h"
#include "train/data.h"
#include "train/trainer.h"
#include "train/vocab.h"

namespace ane::train {

struct RunOptions {
  TrainerOptions trainer;
  DataOptions data;             // window and vocab_size are filled from the model
  int64_t steps = 100;          // optimizer steps in total (a resumed run continues to this)
  int accum = 1;                // windows per optimizer step
  uint64_t seed = 42;           // weights (from scratch) and window sampling
  int64_t eval_every = 0;       // steps between validation passes (0: only at the end)
  int64_t eval_windows = 16;    // windows per validation pass
  int64_t save_every = 0;       // steps between checkpoints (0: only at the end and on restarts)
  int keep_last = 0;            // step-stamped copies "<ckpt>.<step>" kept besides <ckpt>
  std::string ckpt;             // checkpoint path (empty: no checkpoints)
  std::string blzt;             // also write the original's BLZT checkpoint here at each save
  std::string metrics;          // JSON-lines metrics path (empty: none)
  bool resume = false;          // continue from `ckpt` (an OANECKPT or BLZT file)
  int64_t stop_at = 0;          // end this process after this step with a checkpoint, as an
                                // interruption would (the schedule still runs to `steps`); 0: off
  std::optional<int> seq_len;   // overrides the model's training context
  CompactVocab compact_vocab = CompactVocab::kAuto;  // train only the ids the data uses (vocab.h)
  double peak_gflops = 0;       // for the MFU estimate; 0: measured at start-up
  int64_t sample_every = 0;     // steps between generated samples (and at the end); 0: none
  // Writes a sample from the current weights (the CLI's generator and tokenizer); the
  // trainer itself knows no text.
  std::function<Expected<std::string>(const ModelWeights&)> sample;
};

// Where the weights of a new run come from.
struct ModelSource {
  std::optional<ModelConfig> config;  // from scratch, randomly initialised with the run's seed
  std::string llama2_path;            // or a llama2.c model file to fine-tune
};

// What the observer is told.
struct RunStart {
  ModelConfig config;
  const RunOptions* options = nullptr;
  int64_t params = 0;
  int64_t first_step = 0;        // > 0 when resumed
  double flops_per_step = 0;
  int64_t tokens_per_step = 0;
  int kernels_compiled = 0;
  double compile_ms = 0;
  double peak_gflops = 0;
  int64_t train_tokens = 0, val_tokens = 0;
  int64_t data_ids = 0;      // distinct ids in the training and validation data
  int64_t trained_ids = 0;   // the vocabulary rows trained: data_ids when compacted, else every id
  VocabChange vocab_change;  // resumed: how the trained ids differ from the checkpoint's
};
struct RunStep {
  StepReport report;
  double loss = 0;       // mean over the step's windows
  double ms = 0;         // this step's wall time
  double tok_s = 0;
  double mfu = 0;        // achieved / peak, an estimate
};
struct RunEnd {
  int64_t steps = 0;                 // steps done in total
  double compile_ms = 0, train_ms = 0, wall_ms = 0;  // cumulative across restarts
  int64_t steps_timed = 0;           // steps in train_ms
  TrainerTimes this_process;         // where this process's time went
  double flops_per_step = 0;
  bool restarting = false;           // the static pipeline spent its compile budget
  std::optional<double> best_val_loss;
};

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void on_start(const RunStart&) {}
  virtual void on_step(const RunStep&, int64_t /*total_steps*/) {}
  virtual void on_eval(int64_t /*step*/, double /*val_loss*/, bool /*best*/) {}
  virtual void on_sample(int64_t /*step*/, const std::string& /*text*/) {}
  virtual void on_checkpoint(const std::string& /*path*/, int64_t /*step*/) {}
  virtual void on_end(const RunEnd&) {}
};

enum class RunOutcome {
  kFinished,  // all steps done (or stop_at reached), final checkpoint written
  kRestart,   // the static pipeline spent the compile budget: a checkpoint was written;
              // start the same command again with resume = true to continue
};

// Random initial weights for training from scratch: matrices N(0, 0.02^2) with the two
// residual-output projections (wo, w2) scaled by 1 / sqrt(2 n_layers), norm scales 1. A
// pool's threads fault the tensors in; the values do not depend on it.
Expected<ModelWeights> init_weights(const ModelConfig& config, uint64_t seed, ThreadPool* pool = nullptr);

// Runs the training described by `options` on `engine`.
Expected<RunOutcome> run_training(Engine& engine, const ModelSource& source, RunOptions options, RunObserver& observer);

// Validation loss of a checkpoint or llama2.c model on `data` (`ane eval`).
struct EvalResult {
  double loss = 0;
  int64_t windows = 0;
};
Expected<EvalResult> evaluate(Engine& engine, const ModelWeights& weights, const DataOptions& data, int64_t windows,
                              int threads);

// Measured fp32 sgemm GFLOP/s on this machine with `threads` threads (a short benchmark).
double measure_peak_gflops(int threads);

}  // namespace ane::train
