#include "tools/text_generation.h"

#include <optional>
#include <utility>

#include "formats/tokenizer_file.h"

namespace ane::cli {

Expected<Tokenizer> load_tokenizer(const std::string& path) {
  ANE_ASSIGN_OR_RETURN(TokenizerFile file, read_tokenizer_until_eof(path));
  auto tok = Tokenizer::create(std::move(file));
  if (!tok) return tok.error().with_context(path);
  return tok;
}

Status check_vocab(const Tokenizer& tok, const std::string& path, const ModelConfig& config) {
  if (tok.vocab_size() == config.vocab_size) return {};
  return invalid_argument("tokenizer " + path + " has " + std::to_string(tok.vocab_size()) + " tokens but the model's vocabulary has " +
                          std::to_string(config.vocab_size) + "; use the tokenizer the model was trained with");
}

Expected<std::vector<int>> encode_prompt(const Tokenizer& tok, std::string_view text, int seq_len) {
  const std::vector<int32_t> ids = tok.encode(text, /*bos=*/true, /*eos=*/false);
  if (ids.size() > static_cast<size_t>(seq_len)) {
    return invalid_argument("the prompt is " + std::to_string(ids.size()) + " tokens (with BOS), longer than the " +
                            std::to_string(seq_len) + "-token context of the model");
  }
  return std::vector<int>(ids.begin(), ids.end());
}

Expected<GenerateStats> generate_text(InferenceModel& model, const Tokenizer& tok, std::span<const int> prompt,
                                      int steps, Sampler& sampler, const TextCallback& on_text) {
  std::optional<Error> failed;  // the first token without a piece; the rest are skipped
  auto on_token = [&](int prev, int next) {
    if (failed) return;
    auto piece = tok.decode(prev, next);
    if (!piece) {
      failed = piece.error();
      return;
    }
    if (Tokenizer::printable(*piece)) on_text(*piece);
  };
  auto stats = generate(model, prompt, steps, sampler, on_token);
  if (!stats) return stats;
  if (failed) return failed->with_context("decoding the generated tokens");
  return stats;
}

}  // namespace ane::cli
