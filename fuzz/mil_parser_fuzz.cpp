// libFuzzer target for the MIL text front end: parse_program must never crash, hang or leak on
// any input, and whatever it accepts must survive print -> parse -> print unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mil/parser.h"
#include "mil/printer.h"

namespace {

[[noreturn]] void round_trip_failure(const char* what, const std::string& printed, const std::string& detail) {
  std::fprintf(stderr, "MIL round trip failed: %s\n%s\n--- printed program ---\n%s\n", what, detail.c_str(), printed.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ane::mil::parse_program(text, "fuzz.mil");
  if (!parsed.ok()) return 0;
  const std::string printed = ane::mil::print_program(**parsed);
  auto again = ane::mil::parse_program(printed, "printed.mil");
  if (!again.ok()) round_trip_failure("the printed program does not parse", printed, again.error().to_string());
  const std::string reprinted = ane::mil::print_program(**again);
  if (reprinted != printed) round_trip_failure("printing the reparsed program gives other text", printed, reprinted);
  return 0;
}
