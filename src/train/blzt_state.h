// The trainer's state in the original's BLZT checkpoint format, both ways, for stories-shaped
// models (no qk-norm, tied classifier): weights, Adam moments, step and Adam step. BLZT keeps
// no loss-scale or data state; a run resumed from it starts the loss scaler afresh (which
// changes nothing until the first overflow or the first growth of the scale).
#pragma once

#include "formats/blzt_checkpoint.h"
#include "formats/checkpoint.h"
#include "train/trainer.h"

namespace ane::train {

// BLZT of the trainer's current state (version 2 when multi-head with head_dim * n_heads ==
// dim, else 4); `loss` and the cumulative times fill the header's fields.
Expected<BlztCheckpoint> blzt_from_trainer(const Trainer& trainer, int64_t total_steps, double loss,
                                           double compile_ms, double train_ms, double wall_ms);
// A BLZT checkpoint as the OANECKPT state Trainer::restore_state() reads.
Expected<Checkpoint> checkpoint_from_blzt(const BlztCheckpoint& blzt);

}  // namespace ane::train
