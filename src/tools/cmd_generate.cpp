// `ane generate`: text generation from a llama2.c model or a checkpoint, as llama2.c's run.c.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/thread_pool.h"
#include "formats/model_weights.h"
#include "infer/generate.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/text_generation.h"

namespace ane::cli {
namespace {

constexpr const char* kUsage =
    "usage: ane generate --model FILE [--tokenizer FILE --prompt TEXT | --prompt-ids IDS] [options]\n\n"
    "Generates tokens as llama2.c's run.c does: the prompt is fed, then each next token is sampled,\n"
    "until BOS (id 1) or --steps positions.\n\n"
    "  --model FILE        llama2.c model (v0, v1, v2), OpenANE checkpoint or BLZT checkpoint\n"
    "  --tokenizer FILE    llama2.c tokenizer.bin with the model's vocabulary: text output\n"
    "  --prompt TEXT       text prompt, encoded after BOS as run.c does; needs --tokenizer\n"
    "  --prompt-ids IDS    or comma-separated token ids, e.g. 1,403,411 (default: 1, BOS alone)\n"
    "  --temperature T     0 = greedy (default 1.0)\n"
    "  --topp P            nucleus mass in [0, 1]; 0 or 1 = plain sampling (default 0.9)\n"
    "  --steps N           positions to run, 0 = seq_len (default 256)\n"
    "  --seed N            RNG seed, non-zero (default: the time)\n"
    "  --threads N         threads for the matmuls (default: physical cores)\n\n"
    "With a tokenizer the prompt and the generated text are printed as they come; without one,\n"
    "the token ids, one line. The prompt (BOS included) must fit in the model's context.\n";

Expected<std::vector<int>> parse_ids(const std::string& text) {
  std::vector<int> ids;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 0 || v > INT32_MAX) {
      return invalid_argument("--prompt-ids: '" + item + "' is not a token id (expected e.g. 1,403,411)");
    }
    ids.push_back(static_cast<int>(v));
    start = comma + 1;
  }
  return ids;
}

Expected<SamplerOptions> sampler_options(const Args& a) {
  SamplerOptions o;
  ANE_ASSIGN_OR_RETURN(double temperature, a.get_double("temperature", 1.0));
  ANE_ASSIGN_OR_RETURN(double topp, a.get_double("topp", 0.9));
  ANE_ASSIGN_OR_RETURN(long long seed, a.get_int("seed", static_cast<long long>(std::time(nullptr))));
  o.temperature = static_cast<float>(temperature);
  o.topp = static_cast<float>(topp);
  o.seed = static_cast<uint64_t>(seed);
  return o;
}

// The prompt ids: --prompt encoded with the tokenizer, else --prompt-ids (default BOS alone).
Expected<std::vector<int>> prompt_ids(const Args& a, const Tokenizer* tok, const ModelConfig& config) {
  if (a.has("prompt") && a.has("prompt-ids")) return invalid_argument("generate: give --prompt or --prompt-ids, not both");
  if (a.has("prompt")) {
    if (!tok) return invalid_argument("generate: --prompt needs --tokenizer (or give the ids as --prompt-ids)");
    return encode_prompt(*tok, a.get("prompt"), config.seq_len);
  }
  ANE_ASSIGN_OR_RETURN(std::vector<int> ids, parse_ids(a.get("prompt-ids", "1")));
  if (ids.size() > static_cast<size_t>(config.seq_len)) {
    return invalid_argument("generate: the prompt is " + std::to_string(ids.size()) + " tokens, longer than the " +
                            std::to_string(config.seq_len) + "-token context of the model");
  }
  return ids;
}

Status run_generate(const Args& a) {
  if (!a.has("model")) return invalid_argument("generate: --model is required (see --help)");
  ANE_ASSIGN_OR_RETURN(long long steps, a.get_int("steps", 256));
  ANE_ASSIGN_OR_RETURN(long long threads, a.get_int("threads", default_thread_count()));
  ANE_ASSIGN_OR_RETURN(SamplerOptions options, sampler_options(a));

  ANE_ASSIGN_OR_RETURN(ModelWeights weights, load_model_weights(a.get("model")));
  std::optional<Tokenizer> tok;
  if (a.has("tokenizer")) {
    ANE_ASSIGN_OR_RETURN(tok, load_tokenizer(a.get("tokenizer")));
    ANE_RETURN_IF_ERROR(check_vocab(*tok, a.get("tokenizer"), weights.config));
  }
  ANE_ASSIGN_OR_RETURN(std::vector<int> prompt, prompt_ids(a, tok ? &*tok : nullptr, weights.config));
  ANE_ASSIGN_OR_RETURN(InferenceModel model, InferenceModel::create(weights, static_cast<int>(threads)));
  ANE_ASSIGN_OR_RETURN(Sampler sampler, Sampler::create(weights.config.vocab_size, options));
  GenerateStats stats;
  if (tok) {
    auto print = [](std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    };
    ANE_ASSIGN_OR_RETURN(stats, generate_text(model, *tok, prompt, static_cast<int>(steps), sampler, print));
  } else {
    auto print = [](int, int next) {
      std::printf("%d ", next);
      std::fflush(stdout);
    };
    ANE_ASSIGN_OR_RETURN(stats, generate(model, prompt, static_cast<int>(steps), sampler, print));
  }
  std::printf("\n");
  std::fflush(stdout);  // the text before the report on stderr
  std::fprintf(stderr, "achieved tok/s: %.1f (%d positions in %.3f s, %d threads)\n", stats.tokens_per_second(),
               stats.positions, stats.seconds, static_cast<int>(threads));
  return {};
}

}  // namespace

int cmd_generate(const std::vector<std::string>& args) {
  return run_command(args, {"model", "prompt", "prompt-ids", "tokenizer", "temperature", "topp", "steps", "seed", "threads"},
                     kUsage, run_generate);
}

}  // namespace ane::cli
