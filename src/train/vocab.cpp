#include "train/vocab.h"

#include <algorithm>
#include <numeric>

namespace ane::train {
namespace {

constexpr size_t kDataIds = 65536;  // every uint16 id

size_t z(int64_t v) { return static_cast<size_t>(v); }

// The rows of `map` of a tensor laid out for `from`, as a new [map.rows(), width] tensor.
std::vector<float> gather_rows(std::span<const float> in, const VocabMap& from, const VocabMap& map, size_t width) {
  std::vector<float> rows(z(map.rows()) * width);
  realign_rows(in, from, rows, map, width);
  return rows;
}

// The f32 values of checkpoint tensor `name`, which must be [rows, width].
Expected<std::vector<float>> rows_of(const Checkpoint& ckpt, const std::string& name, int64_t rows, size_t width) {
  const NamedTensor* t = ckpt.find(name);
  if (t == nullptr) return invalid_argument("checkpoint has no tensor '" + name + "'");
  if (t->shape != std::vector<uint64_t>{static_cast<uint64_t>(rows), width}) {
    return invalid_argument("checkpoint tensor '" + name + "' is not [" + std::to_string(rows) + ", " +
                            std::to_string(width) + "] as its vocabulary map implies");
  }
  return t->values<float>();
}

}  // namespace

bool compacts(CompactVocab mode, int64_t data_ids, int64_t vocab_size) {
  switch (mode) {
    case CompactVocab::kOn: return true;
    case CompactVocab::kOff: return false;
    case CompactVocab::kAuto: break;
  }
  return 2 * data_ids < vocab_size;
}

VocabMap VocabMap::all(int64_t vocab_size) {
  VocabMap m;
  m.vocab_size_ = vocab_size;
  m.ids_.resize(z(vocab_size));
  std::iota(m.ids_.begin(), m.ids_.end(), 0);
  return m;
}

Expected<VocabMap> VocabMap::of(std::vector<int32_t> ids, int64_t vocab_size) {
  const int64_t limit = std::min<int64_t>(vocab_size, static_cast<int64_t>(kDataIds));
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= limit || (i > 0 && ids[i] <= ids[i - 1])) {
      return invalid_argument("vocabulary ids must ascend below " + std::to_string(limit) + ": id " +
                              std::to_string(ids[i]) + " at position " + std::to_string(i));
    }
  }
  if (ids.empty()) return invalid_argument("a vocabulary map needs at least one id");
  VocabMap m;
  m.vocab_size_ = vocab_size;
  m.ids_ = std::move(ids);
  if (!m.is_all()) {
    m.row_of_id_.assign(kDataIds, 0);
    for (size_t r = 0; r < m.ids_.size(); ++r) m.row_of_id_[z(m.ids_[r])] = static_cast<uint16_t>(r);
  }
  return m;
}

std::span<const uint16_t> VocabMap::remap(std::span<const uint16_t> window, std::vector<uint16_t>& out) const {
  if (is_all()) return window;
  out.resize(window.size());
  for (size_t i = 0; i < window.size(); ++i) out[i] = row_of_id_[window[i]];
  return out;
}

void realign_rows(std::span<const float> in, const VocabMap& from, std::span<float> out, const VocabMap& to,
                  size_t width) {
  const std::span<const int32_t> have = from.ids(), want = to.ids();
  size_t i = 0;
  for (size_t r = 0; r < want.size(); ++r) {
    while (i < have.size() && have[i] < want[r]) ++i;
    const auto dst = out.begin() + static_cast<ptrdiff_t>(r * width);
    if (i < have.size() && have[i] == want[r]) {
      std::copy_n(in.begin() + static_cast<ptrdiff_t>(i * width), width, dst);
    } else {
      std::fill_n(dst, width, 0.0f);
    }
  }
}

std::vector<std::string> vocab_tensor_names(const ModelConfig& config) {
  if (config.shared_classifier) return {"embedding"};
  return {"embedding", "classifier"};
}

Expected<VocabChange> align_state(Checkpoint& ckpt, const VocabMap& map) {
  ANE_ASSIGN_OR_RETURN(ModelConfig config, ckpt.model_config());
  if (config.vocab_size != map.vocab_size()) {
    return invalid_argument("the checkpoint's vocabulary has " + std::to_string(config.vocab_size) + " ids, the run's " +
                            std::to_string(map.vocab_size()));
  }
  // the ids the saved moments cover
  const VocabMap every_id = VocabMap::all(config.vocab_size);
  VocabMap saved = every_id;
  const auto ids_tensor = std::find_if(ckpt.tensors.begin(), ckpt.tensors.end(),
                                       [](const NamedTensor& t) { return t.name == kActiveIdsTensor; });
  if (ids_tensor != ckpt.tensors.end()) {
    auto ids = ids_tensor->values<int32_t>();
    auto of = ids ? VocabMap::of(std::move(*ids), config.vocab_size) : Expected<VocabMap>(ids.error());
    if (!of) return of.error().with_context(std::string("checkpoint tensor '") + kActiveIdsTensor + "'");
    saved = std::move(*of);
    ckpt.tensors.erase(ids_tensor);
  }
  const bool moments_aligned = saved == map;
  const size_t D = z(config.dim);
  const std::vector<uint64_t> shape{static_cast<uint64_t>(map.rows()), D};
  for (const std::string& name : vocab_tensor_names(config)) {
    if (!map.is_all()) {
      const std::string model = "model." + name;
      ANE_ASSIGN_OR_RETURN(std::vector<float> full, rows_of(ckpt, model, config.vocab_size, D));
      *ckpt.find(model) = NamedTensor::of<float>(model, shape, gather_rows(full, every_id, map, D));
    }
    if (moments_aligned) continue;
    for (const char* moment : {"adam.m.", "adam.v."}) {
      const std::string n = moment + name;
      ANE_ASSIGN_OR_RETURN(std::vector<float> rows, rows_of(ckpt, n, saved.rows(), D));
      *ckpt.find(n) = NamedTensor::of<float>(n, shape, gather_rows(rows, saved, map, D));
    }
  }
  ModelConfig trained = config;
  trained.vocab_size = static_cast<int>(map.rows());
  ANE_RETURN_IF_ERROR(ckpt.set_model_config(trained));
  // ids in one set and not the other, by a merge of the two ascending lists
  VocabChange change;
  const std::span<const int32_t> a = saved.ids(), b = map.ids();
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i] < b[j])) {
      ++change.dropped, ++i;
    } else if (i == a.size() || b[j] < a[i]) {
      ++change.added, ++j;
    } else {
      ++i, ++j;
    }
  }
  return change;
}

Expected<RunVocab> RunVocab::split(ModelWeights& weights, VocabMap map) {
  if (map.vocab_size() != weights.config.vocab_size) {
    return invalid_argument("a vocabulary map of " + std::to_string(map.vocab_size()) + " ids for a model of " +
                            std::to_string(weights.config.vocab_size));
  }
  RunVocab v;
  v.map_ = std::move(map);
  if (!v.compacted()) return v;
  const size_t D = z(weights.config.dim);
  const VocabMap every_id = VocabMap::all(weights.config.vocab_size);
  v.embedding_ = std::move(weights.embedding);
  weights.embedding = gather_rows(v.embedding_, every_id, v.map_, D);
  if (!weights.config.shared_classifier) {
    v.classifier_ = std::move(weights.classifier);
    weights.classifier = gather_rows(v.classifier_, every_id, v.map_, D);
  }
  weights.config.vocab_size = static_cast<int>(v.map_.rows());
  return v;
}

void RunVocab::scatter(const ModelWeights& trained) {
  const size_t D = z(trained.config.dim);
  auto put = [&](const std::vector<float>& rows, std::vector<float>& full) {
    for (size_t r = 0; r < z(map_.rows()); ++r) {
      std::copy_n(rows.begin() + static_cast<ptrdiff_t>(r * D), D, full.begin() + static_cast<ptrdiff_t>(z(map_.ids()[r]) * D));
    }
  };
  put(trained.embedding, embedding_);
  if (!trained.config.shared_classifier) put(trained.classifier, classifier_);
}

std::vector<TensorView> RunVocab::state_tensors(const Trainer& trainer) {
  std::vector<TensorView> views = trainer.state_tensors();
  if (!compacted()) return views;
  scatter(trainer.weights());
  const std::vector<uint64_t> shape{static_cast<uint64_t>(map_.vocab_size()), static_cast<uint64_t>(trainer.config().dim)};
  for (TensorView& v : views) {
    if (v.name == "model.embedding") v = TensorView::of<float>(v.name, shape, embedding_);
    if (v.name == "model.classifier") v = TensorView::of<float>(v.name, shape, classifier_);
  }
  views.push_back(TensorView::of<int32_t>(kActiveIdsTensor, {static_cast<uint64_t>(map_.rows())}, map_.ids()));
  return views;
}

nlohmann::json RunVocab::state_meta(const Trainer& trainer) const {
  nlohmann::json meta = trainer.state_meta();
  ModelConfig full = trainer.config();
  full.vocab_size = static_cast<int>(map_.vocab_size());
  meta["model"] = full.to_json();
  return meta;
}

ModelWeights RunVocab::full_weights(const Trainer& trainer) {
  ModelWeights w = trainer.weights();
  if (!compacted()) return w;
  scatter(w);
  w.config.vocab_size = static_cast<int>(map_.vocab_size());
  w.embedding = embedding_;
  if (!w.config.shared_classifier) w.classifier = classifier_;
  return w;
}

}  // namespace ane::train
