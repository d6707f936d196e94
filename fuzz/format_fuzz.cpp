// libFuzzer target for one file format, chosen at build time (ANE_FUZZ_FAMILY, e.g. "llama2"):
// the reader and property of that entry of format_checks(); a broken property aborts with
// what broke.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "format_checks.h"

namespace {

ane::fuzz::Check the_check() {
  for (const ane::fuzz::FormatCheck& f : ane::fuzz::format_checks()) {
    if (std::string_view(f.family) == ANE_FUZZ_FAMILY) return f.check;
  }
  std::fprintf(stderr, "no format family '%s' in format_checks()\n", ANE_FUZZ_FAMILY);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ane::fuzz::Check check = the_check();
  const ane::fuzz::Verdict verdict = check({data, size});
  if (!verdict.failure.empty()) {
    std::fprintf(stderr, "%s: %s\n", ANE_FUZZ_FAMILY, verdict.failure.c_str());
    std::abort();
  }
  return 0;
}
