#include "train/blzt_state.h"

#include <algorithm>
#include <map>

namespace ane::train {
namespace {

// Where the checkpoint state keeps an array of BLZT's ("model.", "adam.m.", "adam.v.").
const char* state_prefix(BlztPart part) {
  return part == BlztPart::kWeights ? "model." : part == BlztPart::kM ? "adam.m." : "adam.v.";
}

}  // namespace

Status save_blzt_state(const std::string& path, const nlohmann::json& meta, std::span<const TensorView> tensors,
                       const VocabMap& moments_map, const BlztRunInfo& run) {
  ANE_ASSIGN_OR_RETURN(ModelConfig c, ModelConfig::from_json(meta.value("model", nlohmann::json()), "checkpoint meta"));
  if (c.vocab_size != moments_map.vocab_size()) return invalid_argument("the vocabulary map is not the model's");
  const bool mha = c.n_kv_heads == c.n_heads && c.q_dim() == static_cast<size_t>(c.dim);
  ANE_ASSIGN_OR_RETURN(BlztHeader h, make_blzt_header(c, mha ? kBlztVersionMha : kBlztVersionGqa));
  const auto step = meta.value("step", int64_t{0});
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

  std::map<std::string, std::span<const float>> f32;
  for (const TensorView& t : tensors) {
    if (t.dtype != CkptDType::kF32) continue;
    f32[t.name] = {reinterpret_cast<const float*>(t.data.data()), t.data.size() / sizeof(float)};
  }
  const VocabMap every_id = VocabMap::all(c.vocab_size);
  const std::vector<std::string> vocab_tensors = vocab_tensor_names(c);
  const size_t D = static_cast<size_t>(c.dim);
  std::vector<float> realigned;  // a compacted tensor's moments over every id
  return save_blzt(path, h, [&](const BlztArray& a) -> Expected<std::span<const float>> {
    const std::string name = state_prefix(a.part) + a.tensor;
    const auto found = f32.find(name);
    if (found == f32.end()) return invalid_argument("the state lacks tensor '" + name + "'");
    const bool compact = a.part != BlztPart::kWeights &&
                         std::find(vocab_tensors.begin(), vocab_tensors.end(), a.tensor) != vocab_tensors.end();
    if (!compact) return found->second;  // save_blzt checks the size
    if (found->second.size() != static_cast<size_t>(moments_map.rows()) * D) {
      return invalid_argument("the moments '" + found->first + "' do not cover the vocabulary map's rows");
    }
    realigned.assign(a.count(), 0.0f);
    realign_rows(found->second, moments_map, realigned, every_id, D);
    return std::span<const float>(realigned);
  });
}

Expected<Checkpoint> checkpoint_from_blzt(std::shared_ptr<const MappedFile> file, const std::string& source) {
  ANE_ASSIGN_OR_RETURN(BlztHeader header, read_blzt_header(file->bytes(), source));
  ANE_ASSIGN_OR_RETURN(ModelConfig config, blzt_model_config(header));
  Checkpoint ck;
  ANE_RETURN_IF_ERROR(ck.set_model_config(config));
  ANE_RETURN_IF_ERROR(ck.set_step(header.step));
  ANE_RETURN_IF_ERROR(ck.set_meta("adam_t", header.adam_t));
  // The run's counters and last loss go on from the header's, as they do from our own format.
  ANE_RETURN_IF_ERROR(ck.set_meta("run", {{"compile_ms", header.cum_compile}, {"train_ms", header.cum_train},
                                         {"wall_ms", header.cum_wall}, {"steps_timed", header.cum_steps},
                                         {"last_loss", header.loss}}));
  auto map_tensor = [&](const BlztArray& a, std::span<const uint8_t> bytes) {
    ck.tensors.push_back(NamedTensor{state_prefix(a.part) + a.tensor, CkptDType::kF32, a.shape, {}, file, bytes});
    return Status();
  };
  ANE_RETURN_IF_ERROR(for_each_blzt_array(file->bytes(), source, map_tensor));
  return ck;
}

}  // namespace ane::train
