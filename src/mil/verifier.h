// The MIL verifier: checks that a Program is well typed before anything compiles it.
// Rules: every op is known; its arguments match its schema and its shape rule holds; each
// op's declared output types equal the inferred ones; every argument is defined before use;
// no value name is defined twice; function inputs and outputs are tensors of a numeric dtype
// and every output is defined. Errors name the op type, its `name`, the argument and the
// rule, located at the op's line:col.
#pragma once

#include "core/status.h"
#include "mil/ir.h"

namespace ane::mil {

Status verify(const Program& program);
Status verify_function(const Function& fn);

}  // namespace ane::mil
