// Program -> canonical MIL text, the only way OpenANE writes MIL. parse_program() reads the
// output back to the same program: print(parse(print(p))) == print(p).
#pragma once

#include <string>

#include "mil/ir.h"

namespace ane::mil {

// The whole program: `program(1.3)`, the buildInfo block if any, then the functions with
// statements indented by 4 spaces per level. Scalars use the short form (`fp16(0.5)`), floats
// print as the shortest decimal that parses back to the same bits, inline literals inline.
std::string print_program(const Program& program);

// One literal as it appears in MIL text: `int32(1)`, `tensor<int32, [2]>([1, 1])`,
// `tensor<fp16, [2, 2]>([[1.0, 2.0], [3.0, 4.0]])` or a BLOBFILE reference.
std::string print_constant(const Constant& constant);

}  // namespace ane::mil
