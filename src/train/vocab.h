// Vocabulary compaction, as the original trains Qwen3's 151936-entry vocabulary: a run trains
// only the token ids its data uses. The rows of those ids in the vocabulary tensors (the
// embedding, and the classifier when unshared) are gathered in id order into a model whose
// vocabulary is that active set, and every window is remapped to row numbers before the
// trainer sees it, so the trainer and the kernels are unchanged and the softmax runs over the
// active ids only. The full-vocabulary tensors stay beside the trainer: the rows of ids that
// never occur keep their values, and the trained rows are scattered back before each save, so
// a checkpoint's "model.*" tensors are a whole model every consumer reads.
//
// A checkpoint of a compacted run holds the Adam moments of the vocabulary tensors compact,
// with the ids of their rows in the int32 tensor "vocab.active_ids" (a checkpoint without it
// has moments for every id). A resume lines them up by id with the set it trains now.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "formats/checkpoint.h"
#include "formats/model_weights.h"
#include "train/trainer.h"

namespace ane::train {

// `ane train --compact-vocab`.
enum class CompactVocab {
  kAuto,  // compact when the data uses fewer than half of the vocabulary's ids
  kOn,
  kOff,
};

// Whether a run compacts, given how many distinct ids its data uses.
bool compacts(CompactVocab mode, int64_t data_ids, int64_t vocab_size);

// The checkpoint tensor holding the ids of the compact rows.
inline constexpr char kActiveIdsTensor[] = "vocab.active_ids";

// The ids whose rows a run trains, ascending: row r of a compact vocabulary tensor is the row
// of id ids()[r] of the full one.
class VocabMap {
 public:
  // Every id of the vocabulary: rows are ids.
  static VocabMap all(int64_t vocab_size);
  // `ids` must be ascending, unique, below vocab_size and below 65536 (data ids are uint16).
  static Expected<VocabMap> of(std::vector<int32_t> ids, int64_t vocab_size);

  int64_t rows() const { return static_cast<int64_t>(ids_.size()); }
  int64_t vocab_size() const { return vocab_size_; }
  bool is_all() const { return rows() == vocab_size_; }
  std::span<const int32_t> ids() const { return ids_; }

  // The window in row numbers: itself when every id is a row, else written to `out`.
  std::span<const uint16_t> remap(std::span<const uint16_t> window, std::vector<uint16_t>& out) const;

  bool operator==(const VocabMap& o) const { return vocab_size_ == o.vocab_size_ && ids_ == o.ids_; }

 private:
  int64_t vocab_size_ = 0;
  std::vector<int32_t> ids_;
  std::vector<uint16_t> row_of_id_;  // 65536 entries unless is_all()
};

// Rows of `width` floats laid out for `from` ([from.rows(), width]) copied into the layout of
// `to` by id; rows of ids that `from` lacks become zero.
void realign_rows(std::span<const float> in, const VocabMap& from, std::span<float> out, const VocabMap& to,
                  size_t width);

// Names of a model's vocabulary tensors (ModelWeights::tensors() names): "embedding", and
// "classifier" when unshared.
std::vector<std::string> vocab_tensor_names(const ModelConfig& config);

// How the ids a resumed run trains differ from those its checkpoint's moments cover.
struct VocabChange {
  int64_t added = 0;    // ids trained now without saved moments: they start from zero
  int64_t dropped = 0;  // ids no longer trained: their moments are dropped, their weights kept
};

// A saved state (the run's checkpoint, or one converted from BLZT), whose "model.*" tensors
// are full-vocabulary, in the shapes a trainer on `map` restores: the vocabulary tensors'
// rows gathered, their moments lined up by id, meta["model"] with vocab_size = map.rows(),
// "vocab.active_ids" removed.
Expected<VocabChange> align_state(Checkpoint& ckpt, const VocabMap& map);

// The vocabulary side of a run: its map and, when it compacts, the full-vocabulary tensors.
class RunVocab {
 public:
  // Keeps the full vocabulary tensors of `weights` and leaves it the model the trainer trains
  // (vocabulary tensors gathered by `map`, config.vocab_size = map.rows()); with a map of
  // every id, `weights` stays as it is.
  static Expected<RunVocab> split(ModelWeights& weights, VocabMap map);

  const VocabMap& map() const { return map_; }
  bool compacted() const { return !map_.is_all(); }

  // The trainer's checkpoint state, its own when not compacted, else with full-vocabulary
  // "model.*" tensors (the trained rows scattered back first), compact moments and
  // "vocab.active_ids"; views valid while the trainer and this object live unchanged.
  std::vector<TensorView> state_tensors(const Trainer& trainer);
  // The trainer's checkpoint meta with the full model's config.
  nlohmann::json state_meta(const Trainer& trainer) const;
  // A copy of the full model with the trained rows (for samples of a compacted run).
  ModelWeights full_weights(const Trainer& trainer);

 private:
  void scatter(const ModelWeights& trained);

  VocabMap map_;
  std::vector<float> embedding_, classifier_;  // full-vocabulary, when compacted()
};

}  // namespace ane::train
