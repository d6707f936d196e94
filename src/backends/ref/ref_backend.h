// The reference backend: every op as plain float64 loops, the ground truth that faster
// backends are tested against.
//
// Semantics (the ideal math, not a model of the ANE datapath):
//   - inputs are decoded exactly from their surface dtype to double;
//   - float ops compute in double with no intermediate rounding, whatever
//     CompileOptions::precision says (only `cast` rounds, because rounding is its meaning);
//   - values of integer dtype are kept integral after every op (truncated toward zero,
//     saturated), bool values are 0 or 1;
//   - outputs are encoded to their declared dtype as convert.h describes (fp16 round to
//     nearest even with overflow to inf; integers truncate toward zero and saturate).
// Single-threaded; CompileOptions::threads is ignored.
#pragma once

#include <memory>

#include "backends/backend.h"

namespace ane {

// A new reference backend, owned by the caller. Its Executables do not refer back to it.
std::unique_ptr<Backend> make_reference_backend();

}  // namespace ane
