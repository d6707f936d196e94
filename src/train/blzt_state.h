// The trainer's state in the original's BLZT checkpoint format, both ways, for stories-shaped
// models (no qk-norm, tied classifier): weights, Adam moments, step and Adam step. BLZT keeps
// no loss-scale or data state; a run resumed from it starts the loss scaler afresh (which
// changes nothing until the first overflow or the first growth of the scale).
#pragma once

#include <memory>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "formats/blzt_checkpoint.h"
#include "formats/checkpoint.h"
#include "train/vocab.h"

namespace ane::train {

// What a BLZT header records of the run beside the state.
struct BlztRunInfo {
  int64_t total_steps = 0;
  double lr = 0;    // the learning rate of the next step
  double loss = 0;  // the last step's
  double compile_ms = 0, train_ms = 0, wall_ms = 0;  // cumulative
};

// Saves a run's checkpoint state, `meta` and `tensors` as the run saves them, as a BLZT file
// (version 2 when multi-head with head_dim * n_heads == dim, else 4), streamed from the
// tensors: nothing is copied but one realigned moment array. BLZT holds every id's moments:
// those of the vocabulary tensors, saved for the rows of `moments_map`, are zero for the other
// ids.
Status save_blzt_state(const std::string& path, const nlohmann::json& meta, std::span<const TensorView> tensors,
                       const VocabMap& moments_map, const BlztRunInfo& run);
// A BLZT file as the OANECKPT state Trainer::restore_state() reads, its tensors left in the
// mapped file (NamedTensor::file): reading them hands their pages back.
Expected<Checkpoint> checkpoint_from_blzt(std::shared_ptr<const MappedFile> file, const std::string& source);

}  // namespace ane::train
