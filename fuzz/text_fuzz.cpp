// libFuzzer target for the tokenizer: any bytes encode (byte fallback covers what the
// vocabulary lacks) and decode back to themselves, the property Tokenizer::decode_all states.
// The vocabulary is the seed corpus's trained BPE tokenizer (fuzz/make-seeds.sh).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "formats/tokenizer_file.h"
#include "text/tokenizer.h"

namespace {

const ane::Tokenizer& tokenizer() {
  static const ane::Tokenizer t = [] {
    auto file = ane::read_tokenizer_until_eof(ANE_FUZZ_CORPUS_DIR "/tokenizer/bpe512.bin");
    auto tok = file.ok() ? ane::Tokenizer::create(std::move(*file)) : ane::Expected<ane::Tokenizer>(file.error());
    if (!tok.ok()) {
      std::fprintf(stderr, "text_fuzz: %s\n", tok.error().to_string().c_str());
      std::abort();
    }
    return std::move(*tok);
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool eos : {false, true}) {
    const auto ids = tokenizer().encode(text, /*bos=*/true, eos);
    auto back = tokenizer().decode_all(ids);
    if (!back.ok() || *back != text) {
      std::fprintf(stderr, "text_fuzz: %zu bytes do not decode back to themselves: %s\n", size,
                   back.ok() ? "other text" : back.error().to_string().c_str());
      std::abort();
    }
  }
  return 0;
}
