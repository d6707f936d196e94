// MIL text -> Program. Reads what Core ML toolchains and the original ANE training code
// write (see FORMATS.md "MIL text"): `program(1.3)`, an optional buildInfo block, functions of
// typed SSA statements, short and verbose literals, hex floats and BLOBFILE weights.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "mil/ir.h"

namespace ane::mil {

// Parses a whole program. `source_name` (a file name) is used in error locations.
// Checks syntax, literal values (element counts, integer ranges, dtype names) and names
// (use before definition, redefinition, duplicate functions, function outputs, duplicate
// argument keys); op-specific typing is left to the verifier. Errors are kParse with the
// 1-based line:col of the offending token. The result holds no views into `text`.
//
// Representation notes: a const op's `val` becomes its result's Value::constant (and is not
// kept in Op::attributes); an inline literal argument becomes a kLiteral Value named
// "literal_<line>_<col>".
Expected<std::unique_ptr<Program>> parse_program(std::string_view text, std::string source_name);

}  // namespace ane::mil
