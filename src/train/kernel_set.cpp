#include "train/kernel_set.h"

#include <utility>

#include "core/timer.h"
#include "models/layer_kernels.h"

namespace ane::train {
namespace {

bool has_weights(LayerKernel k) { return k != LayerKernel::kSdpaBackward2; }

// The layers' kernels of one kind run one after another and the trainer reads what each
// writes before the next runs, so they can share input and output surfaces, as the dynamic
// pipeline's single kernel of each kind does (the static pipeline's peak memory bar).
Expected<std::unique_ptr<Kernel>> share_surfaces(std::unique_ptr<Kernel> k, const Kernel& first) {
  for (size_t i = 0; i < k->num_inputs(); ++i) ANE_RETURN_IF_ERROR(k->bind_input(i, first.input(i)));
  for (size_t i = 0; i < k->num_outputs(); ++i) ANE_RETURN_IF_ERROR(k->bind_output(i, first.output(i)));
  return k;
}

}  // namespace

Expected<models::KernelProgram> generate_layer_kernel(models::KernelGenerator& gen, LayerKernel kind,
                                                      models::WeightSource source, const models::WeightViews* baked) {
  switch (kind) {
    case LayerKernel::kAttentionForward: return gen.attention_forward(source, baked);
    case LayerKernel::kFfnForward: return gen.ffn_forward(source, baked);
    case LayerKernel::kFfnBackward: return gen.ffn_backward(source, baked);
    case LayerKernel::kSdpaBackward1: return gen.sdpa_backward1(source, baked);
    case LayerKernel::kSdpaBackward2: return gen.sdpa_backward2();
    case LayerKernel::kQkvBackward: return gen.qkv_backward(source, baked);
  }
  return Error(ErrorCode::kInternal, "unknown layer kernel");
}

std::string_view pipeline_name(Pipeline p) { return p == Pipeline::kStatic ? "static" : "dynamic"; }

models::WeightViews layer_views(const ModelWeights& w, int layer) {
  const LayerWeights& l = w.layers[static_cast<size_t>(layer)];
  return {l.rms_att, l.wq, l.wk, l.wv, l.wo, l.rms_ffn, l.w1, l.w2, l.w3, l.q_norm, l.k_norm,
          w.rms_final, w.embedding};
}

std::span<half_bits> input_halves(Kernel& k) { return halves_of(*k.input(0)); }

std::span<const half_bits> output_halves(const Kernel& k) { return halves_of(std::as_const(*k.output(0))); }

Expected<std::unique_ptr<KernelSet>> KernelSet::create(Engine& engine, const ModelConfig& config, Pipeline pipeline,
                                                       ThreadPool* pool) {
  ANE_RETURN_IF_ERROR(config.validate());
  std::unique_ptr<KernelSet> set(new KernelSet(engine, config, pipeline, pool));
  set->bound_layer_.fill(-1);
  // Address space only: pages are backed as runs touch them, at most the largest kernel's
  // arena (a kernel whose intermediates need more keeps its own). Sharing saves memory;
  // nothing depends on it, so a refused reservation (strict overcommit) is not an error.
  constexpr size_t kArenaBytes = size_t{16} << 30;
  if (auto reserved = SharedArena::reserve(kArenaBytes); reserved.ok()) set->arena_ = std::move(*reserved);
  if (pipeline == Pipeline::kDynamic) {
    ANE_RETURN_IF_ERROR(set->compile_all(nullptr));
  } else {
    // Only the weight-free kernel now; the others come with the first load_weights().
    models::KernelGenerator gen(config);
    ANE_ASSIGN_OR_RETURN(models::KernelProgram p, gen.sdpa_backward2());
    set->layouts_[static_cast<size_t>(LayerKernel::kSdpaBackward2)] = p.layout();
    const Timer timer;
    ANE_ASSIGN_OR_RETURN(auto k, models::compile_kernel(engine, std::move(p), set->arena_));
    set->compile_ms_ += timer.ms();
    set->kernels_[static_cast<size_t>(LayerKernel::kSdpaBackward2)].push_back(std::move(k));
  }
  return set;
}

Status KernelSet::compile_all(const ModelWeights* baked) {
  const int layers = baked ? config_.n_layers : 1;
  const models::WeightSource source = baked ? models::WeightSource::kBaked : models::WeightSource::kStreamed;
  const Timer timer;
  auto failed = [&](const Status& s) {
    compile_ms_ += timer.ms();
    return s;
  };
  for (LayerKernel kind : kLayerKernels) {
    const size_t ki = static_cast<size_t>(kind);
    if (baked && !has_weights(kind)) continue;
    kernels_[ki].clear();  // free the old kernels before compiling their replacements
    // The layers compile on the pool's threads at once: a compile runs on one thread (mostly
    // converting the layer's weights to fp16 constants), and the engine compiles from
    // several threads at once.
    std::vector<std::unique_ptr<Kernel>> compiled(static_cast<size_t>(layers));
    std::vector<Status> status(static_cast<size_t>(layers));
    parallel_claim(pool_, static_cast<size_t>(layers), [&](size_t l) {
      models::KernelGenerator gen(config_);
      const models::WeightViews views = baked ? layer_views(*baked, static_cast<int>(l)) : models::WeightViews{};
      auto p = generate_layer_kernel(gen, kind, source, baked ? &views : nullptr);
      if (!p.ok()) {
        status[l] = p.error();
        return;
      }
      if (l == 0) layouts_[ki] = p->layout();  // the same for every layer
      auto k = models::compile_kernel(engine_, std::move(p).value(), arena_);
      if (k.ok()) compiled[l] = std::move(k).value(); else status[l] = k.error();
    });
    for (const Status& s : status) {
      if (!s.ok()) return failed(s);
    }
    for (size_t l = 0; l < compiled.size(); ++l) {
      auto k = l == 0 ? std::move(compiled[l]) : share_surfaces(std::move(compiled[l]), *kernels_[ki].front());
      if (!k.ok()) return failed(k.status());
      kernels_[ki].push_back(std::move(k).value());
    }
  }
  compile_ms_ += timer.ms();
  return {};
}

Status KernelSet::load_weights(const ModelWeights& weights, bool halves_current) {
  ANE_RETURN_IF_ERROR(weights.validate());
  if (!(weights.config == config_)) return invalid_argument("kernel set: weights of another model shape");
  if (pipeline_ == Pipeline::kStatic) return compile_all(&weights);
  if (halves_current && !weight_surfaces_.empty()) return {};
  const Timer timer;
  if (weight_surfaces_.empty()) create_weight_surfaces();
  for (const HalfCopy& c : half_copies(weights)) {
    ANE_RETURN_IF_ERROR(models::write_weight(c.halves, {c.source, c.halves.size()}, pool_));
  }
  streaming_ms_ += timer.ms();
  return {};
}

void KernelSet::create_weight_surfaces() {
  weight_surfaces_.resize(static_cast<size_t>(config_.n_layers));
  for (std::vector<std::shared_ptr<Surface>>& surfaces : weight_surfaces_) {
    for (const KernelLayout& layout : layouts_) {
      for (const models::StreamedWeight& s : layout.streamed) {  // a weight several kernels read: one surface
        const auto id = static_cast<size_t>(s.id);
        if (surfaces.size() <= id) surfaces.resize(id + 1);
        if (surfaces[id] == nullptr) surfaces[id] = Surface::create(s.type);
      }
    }
  }
}

std::vector<HalfCopy> KernelSet::half_copies(const ModelWeights& weights) const {
  std::vector<HalfCopy> copies;
  for (size_t l = 0; l < weight_surfaces_.size(); ++l) {
    const models::WeightViews views = layer_views(weights, static_cast<int>(l));
    for (size_t id = 0; id < weight_surfaces_[l].size(); ++id) {
      if (weight_surfaces_[l][id] == nullptr) continue;
      copies.push_back({views.get(static_cast<models::WeightId>(id)).data(), halves_of(*weight_surfaces_[l][id])});
    }
  }
  return copies;
}

Expected<Kernel*> KernelSet::get(LayerKernel kind, int layer) {
  const size_t ki = static_cast<size_t>(kind);
  if (layer < 0 || layer >= config_.n_layers) return invalid_argument("kernel set: no layer " + std::to_string(layer));
  const bool per_layer = pipeline_ == Pipeline::kStatic && has_weights(kind);
  const size_t slot = per_layer ? static_cast<size_t>(layer) : 0;
  if (slot >= kernels_[ki].size()) return invalid_argument("kernel set: weights not loaded");
  Kernel* k = kernels_[ki][slot].get();
  if (pipeline_ == Pipeline::kDynamic && has_weights(kind) && bound_layer_[ki] != layer) {
    if (weight_surfaces_.empty()) return invalid_argument("kernel set: weights not loaded");
    const std::vector<std::shared_ptr<Surface>>& surfaces = weight_surfaces_[static_cast<size_t>(layer)];
    for (const models::StreamedWeight& s : layouts_[ki].streamed) {
      ANE_RETURN_IF_ERROR(k->bind_input(s.input, surfaces[static_cast<size_t>(s.id)]));
    }
    bound_layer_[ki] = layer;
  }
  return k;
}

int KernelSet::compiles_per_load() const {
  return pipeline_ == Pipeline::kStatic ? static_cast<int>(kLayerKernelCount - 1) * config_.n_layers : 0;
}

}  // namespace ane::train
