#include "formats/json_util.h"

namespace ane {
namespace {

// Offset of the first bracket nested deeper than kMaxJsonDepth, or npos. Brackets inside
// strings do not count.
size_t too_deep_at(std::string_view text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string_view::npos;
}

}  // namespace

Expected<nlohmann::json> parse_json_text(std::string_view text, const std::string& source, uint64_t base_offset,
                                         const std::string& what) {
  auto at = [&](uint64_t offset) { return Location::bytes(source, static_cast<int64_t>(base_offset + offset)); };
  if (size_t deep = too_deep_at(text); deep != std::string_view::npos) {
    return parse_error(what + ": JSON nested more than " + std::to_string(kMaxJsonDepth) + " levels deep", at(deep));
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {  // e.byte is 1-based
    return parse_error(what + ": invalid JSON: " + e.what(), at(e.byte > 0 ? e.byte - 1 : 0));
  } catch (const nlohmann::json::exception& e) {
    return parse_error(what + ": invalid JSON: " + e.what(), at(0));
  }
}

}  // namespace ane
