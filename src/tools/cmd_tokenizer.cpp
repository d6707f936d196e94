// `ane tokenizer train`: a byte-fallback BPE vocabulary trained with sentencepiece, written
// as a llama2.c tokenizer.bin.
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "core/file.h"
#include "core/timer.h"
#include "formats/tokenizer_file.h"
#include "text/tokenizer_train.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace ane::cli {
namespace {

constexpr const char* kTokenizerHelp =
    "usage: ane tokenizer train --vocab N CORPUS.txt... -o tokenizer.bin [--verbose]\n"
    "\n"
    "Trains a BPE vocabulary of N tokens (<unk>, <s>, </s>, the 256 byte pieces <0x00>..<0xFF>\n"
    "and N - 259 learned pieces) on the corpus files, one sentence per line, with llama2.c's\n"
    "sentencepiece settings, and writes it in llama2.c's tokenizer.bin format. --verbose shows\n"
    "sentencepiece's own log.\n";

// The corpus files, joined with a line break so that no line spans two files.
Expected<std::string> read_corpus(const std::vector<std::string>& paths) {
  std::string corpus;
  for (const std::string& path : paths) {
    ANE_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
    corpus += text;
    if (!corpus.empty() && corpus.back() != '\n') corpus += '\n';
  }
  return corpus;
}

int train(const Args& args) {
  const auto& positional = args.positional();
  if (!args.has("out") || positional.size() < 2) {
    std::fprintf(stderr, "%s", kTokenizerHelp);
    return 2;
  }
  auto vocab = args.get_int("vocab", 0);
  if (!vocab) return report(vocab.error());
  if (*vocab < 260 || *vocab > std::numeric_limits<int>::max()) {
    return report(invalid_argument("--vocab must be at least 260 (<unk>, <s>, </s> and 256 byte pieces come first)"));
  }
  const std::vector<std::string> paths(positional.begin() + 1, positional.end());
  auto corpus = read_corpus(paths);
  if (!corpus) return report(corpus.error());

  Timer timer;
  auto tok = train_tokenizer(*corpus, {.vocab_size = static_cast<int>(*vocab), .verbose = args.has("verbose")});
  if (!tok) return report(tok.error().with_context("training on " + std::to_string(corpus->size()) + " bytes"));
  const std::string out = args.get("out");
  if (Status s = write_tokenizer(out, *tok); !s.ok()) return report(s.error());
  std::printf("%s: %zu tokens (longest piece %u bytes), trained on %zu bytes from %zu file(s) in %.1f s\n", out.c_str(),
              tok->vocab_size(), tok->max_token_length, corpus->size(), paths.size(), timer.seconds());
  return 0;
}

}  // namespace

int cmd_tokenizer(const std::vector<std::string>& args) {
  auto parsed = Args::parse(args, {"vocab", "out"}, {"help", "verbose"}, {{"-o", "out"}});
  if (!parsed) return report(parsed.error());
  if (parsed->has("help")) {
    std::printf("%s", kTokenizerHelp);
    return 0;
  }
  if (parsed->positional().empty() || parsed->positional()[0] != "train") {
    std::fprintf(stderr, "%s", kTokenizerHelp);
    return 2;
  }
  return train(*parsed);
}

}  // namespace ane::cli
