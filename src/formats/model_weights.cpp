#include "formats/model_weights.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <memory>

#include "core/file.h"
#include "core/huge_pages.h"

namespace ane {
namespace {

// Calls fn(name, shape, tensor) for every tensor of `w` in the documented order; W is
// ModelWeights or const ModelWeights.
template <typename W, typename Fn>
void for_each_tensor(W& w, Fn&& fn) {
  const ModelConfig& c = w.config;
  const auto D = static_cast<uint64_t>(c.dim), H = static_cast<uint64_t>(c.hidden_dim),
             V = static_cast<uint64_t>(c.vocab_size), Q = c.q_dim(), KV = c.kv_dim(),
             hd = static_cast<uint64_t>(c.head_dim);
  fn(std::string("embedding"), std::vector<uint64_t>{V, D}, w.embedding);
  for (size_t i = 0; i < w.layers.size(); ++i) {
    auto& l = w.layers[i];
    const std::string p = "layers." + std::to_string(i) + ".";
    fn(p + "rms_att", std::vector<uint64_t>{D}, l.rms_att);
    fn(p + "wq", std::vector<uint64_t>{Q, D}, l.wq);
    fn(p + "wk", std::vector<uint64_t>{KV, D}, l.wk);
    fn(p + "wv", std::vector<uint64_t>{KV, D}, l.wv);
    fn(p + "wo", std::vector<uint64_t>{D, Q}, l.wo);
    fn(p + "rms_ffn", std::vector<uint64_t>{D}, l.rms_ffn);
    fn(p + "w1", std::vector<uint64_t>{H, D}, l.w1);
    fn(p + "w2", std::vector<uint64_t>{D, H}, l.w2);
    fn(p + "w3", std::vector<uint64_t>{H, D}, l.w3);
    if (c.qk_norm) {
      fn(p + "q_norm", std::vector<uint64_t>{hd}, l.q_norm);
      fn(p + "k_norm", std::vector<uint64_t>{hd}, l.k_norm);
    }
  }
  fn(std::string("rms_final"), std::vector<uint64_t>{D}, w.rms_final);
  if (!c.shared_classifier) fn(std::string("classifier"), std::vector<uint64_t>{V, D}, w.classifier);
}

uint64_t elements(const std::vector<uint64_t>& shape) {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// Copies layer `l` of a stacked [L, n] array.
std::vector<float> layer_slice(const std::vector<float>& stacked, size_t l, size_t n) {
  return {stacked.begin() + static_cast<ptrdiff_t>(l * n), stacked.begin() + static_cast<ptrdiff_t>((l + 1) * n)};
}

}  // namespace

Expected<ModelWeights> ModelWeights::zeros(const ModelConfig& config, ThreadPool* pool) {
  ANE_RETURN_IF_ERROR(config.validate());
  ModelWeights w;
  w.config = config;
  w.layers.resize(static_cast<size_t>(config.n_layers));
  std::vector<std::pair<size_t, std::vector<float>*>> tensors;  // elements, tensor
  for_each_tensor(w, [&](const std::string&, const std::vector<uint64_t>& shape, std::vector<float>& t) {
    tensors.emplace_back(elements(shape), &t);
  });
  // Largest first, so that the threads finish together.
  std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  parallel_claim(pool, tensors.size(),
                 [&](size_t i) { *tensors[i].second = vector_on_huge_pages<float>(tensors[i].first); });
  return w;
}

std::vector<ModelWeights::Tensor> ModelWeights::tensors() {
  std::vector<Tensor> out;
  for_each_tensor(*this, [&](std::string name, std::vector<uint64_t> shape, std::vector<float>& t) {
    out.push_back({std::move(name), std::move(shape), std::span<float>(t)});
  });
  return out;
}

std::vector<ModelWeights::ConstTensor> ModelWeights::tensors() const {
  std::vector<ConstTensor> out;
  for_each_tensor(*this, [&](std::string name, std::vector<uint64_t> shape, const std::vector<float>& t) {
    out.push_back({std::move(name), std::move(shape), std::span<const float>(t)});
  });
  return out;
}

Status ModelWeights::validate() const {
  ANE_RETURN_IF_ERROR(config.validate());
  if (layers.size() != static_cast<size_t>(config.n_layers)) {
    return invalid_argument("model weights: " + std::to_string(layers.size()) + " layers, config says " +
                            std::to_string(config.n_layers));
  }
  Status status;
  for_each_tensor(*this, [&](const std::string& name, const std::vector<uint64_t>& shape, const std::vector<float>& t) {
    if (status.ok() && t.size() != elements(shape)) {
      status = invalid_argument("model weights: tensor '" + name + "' has " + std::to_string(t.size()) +
                                " values, its shape needs " + std::to_string(elements(shape)));
    }
  });
  return status;
}

Expected<ModelWeights> weights_from_llama2(const Llama2Model& m, const std::string& name) {
  ANE_RETURN_IF_ERROR(validate_llama2_model(m));
  const Llama2Header& h = m.header;
  const std::array<int32_t, 7> header{h.dim, h.hidden_dim, h.n_layers, h.n_heads, h.n_kv_heads,
                                      h.shared_classifier ? h.vocab_size : -h.vocab_size, h.seq_len};
  ANE_ASSIGN_OR_RETURN(ModelConfig config, model_config_from_llama2(header, name));
  ANE_ASSIGN_OR_RETURN(ModelWeights w, ModelWeights::zeros(config));
  w.embedding = m.token_embedding;
  w.rms_final = m.rms_final;
  w.classifier = m.wcls;
  for (size_t l = 0; l < w.layers.size(); ++l) {
    LayerWeights& lw = w.layers[l];
    lw.rms_att = layer_slice(m.rms_att, l, lw.rms_att.size());
    lw.wq = layer_slice(m.wq, l, lw.wq.size());
    lw.wk = layer_slice(m.wk, l, lw.wk.size());
    lw.wv = layer_slice(m.wv, l, lw.wv.size());
    lw.wo = layer_slice(m.wo, l, lw.wo.size());
    lw.rms_ffn = layer_slice(m.rms_ffn, l, lw.rms_ffn.size());
    lw.w1 = layer_slice(m.w1, l, lw.w1.size());
    lw.w2 = layer_slice(m.w2, l, lw.w2.size());
    lw.w3 = layer_slice(m.w3, l, lw.w3.size());
  }
  ANE_RETURN_IF_ERROR(w.validate());
  return w;
}

Expected<Llama2Model> weights_to_llama2(const ModelWeights& w) {
  ANE_RETURN_IF_ERROR(w.validate());
  const ModelConfig& c = w.config;
  if (c.qk_norm) return invalid_argument("llama2.c models have no q/k norm (config '" + c.name + "' uses qk_norm)");
  if (c.head_dim * c.n_heads != c.dim) {
    return invalid_argument("llama2.c models need head_dim * n_heads == dim; config '" + c.name + "' has head_dim " +
                            std::to_string(c.head_dim) + ", n_heads " + std::to_string(c.n_heads) + ", dim " +
                            std::to_string(c.dim));
  }
  if (c.rope_theta != 10000.0) {
    return invalid_argument("llama2.c models use rope_theta 10000; config '" + c.name + "' has " +
                            std::to_string(c.rope_theta));
  }
  Llama2Model m;
  m.header = {c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.seq_len,
              c.shared_classifier};
  m.token_embedding = w.embedding;
  m.rms_final = w.rms_final;
  m.wcls = w.classifier;
  for (const LayerWeights& l : w.layers) {
    auto append = [](std::vector<float>& to, const std::vector<float>& from) { to.insert(to.end(), from.begin(), from.end()); };
    append(m.rms_att, l.rms_att);
    append(m.wq, l.wq);
    append(m.wk, l.wk);
    append(m.wv, l.wv);
    append(m.wo, l.wo);
    append(m.rms_ffn, l.rms_ffn);
    append(m.w1, l.w1);
    append(m.w2, l.w2);
    append(m.w3, l.w3);
  }
  ANE_RETURN_IF_ERROR(validate_llama2_model(m));
  return m;
}

Status add_weights_to_checkpoint(Checkpoint& ckpt, const ModelWeights& w, const std::string& prefix) {
  ANE_RETURN_IF_ERROR(w.validate());
  ANE_RETURN_IF_ERROR(ckpt.set_model_config(w.config));
  for (const ModelWeights::ConstTensor& t : w.tensors()) {
    ckpt.tensors.push_back(NamedTensor::of<float>(prefix + t.name, t.shape, t.data));
  }
  return {};
}

Status read_tensors_from_checkpoint(const Checkpoint& ckpt, ModelWeights& into, const std::string& prefix) {
  for (ModelWeights::Tensor& t : into.tensors()) {
    const std::string name = prefix + t.name;
    const NamedTensor* saved = ckpt.find(name);
    if (saved == nullptr) return invalid_argument("checkpoint has no tensor '" + name + "'");
    if (saved->shape != t.shape) {
      return invalid_argument("checkpoint tensor '" + name + "' has shape " + shape_text(saved->shape) +
                              ", the model needs " + shape_text(t.shape));
    }
    ANE_RETURN_IF_ERROR(saved->copy_to(t.data));
  }
  return {};
}

Expected<ModelWeights> weights_from_checkpoint(const Checkpoint& ckpt, const std::string& prefix) {
  ANE_ASSIGN_OR_RETURN(ModelConfig config, ckpt.model_config());
  ANE_ASSIGN_OR_RETURN(ModelWeights w, ModelWeights::zeros(config));
  ANE_RETURN_IF_ERROR(read_tensors_from_checkpoint(ckpt, w, prefix));
  return w;
}

Expected<ModelWeights> weights_from_blzt(std::span<const uint8_t> bytes, const std::string& source) {
  ANE_ASSIGN_OR_RETURN(BlztHeader header, read_blzt_header(bytes, source));
  auto config = blzt_model_config(header);
  if (!config) return config.error().with_context(source);
  ANE_ASSIGN_OR_RETURN(ModelWeights w, ModelWeights::zeros(*config));
  std::map<std::string, std::span<float>> by_name;
  for (const auto& t : w.tensors()) by_name[t.name] = t.data;
  auto copy_weights = [&](const BlztArray& a, std::span<const uint8_t> data) -> Status {
    if (a.part != BlztPart::kWeights) return {};  // the moments stay in the file
    const auto t = by_name.find(a.tensor);
    if (t == by_name.end() || t->second.size_bytes() != data.size()) {
      return invalid_argument(source + ": BLZT tensor '" + a.tensor + "' is not one of the model's");
    }
    std::memcpy(t->second.data(), data.data(), data.size());
    return {};
  };
  ANE_RETURN_IF_ERROR(for_each_blzt_array(bytes, source, copy_weights));
  ANE_RETURN_IF_ERROR(w.validate());
  return w;
}

ModelFileKind model_file_kind(std::span<const uint8_t> bytes) {
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), "OANECKPT", 8) == 0) return ModelFileKind::kCheckpoint;
  int32_t magic = 0;
  if (bytes.size() >= sizeof magic) std::memcpy(&magic, bytes.data(), sizeof magic);
  return magic == kBlztMagic ? ModelFileKind::kBlzt : ModelFileKind::kLlama2;
}

Expected<ModelWeights> load_model_weights(const std::string& path) {
  ANE_ASSIGN_OR_RETURN(MappedFile opened, MappedFile::open(path));
  const auto file = std::make_shared<const MappedFile>(std::move(opened));
  const std::span<const uint8_t> bytes = file->bytes();
  // Each kind is read in place: no copy of the file beside the weights.
  switch (model_file_kind(bytes)) {
    case ModelFileKind::kCheckpoint: {
      ANE_ASSIGN_OR_RETURN(Checkpoint ckpt, Checkpoint::map(file));
      auto w = weights_from_checkpoint(ckpt);
      if (!w) return w.error().with_context(path);
      return w;
    }
    case ModelFileKind::kBlzt: {
      return weights_from_blzt(bytes, path);
    }
    case ModelFileKind::kLlama2: break;
  }
  ANE_ASSIGN_OR_RETURN(Llama2Model model, parse_llama2_model(bytes, path));
  return weights_from_llama2(model, path);
}

}  // namespace ane
