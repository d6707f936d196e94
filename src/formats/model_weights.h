// A whole transformer's parameters in fp32, shaped by a ModelConfig: the one weight store the
// trainer, generation and export share. Conversions to and from llama2.c models and named
// checkpoint tensors live here so every tool agrees on names and layouts.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "formats/blzt_checkpoint.h"
#include "formats/checkpoint.h"
#include "formats/llama2_model.h"
#include "formats/model_config.h"

namespace ane {

// One block. Matrices are [out, in] row-major: wq [q_dim, D], wk wv [kv_dim, D],
// wo [D, q_dim], w1 w3 [H, D], w2 [D, H]; norms [D]; q_norm k_norm [head_dim] or empty.
struct LayerWeights {
  std::vector<float> rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, q_norm, k_norm;
  bool operator==(const LayerWeights&) const = default;
};

struct ModelWeights {
  ModelConfig config;
  std::vector<float> embedding;   // [V, D]
  std::vector<LayerWeights> layers;
  std::vector<float> rms_final;   // [D]
  std::vector<float> classifier;  // [V, D]; empty when config.shared_classifier

  // Zero-filled tensors of the sizes `config` implies (validated first). With a pool its
  // threads allocate and first touch them at once: a model's gigabyte takes the kernel
  // seconds to fault in on one thread.
  static Expected<ModelWeights> zeros(const ModelConfig& config, ThreadPool* pool = nullptr);

  // Every tensor with its name and shape, in a fixed order: "embedding", then per layer
  // "layers.<i>.<rms_att|wq|wk|wv|wo|rms_ffn|w1|w2|w3|q_norm|k_norm>" (q/k norms only when
  // config.qk_norm), "rms_final", and "classifier" when unshared.
  struct Tensor {
    std::string name;
    std::vector<uint64_t> shape;
    std::span<float> data;
  };
  std::vector<Tensor> tensors();
  struct ConstTensor {
    std::string name;
    std::vector<uint64_t> shape;
    std::span<const float> data;
  };
  std::vector<ConstTensor> tensors() const;

  // The classifier the model applies: `classifier`, or the embedding when shared.
  std::span<const float> output_weights() const { return config.shared_classifier ? embedding : classifier; }
  // Checks that every tensor has the size config implies.
  Status validate() const;

  bool operator==(const ModelWeights&) const = default;
};

// A llama2.c model as ModelWeights (config from its header, named `name`).
Expected<ModelWeights> weights_from_llama2(const Llama2Model& model, const std::string& name = "");
// ModelWeights as a llama2.c model. llama2.c cannot express qk_norm, head_dim != dim / n_heads
// or a RoPE base other than 10000; those are errors naming the field.
Expected<Llama2Model> weights_to_llama2(const ModelWeights& weights);

// Appends every tensor as f32 "<prefix><name>" to `ckpt` and sets its model config.
Status add_weights_to_checkpoint(Checkpoint& ckpt, const ModelWeights& weights, const std::string& prefix = "model.");
// Reads the weights saved by add_weights_to_checkpoint (config from meta["model"]); a missing
// or mis-shaped tensor is an error naming it.
Expected<ModelWeights> weights_from_checkpoint(const Checkpoint& ckpt, const std::string& prefix = "model.");
// Fills tensors named "<prefix><name>" of ckpt into `into` (shapes must match): for optimizer
// state saved with the same names.
Status read_tensors_from_checkpoint(const Checkpoint& ckpt, ModelWeights& into, const std::string& prefix);

// The weights of a BLZT file's bytes (config from its header; the Adam moments are not read).
Expected<ModelWeights> weights_from_blzt(std::span<const uint8_t> bytes, const std::string& source);

// What a file holding a whole model is, by its magic: an OpenANE checkpoint, a BLZT
// checkpoint, else (no magic to check for v0) a llama2.c model.
enum class ModelFileKind { kCheckpoint, kBlzt, kLlama2 };
ModelFileKind model_file_kind(std::span<const uint8_t> bytes);

// Loads weights from any file that holds a whole model (see ModelFileKind): an OpenANE
// checkpoint (tensors under "model."), a BLZT checkpoint or a llama2.c model (v0/v1/v2).
Expected<ModelWeights> load_model_weights(const std::string& path);

}  // namespace ane
