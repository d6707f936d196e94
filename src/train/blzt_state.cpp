#include "train/blzt_state.h"

#include <algorithm>
#include <map>

namespace ane::train {
namespace {

// Calls fn(name, blzt tensor) for every tensor, with the names ModelWeights uses.
template <typename B, typename Fn>
void for_each_blzt_tensor(B& b, Fn&& fn) {
  fn(std::string("embedding"), b.embedding);
  for (size_t i = 0; i < b.layers.size(); ++i) {
    auto& l = b.layers[i];
    const std::string p = "layers." + std::to_string(i) + ".";
    fn(p + "rms_att", l.rms_att);
    fn(p + "wq", l.wq);
    fn(p + "wk", l.wk);
    fn(p + "wv", l.wv);
    fn(p + "wo", l.wo);
    fn(p + "rms_ffn", l.rms_ffn);
    fn(p + "w1", l.w1);
    fn(p + "w2", l.w2);
    fn(p + "w3", l.w3);
  }
  fn(std::string("rms_final"), b.rms_final);
}

}  // namespace

Expected<BlztCheckpoint> blzt_from_state(const nlohmann::json& meta, std::span<const TensorView> tensors,
                                         const VocabMap& moments_map, const BlztRunInfo& run) {
  ANE_ASSIGN_OR_RETURN(ModelConfig c, ModelConfig::from_json(meta.value("model", nlohmann::json()), "checkpoint meta"));
  if (c.vocab_size != moments_map.vocab_size()) return invalid_argument("the vocabulary map is not the model's");
  const bool mha = c.n_kv_heads == c.n_heads && c.q_dim() == static_cast<size_t>(c.dim);
  ANE_ASSIGN_OR_RETURN(BlztCheckpoint b, make_blzt_checkpoint(c, mha ? kBlztVersionMha : kBlztVersionGqa));
  std::map<std::string, std::span<const float>> f32;
  for (const TensorView& t : tensors) {
    if (t.dtype != CkptDType::kF32) continue;
    f32[t.name] = {reinterpret_cast<const float*>(t.data.data()), t.data.size() / sizeof(float)};
  }
  const VocabMap every_id = VocabMap::all(c.vocab_size);
  const std::vector<std::string> vocab_tensors = vocab_tensor_names(c);
  const size_t D = static_cast<size_t>(c.dim);
  Status bad;
  for_each_blzt_tensor(b, [&](const std::string& name, BlztTensor& bt) {
    const auto w = f32.find("model." + name), m = f32.find("adam.m." + name), v = f32.find("adam.v." + name);
    const bool compact = std::find(vocab_tensors.begin(), vocab_tensors.end(), name) != vocab_tensors.end();
    const size_t moments = compact ? static_cast<size_t>(moments_map.rows()) * D : bt.w.size();
    if (w == f32.end() || m == f32.end() || v == f32.end() || w->second.size() != bt.w.size() ||
        m->second.size() != moments || v->second.size() != moments) {
      if (bad.ok()) bad = invalid_argument("the state lacks tensor '" + name + "' or its moments, or they are mis-sized");
      return;
    }
    std::copy(w->second.begin(), w->second.end(), bt.w.begin());
    if (compact) {
      realign_rows(m->second, moments_map, bt.m, every_id, D);
      realign_rows(v->second, moments_map, bt.v, every_id, D);
    } else {
      std::copy(m->second.begin(), m->second.end(), bt.m.begin());
      std::copy(v->second.begin(), v->second.end(), bt.v.begin());
    }
  });
  ANE_RETURN_IF_ERROR(bad);
  const auto step = meta.value("step", int64_t{0});
  BlztHeader& h = b.header;
  h.step = static_cast<int32_t>(step);
  h.total_steps = static_cast<int32_t>(run.total_steps);
  h.adam_t = static_cast<int32_t>(meta.value("adam_t", int64_t{0}));
  h.lr = static_cast<float>(run.lr);
  h.loss = static_cast<float>(run.loss);
  h.cum_compile = run.compile_ms;
  h.cum_train = run.train_ms;
  h.cum_wall = run.wall_ms;
  h.cum_steps = static_cast<int32_t>(step);
  h.cum_batches = static_cast<int32_t>(step);
  return b;
}

Expected<Checkpoint> checkpoint_from_blzt(const BlztCheckpoint& b) {
  ANE_ASSIGN_OR_RETURN(ModelConfig config, blzt_model_config(b.header));
  Checkpoint ck;
  ANE_RETURN_IF_ERROR(ck.set_model_config(config));
  ANE_RETURN_IF_ERROR(ck.set_step(b.header.step));
  ANE_RETURN_IF_ERROR(ck.set_meta("adam_t", b.header.adam_t));
  ANE_ASSIGN_OR_RETURN(ModelWeights shapes, ModelWeights::zeros(config));
  std::map<std::string, std::vector<uint64_t>> shape;
  for (const auto& x : shapes.tensors()) shape[x.name] = x.shape;
  for (const char* prefix : {"model.", "adam.m.", "adam.v."}) {
    for_each_blzt_tensor(b, [&](const std::string& name, const BlztTensor& bt) {
      const std::vector<float>& data = prefix[0] == 'm' ? bt.w : (prefix[5] == 'm' ? bt.m : bt.v);
      ck.tensors.push_back(NamedTensor::of<float>(prefix + name, shape.at(name), data));
    });
  }
  return ck;
}

}  // namespace ane::train
