#include "infer/generate.h"

#include "core/timer.h"

namespace ane {

Expected<GenerateStats> generate(InferenceModel& model, std::span<const int> prompt, int steps, Sampler& sampler,
                                 const TokenCallback& on_token) {
  if (prompt.empty()) return invalid_argument("generate: the prompt needs at least one token (e.g. BOS = 1)");
  const int seq_len = model.config().seq_len;
  if (steps <= 0 || steps > seq_len) steps = seq_len;
  const int prompt_size = static_cast<int>(prompt.size());
  if (prompt_size > steps) {
    return invalid_argument("generate: the prompt is " + std::to_string(prompt_size) + " tokens, more than the " +
                            std::to_string(steps) + " positions to run (raise --steps)");
  }

  GenerateStats stats;
  const Timer timer;
  int token = prompt[0];
  for (int pos = 0; pos < steps; ++pos) {
    ANE_ASSIGN_OR_RETURN(std::span<const float> logits, model.forward(token, pos));
    int next = 0;
    if (pos + 1 < prompt_size) {
      next = prompt[static_cast<size_t>(pos) + 1];
      ++stats.prompt_tokens;
    } else {
      ANE_ASSIGN_OR_RETURN(next, sampler.sample(logits));
    }
    ++stats.positions;
    if (next == kBosToken) break;
    if (on_token) on_token(token, next);
    token = next;
  }
  stats.seconds = timer.seconds();
  return stats;
}

}  // namespace ane
