// JSON text parsing shared by the formats that embed JSON: nlohmann's exceptions become
// Errors with a byte offset, and nesting is limited before parsing (the parser recurses, so
// a file of a million '[' would otherwise overflow the stack).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace ane {

inline constexpr int kMaxJsonDepth = 256;

// Parses `text`, which starts at byte `base_offset` of `source`; `what` names it in errors
// ("model config", "checkpoint metadata"). Errors are kParse with the offending byte.
Expected<nlohmann::json> parse_json_text(std::string_view text, const std::string& source, uint64_t base_offset,
                                         const std::string& what);

}  // namespace ane
