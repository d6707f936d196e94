// TEMPORARY guards: see frontend.h. At merge, keep only the #if branches.
#include "runtime/frontend.h"

#include <type_traits>

#if __has_include("mil/parser.h")
#include "mil/parser.h"
#define ANE_HAVE_MIL_PARSER 1
#else
#define ANE_HAVE_MIL_PARSER 0
#endif
#if __has_include("mil/verifier.h")
#include "mil/verifier.h"
#define ANE_HAVE_MIL_VERIFIER 1
#else
#define ANE_HAVE_MIL_VERIFIER 0
#endif
#if __has_include("mil/weights.h")
#include "mil/weights.h"
#define ANE_HAVE_MIL_WEIGHTS 1
#else
#define ANE_HAVE_MIL_WEIGHTS 0
#endif

namespace ane::frontend {

bool has_parser() { return ANE_HAVE_MIL_PARSER; }
bool has_verifier() { return ANE_HAVE_MIL_VERIFIER; }
bool has_weight_resolver() { return ANE_HAVE_MIL_WEIGHTS; }

Expected<std::unique_ptr<mil::Program>> parse(std::string_view text, std::string source_name) {
#if ANE_HAVE_MIL_PARSER
  return mil::parse_program(text, std::move(source_name));
#else
  (void)text;
  return Error(ErrorCode::kUnsupported, source_name + ": MIL text parsing is not in this build (mil/parser.h missing)");
#endif
}

Status verify(const mil::Program& program) {
#if ANE_HAVE_MIL_VERIFIER
  return mil::verify(program);
#else
  (void)program;
  return {};
#endif
}

Status resolve_weights(mil::Program& program, const WeightMap& weights) {
#if ANE_HAVE_MIL_WEIGHTS
  static_assert(std::is_same_v<WeightMap, mil::WeightMap>);
  return mil::resolve_weights(program, weights);
#else
  (void)weights;
  for (const auto& fn : program.functions) {
    for (const auto& v : fn->values) {
      if (v->is_constant() && v->constant->blob && !v->constant->has_data()) {
        return Error(ErrorCode::kUnsupported, "weight '" + v->name + "' (" + v->constant->blob->path +
                                                  "): weight resolution is not in this build (mil/weights.h missing)",
                     v->loc);
      }
    }
  }
  return {};
#endif
}

}  // namespace ane::frontend
