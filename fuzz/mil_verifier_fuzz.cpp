// libFuzzer target for the MIL verifier: whatever text parses, verify() must give a verdict
// (ok, or an error) without crashing, hanging or leaking: it infers shapes from sizes and
// attributes the text chose.
#include <string_view>

#include "mil/parser.h"
#include "mil/verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto program = ane::mil::parse_program(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.mil");
  if (program.ok()) (void)ane::mil::verify(**program);
  return 0;
}
