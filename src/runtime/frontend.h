// The MIL front end as the Engine uses it: parse, verify, resolve weights.
//
// TEMPORARY (remove at merge): the parser, verifier and weight resolver are being written
// in parallel on other branches. frontend.cpp calls them when their headers exist
// (__has_include) and otherwise: parse fails with kUnsupported, verify accepts (programs
// built in tests are typed by hand), resolve_weights fails only if a BLOBFILE constant
// lacks data. Once mil/parser.h, mil/verifier.h and mil/weights.h are merged, delete the
// fallbacks (and, if wanted, this indirection).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "mil/ir.h"
#include "runtime/engine.h"

namespace ane::frontend {

Expected<std::unique_ptr<mil::Program>> parse(std::string_view text, std::string source_name);
Status verify(const mil::Program& program);
Status resolve_weights(mil::Program& program, const WeightMap& weights);

// True when each real implementation is compiled in (tests skip what is missing).
bool has_parser();
bool has_verifier();
bool has_weight_resolver();

}  // namespace ane::frontend
