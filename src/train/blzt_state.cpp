#include "train/blzt_state.h"

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

Expected<BlztCheckpoint> blzt_from_trainer(const Trainer& t, int64_t total_steps, double loss, double compile_ms,
                                           double train_ms, double wall_ms) {
  const ModelConfig& c = t.config();
  const bool mha = c.n_kv_heads == c.n_heads && c.q_dim() == static_cast<size_t>(c.dim);
  ANE_ASSIGN_OR_RETURN(BlztCheckpoint b, make_blzt_checkpoint(c, mha ? kBlztVersionMha : kBlztVersionGqa));
  std::map<std::string, std::span<const float>> w, m, v;
  for (const auto& x : t.weights().tensors()) w[x.name] = x.data;
  for (const auto& x : t.adam().m().tensors()) m[x.name] = x.data;
  for (const auto& x : t.adam().v().tensors()) v[x.name] = x.data;
  for_each_blzt_tensor(b, [&](const std::string& name, BlztTensor& bt) {
    bt.w.assign(w.at(name).begin(), w.at(name).end());
    bt.m.assign(m.at(name).begin(), m.at(name).end());
    bt.v.assign(v.at(name).begin(), v.at(name).end());
  });
  BlztHeader& h = b.header;
  h.step = static_cast<int32_t>(t.steps_done());
  h.total_steps = static_cast<int32_t>(total_steps);
  h.adam_t = static_cast<int32_t>(t.adam().t());
  h.lr = static_cast<float>(t.options().schedule.at(t.steps_done()));
  h.loss = static_cast<float>(loss);
  h.cum_compile = compile_ms;
  h.cum_train = train_ms;
  h.cum_wall = wall_ms;
  h.cum_steps = static_cast<int32_t>(t.steps_done());
  h.cum_batches = static_cast<int32_t>(t.steps_done());
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
