// The six fused layer kernels of a model, compiled for one of the two pipelines:
//   static:  every layer has its own kernels with that layer's weights baked in as
//            constants; load_weights() recompiles them all (5 per layer, plus one weight-free
//            sdpa_backward2 compiled once), which spends the engine's compile budget;
//   dynamic: one kernel of each kind serves every layer; each weight is an input of its own.
//            load_weights() converts every layer's weights to fp16 surfaces, one per weight
//            and layer, and get() binds the layer's surfaces to the kernel (no copy: the
//            forward and backward kernels read the same surface). Compiled once.
// Either way get(kind, layer) hands back a kernel whose input 0 is free for activations,
// laid out as KernelSet::layout(kind) says.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/fp16.h"
#include "core/shared_arena.h"
#include "core/status.h"
#include "formats/model_weights.h"
#include "models/kernel_program.h"
#include "runtime/engine.h"
#include "train/optimizer.h"

namespace ane::models {
class KernelGenerator;
}

namespace ane::train {

enum class Pipeline : uint8_t { kStatic, kDynamic };
std::string_view pipeline_name(Pipeline p);  // "static", "dynamic"

enum class LayerKernel : uint8_t {
  kAttentionForward,
  kFfnForward,
  kFfnBackward,
  kSdpaBackward1,
  kSdpaBackward2,
  kQkvBackward,
};
inline constexpr size_t kLayerKernelCount = 6;
inline constexpr std::array<LayerKernel, kLayerKernelCount> kLayerKernels = {
    LayerKernel::kAttentionForward, LayerKernel::kFfnForward,    LayerKernel::kFfnBackward,
    LayerKernel::kSdpaBackward1,    LayerKernel::kSdpaBackward2, LayerKernel::kQkvBackward,
};

// The program of one layer kernel (`baked` only for WeightSource::kBaked; sdpa_backward2 has
// no weights and ignores both).
Expected<models::KernelProgram> generate_layer_kernel(models::KernelGenerator& gen, LayerKernel kind,
                                                      models::WeightSource source,
                                                      const models::WeightViews* baked = nullptr);

using models::KernelLayout;

// The views of layer `layer` of `w` the kernels read.
models::WeightViews layer_views(const ModelWeights& w, int layer);

class KernelSet {
 public:
  // `pool` (optional, outliving the set) converts streamed weights in parallel.
  static Expected<std::unique_ptr<KernelSet>> create(Engine& engine, const ModelConfig& config, Pipeline pipeline,
                                                     ThreadPool* pool = nullptr);

  // Static: compiles every layer's kernels from `weights` (an ErrorCode::kBudgetExceeded
  // error when the engine's budget runs out; the set is then unusable until a later call
  // succeeds). Dynamic: converts `weights` into the per-layer fp16 weight surfaces, unless
  // `halves_current` says they already hold them (AdamW wrote them through half_copies()).
  Status load_weights(const ModelWeights& weights, bool halves_current = false);
  // Dynamic, after a load_weights(): the fp16 weight surfaces as copies of `weights`' tensors,
  // for AdamW::step to write as it updates them. Empty for static.
  std::vector<HalfCopy> half_copies(const ModelWeights& weights) const;
  // Kernel `kind` ready for layer `layer`.
  Expected<Kernel*> get(LayerKernel kind, int layer);
  const KernelLayout& layout(LayerKernel kind) const { return layouts_[static_cast<size_t>(kind)]; }

  // Compiles one load_weights() costs (0 for dynamic).
  int compiles_per_load() const;
  double compile_ms() const { return compile_ms_; }  // total spent compiling so far
  double streaming_ms() const { return streaming_ms_; }  // total spent converting streamed weights

 private:
  KernelSet(Engine& engine, ModelConfig config, Pipeline pipeline, ThreadPool* pool)
      : engine_(engine), config_(std::move(config)), pipeline_(pipeline), pool_(pool) {}
  Status compile_all(const ModelWeights* baked);
  // Dynamic: one fp16 surface per layer and weight some kernel streams.
  void create_weight_surfaces();

  Engine& engine_;
  ModelConfig config_;
  Pipeline pipeline_;
  ThreadPool* pool_;
  // The kernels run one after another, so they keep their intermediates in one arena instead
  // of one each (the static pipeline's 60 baked Stories110M kernels held 727 MB of arenas).
  // Null where the system refused the reservation: then each kernel has its own.
  std::shared_ptr<SharedArena> arena_;
  std::array<KernelLayout, kLayerKernelCount> layouts_;
  // [kind][layer] for static (sdpa_backward2 only at [kind][0]); [kind][0] for dynamic.
  std::array<std::vector<std::unique_ptr<Kernel>>, kLayerKernelCount> kernels_;
  std::array<int, kLayerKernelCount> bound_layer_{};  // dynamic: the layer each kernel is bound to, -1 none
  // Dynamic: [layer][WeightId] the fp16 weight surfaces (only the weights the kernels read).
  std::vector<std::vector<std::shared_ptr<Surface>>> weight_surfaces_;
  double compile_ms_ = 0;
  double streaming_ms_ = 0;
};

// Typed access to a kernel's input 0 and output 0 (models::halves_of for any surface).
using models::halves_of;
std::span<half_bits> input_halves(Kernel& k);
std::span<const half_bits> output_halves(const Kernel& k);

}  // namespace ane::train
