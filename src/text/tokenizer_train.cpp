#include "text/tokenizer_train.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

namespace ane {
namespace {

// sentencepiece's process-wide seed, fixed so that a version which samples stays deterministic.
constexpr unsigned kSeed = 1234;

// The lines of a corpus in memory, as sentencepiece's input.
class LineIterator : public sentencepiece::SentenceIterator {
 public:
  explicit LineIterator(const std::vector<std::string>* lines) : lines_(lines) {}
  bool done() const override { return i_ >= lines_->size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return (*lines_)[i_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>* lines_;  // not owned
  size_t i_ = 0;
};

std::vector<std::string> nonempty_lines(std::string_view corpus) {
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin < corpus.size()) {
    const size_t end = std::min(corpus.find('\n', begin), corpus.size());
    if (end > begin) lines.emplace_back(corpus.substr(begin, end - begin));
    begin = end + 1;
  }
  return lines;
}

Error sentencepiece_error(const sentencepiece::util::Status& s, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, "sentencepiece " + what + ": " + std::string(s.message()));
}

// sentencepiece's word-start mark, U+2581.
constexpr std::string_view kWordMark = "\u2581";

std::string with_spaces_for_word_marks(std::string_view piece) {
  std::string out;
  out.reserve(piece.size());
  for (size_t i = 0; i < piece.size();) {
    if (piece.substr(i).starts_with(kWordMark)) {
      out += ' ';
      i += kWordMark.size();
    } else {
      out += piece[i++];
    }
  }
  return out;
}

// tokenizer.py's export: the word mark becomes a space, <s> and </s> get newlines around them,
// byte pieces stay as their "<0xXX>" text.
TokenizerFile export_vocabulary(const sentencepiece::SentencePieceProcessor& sp) {
  TokenizerFile tok;
  const int n = sp.GetPieceSize();
  tok.entries.reserve(static_cast<size_t>(n));
  for (int id = 0; id < n; ++id) {
    std::string piece = id == sp.bos_id()   ? "\n<s>\n"
                        : id == sp.eos_id() ? "\n</s>\n"
                                            : with_spaces_for_word_marks(sp.IdToPiece(id));
    tok.entries.push_back({sp.GetScore(id), std::move(piece)});
  }
  tok.max_token_length = tok.longest_piece();
  return tok;
}

}  // namespace

Expected<TokenizerFile> train_tokenizer(std::string_view corpus, const TokenizerTrainOptions& options) {
  const std::vector<std::string> lines = nonempty_lines(corpus);
  if (lines.empty()) return invalid_argument("tokenizer training corpus has no text");
  size_t longest = 0;
  for (const auto& l : lines) longest = std::max(longest, l.size());

  const std::unordered_map<std::string, std::string> spec = {
      {"model_type", "bpe"},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"byte_fallback", "true"},
      {"character_coverage", "1.0"},
      {"split_digits", "true"},
      {"allow_whitespace_only_pieces", "true"},
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"unk_id", "0"},
      {"bos_id", "1"},
      {"eos_id", "2"},
      {"pad_id", "-1"},
      {"max_sentence_length", std::to_string(longest)},  // so that no line is dropped
      {"input_format", "text"},
      {"self_test_sample_size", "0"},
      {"num_threads", "1"},
      // A process-wide sentencepiece setting, so set on every call: 0 logs progress, 2 errors only.
      {"minloglevel", options.verbose ? "0" : "2"},
  };
  sentencepiece::SetRandomGeneratorSeed(kSeed);
  LineIterator it(&lines);
  std::string model;
  auto trained = sentencepiece::SentencePieceTrainer::Train(spec, &it, &model);
  if (!trained.ok()) return sentencepiece_error(trained, "training");

  sentencepiece::SentencePieceProcessor sp;
  auto loaded = sp.LoadFromSerializedProto(model);
  if (!loaded.ok()) return sentencepiece_error(loaded, "model");
  return export_vocabulary(sp);
}

}  // namespace ane
