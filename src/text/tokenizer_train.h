// Training a byte-fallback BPE vocabulary with sentencepiece, with llama2.c's settings, and
// exporting it as a tokenizer.bin the way llama2.c's tokenizer.py does.
#pragma once

#include <string_view>

#include "core/status.h"
#include "formats/tokenizer_file.h"

namespace ane {

struct TokenizerTrainOptions {
  int vocab_size = 512;  // including <unk>, <s>, </s> and the 256 byte pieces
  bool verbose = false;  // let sentencepiece log its progress to stderr
};

// Trains on `corpus`, one sentence per line (empty lines are skipped), in memory. The same
// corpus and options always give the same vocabulary. Errors: sentencepiece's (e.g. a
// vocab_size the corpus cannot fill), or a corpus with no text.
Expected<TokenizerFile> train_tokenizer(std::string_view corpus, const TokenizerTrainOptions& options);

}  // namespace ane
