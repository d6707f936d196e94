// libFuzzer target for one file format, chosen at build time (ANE_FUZZ_FAMILY, e.g. "llama2"):
// the reader and property of that entry of format_checks(); a broken property aborts with
// what broke.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "format_checks.h"

namespace {

const ane::fuzz::FormatCheck& find_format() {
  for (const ane::fuzz::FormatCheck& f : ane::fuzz::format_checks()) {
    if (std::string_view(f.family) == ANE_FUZZ_FAMILY) return f;
  }
  std::fprintf(stderr, "no format family '%s' in format_checks()\n", ANE_FUZZ_FAMILY);
  std::abort();
}

const ane::fuzz::FormatCheck& the_format = find_format();

}  // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

// libFuzzer's own mutations, then, for every other input of a format with checksums, the
// format's repair: without it nearly every mutation stops at the first checksum.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  size = LLVMFuzzerMutate(data, size, max_size);
  const ane::fuzz::Repair repair = the_format.repair;
  if (repair == nullptr || seed % 2 == 0) return size;
  std::vector<uint8_t> bytes(data, data + size);
  repair(bytes);
  std::copy(bytes.begin(), bytes.end(), data);
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ane::fuzz::Verdict verdict = the_format.check({data, size});
  if (!verdict.failure.empty()) {
    std::fprintf(stderr, "%s: %s\n", ANE_FUZZ_FAMILY, verdict.failure.c_str());
    std::abort();
  }
  return 0;
}
