// The generation loop of llama2.c's run.c: feed the prompt, then sample one token per
// position, stopping at BOS or after `steps` positions.
#pragma once

#include <functional>
#include <span>

#include "core/status.h"
#include "infer/sampler.h"
#include "infer/transformer.h"

namespace ane {

inline constexpr int kBosToken = 1;  // llama2.c's BOS: also ends a generated sequence

// Called once per position with the token just run and the one that follows it (a forced
// prompt token or a sampled one), so a decoder can see the previous token as run.c's does.
using TokenCallback = std::function<void(int prev, int next)>;

struct GenerateStats {
  int positions = 0;         // forward passes run
  int prompt_tokens = 0;     // of which fed from the prompt (the last prompt token is sampled from)
  double seconds = 0;        // wall time of the loop
  double tokens_per_second() const { return seconds > 0 ? positions / seconds : 0; }
};

// Runs from position 0 of a fresh KV cache (the model's cache is overwritten). `prompt`
// must be non-empty and fit in the steps; steps <= 0 or > seq_len means seq_len, as in
// run.c (which silently cut a longer prompt). The callback is not called for the stopping BOS.
Expected<GenerateStats> generate(InferenceModel& model, std::span<const int> prompt, int steps, Sampler& sampler,
                                 const TokenCallback& on_token);

}  // namespace ane
