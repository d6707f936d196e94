// Text in and out of the generator for the `ane` commands: a tokenizer.bin loaded and checked
// against a model, a text prompt encoded as run.c does (BOS first), and generate() with each
// token decoded as run.c prints it (`ane generate`, the samples of `ane train`).
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "formats/model_config.h"
#include "infer/generate.h"
#include "text/tokenizer.h"

namespace ane::cli {

// A llama2.c tokenizer.bin, read to the end of the file; errors name the path.
Expected<Tokenizer> load_tokenizer(const std::string& path);

// Checks that the tokenizer (read from `path`, named in the error) has exactly the model's
// vocabulary, so that every prompt id is a model token and every sampled id has a piece.
Status check_vocab(const Tokenizer& tok, const std::string& path, const ModelConfig& config);

// BOS followed by the ids of `text` (nothing more when it is empty), as run.c encodes its
// prompt. Errors when the ids do not fit in the context of `seq_len` positions.
Expected<std::vector<int>> encode_prompt(const Tokenizer& tok, std::string_view text, int seq_len);

// Text of one generated token, in order; the view lives until the next call.
using TextCallback = std::function<void(std::string_view piece)>;

// generate() with every token after the first prompt token (BOS) passed to `on_text` as
// Tokenizer::decode(prev, next) gives it: the prompt's text, then the continuation; pieces
// that are a lone control byte are skipped (Tokenizer::printable).
Expected<GenerateStats> generate_text(InferenceModel& model, const Tokenizer& tok, std::span<const int> prompt,
                                      int steps, Sampler& sampler, const TextCallback& on_text);

}  // namespace ane::cli
