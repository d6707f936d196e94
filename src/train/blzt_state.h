// The trainer's state in the original's BLZT checkpoint format, both ways, for stories-shaped
// models (no qk-norm, tied classifier): weights, Adam moments, step and Adam step. BLZT keeps
// no loss-scale or data state; a run resumed from it starts the loss scaler afresh (which
// changes nothing until the first overflow or the first growth of the scale).
#pragma once

#include <span>

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

// BLZT of a run's checkpoint state, `meta` and `tensors` as the run saves them (version 2
// when multi-head with head_dim * n_heads == dim, else 4). BLZT holds every id's moments:
// those of the vocabulary tensors, saved for the rows of `moments_map`, are zero for the
// other ids.
Expected<BlztCheckpoint> blzt_from_state(const nlohmann::json& meta, std::span<const TensorView> tensors,
                                         const VocabMap& moments_map, const BlztRunInfo& run);
// A BLZT checkpoint as the OANECKPT state Trainer::restore_state() reads.
Expected<Checkpoint> checkpoint_from_blzt(const BlztCheckpoint& blzt);

}  // namespace ane::train
