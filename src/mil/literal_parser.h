// Internal to the MIL text parser: types and literals (`tensor<fp16, [2]>([1, 2])`, `fp16(0.5)`,
// `tensor<string, []>("valid")`, BLOBFILE weights). Failures throw ParseFailure (lexer.h).
#pragma once

#include <cstdint>
#include <string>

#include "mil/ir.h"
#include "mil/lexer.h"

namespace ane::mil::text {

// Limits that keep hostile input bounded in time, memory and stack depth.
inline constexpr int kMaxRank = 32;
inline constexpr int kMaxNesting = 64;                   // nested element lists `[[[...]]]`
inline constexpr int64_t kMaxElements = int64_t{1} << 48;

// `tensor<DTYPE, [d0, ...]>` or a scalar dtype name (`fp16`).
TensorType parse_type(Cursor& c);

// True when the next tokens start a literal: `DTYPE(` or `tensor<`.
bool at_literal(const Cursor& c);

// A literal in short or verbose form, or a BLOBFILE reference. Floats are rounded to the
// dtype; integers are range checked; the element count must match the shape.
Constant parse_literal(Cursor& c);

// A `"..."` token's text with its escapes decoded.
std::string parse_string_token(Cursor& c, std::string_view what);

}  // namespace ane::mil::text
