// `ane generate`: text generation from a llama2.c model or a checkpoint, as llama2.c's run.c.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>

#include "core/thread_pool.h"
#include "formats/model_weights.h"
#include "infer/generate.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace ane::cli {
namespace {

constexpr const char* kUsage =
    "usage: ane generate --model FILE --prompt-ids IDS [options]\n\n"
    "Generates tokens as llama2.c's run.c does: the prompt is fed, then each next token is sampled,\n"
    "until BOS (id 1) or --steps positions.\n\n"
    "  --model FILE        llama2.c model (v0, v1, v2), OpenANE checkpoint or BLZT checkpoint\n"
    "  --prompt-ids IDS    comma-separated token ids, e.g. 1,403,411 (default: 1, BOS alone)\n"
    "  --prompt TEXT       text prompt; needs --tokenizer\n"
    "  --tokenizer FILE    llama2.c tokenizer.bin, for --prompt and text output\n"
    "  --temperature T     0 = greedy (default 1.0)\n"
    "  --topp P            nucleus mass in [0, 1]; 0 or 1 = plain sampling (default 0.9)\n"
    "  --steps N           positions to run, 0 = seq_len (default 256)\n"
    "  --seed N            RNG seed, non-zero (default: the time)\n"
    "  --threads N         threads for the matmuls (default: physical cores)\n\n"
    "Without a tokenizer the tokens are printed as ids, one line.\n";

// Text of token `next` given the token before it.
using DecodeFn = std::function<std::string(int prev, int next)>;

std::string decode_as_id(int, int next) { return std::to_string(next) + " "; }

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

Status run_generate(const Args& a) {
  if (!a.has("model")) return invalid_argument("generate: --model is required (see --help)");
  if (a.has("prompt") || a.has("tokenizer")) {
    return Error(ErrorCode::kUnsupported,
                 "generate: --prompt and --tokenizer need the llama2.c tokenizer, which this build does not have yet; "
                 "give the prompt as --prompt-ids");
  }
  ANE_ASSIGN_OR_RETURN(std::vector<int> prompt, parse_ids(a.get("prompt-ids", "1")));
  ANE_ASSIGN_OR_RETURN(long long steps, a.get_int("steps", 256));
  ANE_ASSIGN_OR_RETURN(long long threads, a.get_int("threads", default_thread_count()));
  ANE_ASSIGN_OR_RETURN(SamplerOptions options, sampler_options(a));

  ANE_ASSIGN_OR_RETURN(ModelWeights weights, load_model_weights(a.get("model")));
  ANE_ASSIGN_OR_RETURN(InferenceModel model, InferenceModel::create(weights, static_cast<int>(threads)));
  ANE_ASSIGN_OR_RETURN(Sampler sampler, Sampler::create(weights.config.vocab_size, options));
  const DecodeFn decode = decode_as_id;
  auto print = [&](int prev, int next) {
    std::fputs(decode(prev, next).c_str(), stdout);
    std::fflush(stdout);
  };
  ANE_ASSIGN_OR_RETURN(GenerateStats stats, generate(model, prompt, static_cast<int>(steps), sampler, print));
  std::printf("\n");
  std::fflush(stdout);  // the ids before the report on stderr
  std::fprintf(stderr, "achieved tok/s: %.1f (%d positions in %.3f s, %d threads)\n", stats.tokens_per_second(),
               stats.positions, stats.seconds, static_cast<int>(threads));
  return {};
}

}  // namespace

int cmd_generate(const std::vector<std::string>& args) {
  auto parsed = Args::parse(args,
                            {"model", "prompt", "prompt-ids", "tokenizer", "temperature", "topp", "steps", "seed",
                             "threads"},
                            {"help"});
  if (!parsed) return report(parsed.error());
  if (parsed->has("help")) {
    std::printf("%s", kUsage);
    return 0;
  }
  Status s = run_generate(*parsed);
  return s.ok() ? 0 : report(s.error());
}

}  // namespace ane::cli
